//! The built-in registers (基础库): population (人口), legal entities (法人/市场主体) and the
//! e-licence library (电子证照库), as typed records with checked constructors, the declared
//! schema of each register, the whole-file row reader of a register import, and the strict
//! identity match (ID number or credit code PLUS exact name; zero or several is never a guess).
//!
//! Pure: no I/O; "today" is passed in where validity depends on it.

use crate::calendar::CivilDate;
use crate::case::ApplicantId;
use crate::codes::{CreditCode, Phone, RegionCode, ResidentId};
use crate::error::{ErrorCode, Issue};
use std::collections::HashSet;

/// The three built-in registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterKind {
    Population,
    LegalEntity,
    Licence,
}

/// The type of one declared field, for validation now and the quality report later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    ResidentId,
    CreditCode,
    /// A resident ID or a credit code.
    HolderId,
    Name,
    Text,
    Date,
    RegionCode,
    Phone,
    Sex,
    EntityStatus,
    LicenceStatus,
}

/// One declared field of a register's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Stable key (also accepted as a column header).
    pub key: &'static str,
    /// The column header as departments' files carry it.
    pub header: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// Personal data: encrypted at rest, shown masked.
    pub personal: bool,
}

const fn f(
    key: &'static str,
    header: &'static str,
    ty: FieldType,
    required: bool,
    personal: bool,
) -> FieldSpec {
    FieldSpec {
        key,
        header,
        ty,
        required,
        personal,
    }
}

const POPULATION_FIELDS: &[FieldSpec] = &[
    f(
        "id_number",
        "公民身份号码",
        FieldType::ResidentId,
        true,
        true,
    ),
    f("name", "姓名", FieldType::Name, true, true),
    f("sex", "性别", FieldType::Sex, true, false),
    f("birth_date", "出生日期", FieldType::Date, true, true),
    f("address", "户籍地址", FieldType::Text, true, true),
    f(
        "region",
        "户籍地行政区划代码",
        FieldType::RegionCode,
        true,
        false,
    ),
    f("phone", "联系电话", FieldType::Phone, false, true),
];

const ENTITY_FIELDS: &[FieldSpec] = &[
    f(
        "credit_code",
        "统一社会信用代码",
        FieldType::CreditCode,
        true,
        false,
    ),
    f("name", "名称", FieldType::Name, true, false),
    f("legal_rep_name", "法定代表人", FieldType::Name, true, true),
    f(
        "legal_rep_id",
        "法定代表人身份证号码",
        FieldType::ResidentId,
        true,
        true,
    ),
    f("address", "住所", FieldType::Text, true, false),
    f(
        "region",
        "住所行政区划代码",
        FieldType::RegionCode,
        true,
        false,
    ),
    f("business_scope", "经营范围", FieldType::Text, true, false),
    f("status", "登记状态", FieldType::EntityStatus, true, false),
    f("established", "成立日期", FieldType::Date, true, false),
];

const LICENCE_FIELDS: &[FieldSpec] = &[
    f("holder_id", "持证主体代码", FieldType::HolderId, true, true),
    f("holder_name", "持证主体名称", FieldType::Name, true, true),
    f("licence_type", "证照类型", FieldType::Text, true, false),
    f("number", "证照编号", FieldType::Text, true, false),
    f("issuer", "发证机构代码", FieldType::CreditCode, true, false),
    f("valid_from", "有效期起", FieldType::Date, true, false),
    f("valid_until", "有效期止", FieldType::Date, false, false),
    f("status", "证照状态", FieldType::LicenceStatus, true, false),
];

impl RegisterKind {
    pub const ALL: [RegisterKind; 3] = [Self::Population, Self::LegalEntity, Self::Licence];

    pub fn key(self) -> &'static str {
        match self {
            Self::Population => "population",
            Self::LegalEntity => "legal_entity",
            Self::Licence => "licence",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == k)
    }
    /// The register's name in the standard's wording.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Population => "人口基础库",
            Self::LegalEntity => "法人基础库",
            Self::Licence => "电子证照库",
        }
    }
    /// The kind of department that owns the register (its data administrator imports it); the
    /// department itself is chosen per region by configuration.
    pub fn owner_role(self) -> &'static str {
        match self {
            Self::Population => "公安机关",
            Self::LegalEntity => "市场监督管理部门",
            Self::Licence => "政务服务管理机构",
        }
    }
    /// Why the platform may hold and share this data.
    pub fn legal_basis(self) -> &'static str {
        match self {
            Self::Population => {
                "《中华人民共和国居民身份证法》；《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》（国发〔2018〕27号）"
            }
            Self::LegalEntity => {
                "《中华人民共和国市场主体登记管理条例》；《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》（国发〔2018〕27号）"
            }
            Self::Licence => {
                "《国务院办公厅关于加快推进电子证照扩大应用领域和全国互通互认的意见》（国办发〔2022〕3号）"
            }
        }
    }
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Self::Population => POPULATION_FIELDS,
            Self::LegalEntity => ENTITY_FIELDS,
            Self::Licence => LICENCE_FIELDS,
        }
    }
}

/// 性别, as GB 11643 encodes it (odd sequence digit: male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        match s.trim() {
            "男" | "1" | "M" | "m" | "male" => Ok(Self::Male),
            "女" | "2" | "F" | "f" | "female" => Ok(Self::Female),
            _ => Err(ErrorCode::UnknownEnumValue),
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Self::parse(k).ok()
    }
    /// The sex a resident ID encodes (its 17th character).
    pub fn of_id(id: &ResidentId) -> Self {
        let odd = id
            .reveal()
            .as_bytes()
            .get(16)
            .is_some_and(|d| (d - b'0') % 2 == 1);
        if odd { Self::Male } else { Self::Female }
    }
}

/// The birth date a resident ID encodes.
pub fn birth_date_of(id: &ResidentId) -> Option<CivilDate> {
    let d = id.reveal().get(6..14)?;
    CivilDate::parse(&format!(
        "{}-{}-{}",
        d.get(0..4)?,
        d.get(4..6)?,
        d.get(6..8)?
    ))
    .ok()
}

/// 登记状态 of a market entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityStatus {
    /// 存续（在营、开业、在册）
    Active,
    /// 吊销
    Revoked,
    /// 注销
    Cancelled,
}

impl EntityStatus {
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        match s.trim() {
            "存续" | "在营" | "开业" | "在册" | "active" => Ok(Self::Active),
            "吊销" | "revoked" => Ok(Self::Revoked),
            "注销" | "cancelled" => Ok(Self::Cancelled),
            _ => Err(ErrorCode::UnknownEnumValue),
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Cancelled => "cancelled",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Self::parse(k).ok()
    }
}

/// 证照状态 as the register records it; expiry by date is computed ([`Licence::status_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LicenceStatus {
    Valid,
    Revoked,
    Expired,
}

impl LicenceStatus {
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        match s.trim() {
            "有效" | "valid" => Ok(Self::Valid),
            "吊销" | "撤销" | "注销" | "revoked" => Ok(Self::Revoked),
            "过期" | "失效" | "expired" => Ok(Self::Expired),
            _ => Err(ErrorCode::UnknownEnumValue),
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Self::parse(k).ok()
    }
}

const NAME_MAX_CHARS: usize = 100;
const TEXT_MAX_CHARS: usize = 2_000;

/// A name as the register spells it: trimmed, inner runs of white space made one space, no
/// control characters, at most 100 characters. Matching compares this form exactly.
pub fn clean_name(s: &str) -> Result<String, ErrorCode> {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        return Err(ErrorCode::Required);
    }
    if joined.chars().any(char::is_control) {
        return Err(ErrorCode::InvalidInput);
    }
    if joined.chars().count() > NAME_MAX_CHARS {
        return Err(ErrorCode::TooLong);
    }
    Ok(joined)
}

fn clean_text(s: &str) -> Result<String, ErrorCode> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ErrorCode::Required);
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ErrorCode::InvalidInput);
    }
    if t.chars().count() > TEXT_MAX_CHARS {
        return Err(ErrorCode::TooLong);
    }
    Ok(t.to_string())
}

/// One person of the population register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: ResidentId,
    pub name: String,
    pub sex: Sex,
    pub birth_date: CivilDate,
    pub address: String,
    pub region: RegionCode,
    pub phone: Option<Phone>,
}

impl Person {
    /// Checks that sex and birth date agree with what the ID number encodes.
    pub fn new(
        id: ResidentId,
        name: &str,
        sex: Sex,
        birth_date: CivilDate,
        address: &str,
        region: RegionCode,
        phone: Option<Phone>,
    ) -> Result<Self, (&'static str, ErrorCode)> {
        let name = clean_name(name).map_err(|e| ("name", e))?;
        let address = clean_text(address).map_err(|e| ("address", e))?;
        if Sex::of_id(&id) != sex {
            return Err(("sex", ErrorCode::InconsistentValue));
        }
        if birth_date_of(&id) != Some(birth_date) {
            return Err(("birth_date", ErrorCode::InconsistentValue));
        }
        Ok(Self {
            id,
            name,
            sex,
            birth_date,
            address,
            region,
            phone,
        })
    }
}

/// One market entity of the legal-entity register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub code: CreditCode,
    pub name: String,
    pub legal_rep_name: String,
    pub legal_rep_id: ResidentId,
    pub address: String,
    pub region: RegionCode,
    pub business_scope: String,
    pub status: EntityStatus,
    pub established: CivilDate,
}

/// One record of the e-licence library (the simple form; the GB/T 36903 lifecycle comes later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    pub holder: ApplicantId,
    pub holder_name: String,
    pub licence_type: String,
    pub number: String,
    pub issuer: CreditCode,
    pub valid_from: CivilDate,
    pub valid_until: Option<CivilDate>,
    pub status: LicenceStatus,
}

impl Licence {
    /// The status on `today`: a valid licence past its last day is expired, one not yet in
    /// force is not valid either (reported as expired, the nearest the register has).
    pub fn status_on(&self, today: CivilDate) -> LicenceStatus {
        match self.status {
            LicenceStatus::Valid
                if today < self.valid_from || self.valid_until.is_some_and(|u| today > u) =>
            {
                LicenceStatus::Expired
            }
            s => s,
        }
    }
}

/// A record that has an identity to match on.
pub trait Identified {
    /// The ID number or credit code, in full.
    fn identity(&self) -> String;
    /// The name as registered.
    fn name(&self) -> &str;
}

impl Identified for Person {
    fn identity(&self) -> String {
        self.id.reveal().to_string()
    }
    fn name(&self) -> &str {
        &self.name
    }
}
impl Identified for Entity {
    fn identity(&self) -> String {
        self.code.as_str().to_string()
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// The outcome of an identity match. Only `One` may be used; the others mean "please upload".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match<T> {
    One(T),
    None,
    /// Several records carry this identity and name: never a guess.
    Ambiguous(usize),
}

impl<T> Match<T> {
    pub fn one(self) -> Option<T> {
        match self {
            Match::One(t) => Some(t),
            _ => None,
        }
    }
}

/// The strict unique match: records whose identity equals `id` AND whose name equals `name`
/// (both in their cleaned form). Exactly one is a match; none or several are not.
pub fn unique_match<T: Identified>(
    candidates: impl IntoIterator<Item = T>,
    id: &ApplicantId,
    name: &str,
) -> Match<T> {
    let Ok(name) = clean_name(name) else {
        return Match::None;
    };
    let id = id.reveal();
    let mut hits: Vec<T> = candidates
        .into_iter()
        .filter(|c| c.identity() == id && c.name() == name)
        .collect();
    match hits.len() {
        0 => Match::None,
        1 => hits.pop().map_or(Match::None, Match::One),
        n => Match::Ambiguous(n),
    }
}

/// One checked row of a register file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterRecord {
    Person(Person),
    Entity(Entity),
    Licence(Licence),
}

impl RegisterRecord {
    /// The key a register holds once: ID number, credit code, or licence type + number.
    pub fn key(&self) -> String {
        match self {
            Self::Person(p) => p.id.reveal().to_string(),
            Self::Entity(e) => e.code.as_str().to_string(),
            Self::Licence(l) => format!("{}\u{1f}{}", l.licence_type, l.number),
        }
    }
}

/// The sheet name used in the issues of a register import.
pub const REGISTER_SHEET: &str = "register";

/// Reads a whole register file (header, then rows numbered as a spreadsheet shows them) into
/// records. Every problem is listed by row and field — unknown, missing or repeated columns,
/// missing values, bad check digits, inconsistent values, keys that appear twice — and then no
/// record is returned at all: a file is taken whole or not at all.
pub fn read_rows(
    kind: RegisterKind,
    header: &[String],
    rows: &[(u64, Vec<String>)],
) -> Result<Vec<RegisterRecord>, Vec<Issue>> {
    let fields = kind.fields();
    let mut issues = Vec::new();
    let at_header = |code| Issue::new(code).at(REGISTER_SHEET, 1);
    // Column of each declared field.
    let mut columns: Vec<Option<usize>> = vec![None; fields.len()];
    for (col, h) in header.iter().enumerate() {
        let h = h.trim();
        match fields.iter().position(|s| s.header == h || s.key == h) {
            Some(i) => match columns.get_mut(i) {
                Some(slot @ None) => *slot = Some(col),
                _ => issues.push(at_header(ErrorCode::DuplicateColumn).field(h)),
            },
            None => issues.push(at_header(ErrorCode::UnknownColumn).field(h)),
        }
    }
    for (spec, col) in fields.iter().zip(&columns) {
        if col.is_none() && spec.required {
            issues.push(at_header(ErrorCode::MissingColumn).field(spec.header));
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut records = Vec::with_capacity(rows.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(rows.len());
    for (number, cells) in rows {
        // More cells than headers: most often an address with an unquoted comma, which shifts
        // every later value; reported rather than read as something else.
        let extra = cells
            .iter()
            .skip(header.len())
            .any(|c| !c.trim().is_empty());
        if extra {
            issues.push(
                Issue::new(ErrorCode::MalformedFile)
                    .at(REGISTER_SHEET, *number)
                    .detail(format!("{} > {}", cells.len(), header.len())),
            );
            continue;
        }
        let mut row = RowReader {
            fields,
            columns: &columns,
            cells,
            number: *number,
            issues: &mut issues,
        };
        let Some(record) = row.record(kind) else {
            continue;
        };
        let key = record.key();
        if !seen.insert(key) {
            let field = fields.first().map_or("", |s| s.header);
            issues.push(
                Issue::new(ErrorCode::DuplicateKey)
                    .at(REGISTER_SHEET, *number)
                    .field(field),
            );
            continue;
        }
        records.push(record);
    }
    if issues.is_empty() {
        Ok(records)
    } else {
        Err(issues)
    }
}

struct RowReader<'a> {
    fields: &'static [FieldSpec],
    columns: &'a [Option<usize>],
    cells: &'a [String],
    number: u64,
    issues: &'a mut Vec<Issue>,
}

impl RowReader<'_> {
    fn spec(&self, key: &str) -> Option<(usize, &'static FieldSpec)> {
        self.fields.iter().enumerate().find(|(_, s)| s.key == key)
    }
    fn problem(&mut self, key: &str, code: ErrorCode, detail: Option<&str>) {
        let header = self.spec(key).map_or(key, |(_, s)| s.header);
        let mut issue = Issue::new(code)
            .at(REGISTER_SHEET, self.number)
            .field(header);
        if let Some(d) = detail {
            issue = issue.detail(d);
        }
        self.issues.push(issue);
    }
    /// The trimmed cell of a field; `None` when empty or absent.
    fn cell(&self, key: &str) -> Option<&str> {
        let (i, _) = self.spec(key)?;
        let col = (*self.columns.get(i)?)?;
        let v = self.cells.get(col)?.trim();
        (!v.is_empty()).then_some(v)
    }
    /// A required field parsed with `parse`, or a problem.
    fn req<T>(&mut self, key: &str, parse: impl Fn(&str) -> Result<T, ErrorCode>) -> Option<T> {
        let Some(v) = self.cell(key).map(str::to_string) else {
            self.problem(key, ErrorCode::Required, None);
            return None;
        };
        match parse(&v) {
            Ok(t) => Some(t),
            Err(code) => {
                // Masked detail: the value may be personal data.
                let personal = self.spec(key).is_some_and(|(_, s)| s.personal);
                let shown = if personal {
                    crate::codes::mask_middle(&v, 1, 1)
                } else {
                    v
                };
                self.problem(key, code, Some(&shown));
                None
            }
        }
    }
    fn opt<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ErrorCode>,
    ) -> Option<Option<T>> {
        match self.cell(key) {
            None => Some(None),
            Some(_) => self.req(key, parse).map(Some),
        }
    }

    fn record(&mut self, kind: RegisterKind) -> Option<RegisterRecord> {
        match kind {
            RegisterKind::Population => self.person().map(RegisterRecord::Person),
            RegisterKind::LegalEntity => self.entity().map(RegisterRecord::Entity),
            RegisterKind::Licence => self.licence().map(RegisterRecord::Licence),
        }
    }

    fn person(&mut self) -> Option<Person> {
        let id = self.req("id_number", parse_resident_id);
        let name = self.req("name", clean_name);
        let sex = self.req("sex", Sex::parse);
        let birth = self.req("birth_date", CivilDate::parse);
        let address = self.req("address", clean_text);
        let region = self.req("region", RegionCode::parse);
        let phone = self.opt("phone", Phone::parse);
        let (id, name, sex, birth, address, region, phone) =
            (id?, name?, sex?, birth?, address?, region?, phone?);
        match Person::new(id, &name, sex, birth, &address, region, phone) {
            Ok(p) => Some(p),
            Err((field, code)) => {
                self.problem(field, code, None);
                None
            }
        }
    }

    fn entity(&mut self) -> Option<Entity> {
        let code = self.req("credit_code", CreditCode::parse);
        let name = self.req("name", clean_name);
        let rep_name = self.req("legal_rep_name", clean_name);
        let rep_id = self.req("legal_rep_id", parse_resident_id);
        let address = self.req("address", clean_text);
        let region = self.req("region", RegionCode::parse);
        let scope = self.req("business_scope", clean_text);
        let status = self.req("status", EntityStatus::parse);
        let established = self.req("established", CivilDate::parse);
        Some(Entity {
            code: code?,
            name: name?,
            legal_rep_name: rep_name?,
            legal_rep_id: rep_id?,
            address: address?,
            region: region?,
            business_scope: scope?,
            status: status?,
            established: established?,
        })
    }

    fn licence(&mut self) -> Option<Licence> {
        let holder = self.req("holder_id", parse_holder);
        let holder_name = self.req("holder_name", clean_name);
        let licence_type = self.req("licence_type", clean_name);
        let number = self.req("number", clean_name);
        let issuer = self.req("issuer", CreditCode::parse);
        let from = self.req("valid_from", CivilDate::parse);
        let until = self.opt("valid_until", CivilDate::parse);
        let status = self.req("status", LicenceStatus::parse);
        let (from, until) = (from?, until?);
        if until.is_some_and(|u| u < from) {
            self.problem("valid_until", ErrorCode::InconsistentValue, None);
            return None;
        }
        Some(Licence {
            holder: holder?,
            holder_name: holder_name?,
            licence_type: licence_type?,
            number: number?,
            issuer: issuer?,
            valid_from: from,
            valid_until: until,
            status: status?,
        })
    }
}

/// A resident ID, telling a wrong check digit apart from a malformed number.
pub fn parse_resident_id(s: &str) -> Result<ResidentId, ErrorCode> {
    ResidentId::parse(s).map_err(|_| {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        match t.get(..17).map(ResidentId::with_check_char) {
            Some(Ok(_)) if t.len() == 18 => ErrorCode::ResidentIdCheckFailed,
            _ => ErrorCode::InvalidInput,
        }
    })
}

fn parse_holder(s: &str) -> Result<ApplicantId, ErrorCode> {
    match parse_resident_id(s) {
        Ok(id) => Ok(ApplicantId::Person(id)),
        Err(ErrorCode::ResidentIdCheckFailed) => Err(ErrorCode::ResidentIdCheckFailed),
        Err(_) => CreditCode::parse(s).map(ApplicantId::Organisation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(s17: &str) -> ResidentId {
        ResidentId::with_check_char(s17).unwrap()
    }
    fn person(id17: &str, name: &str) -> Person {
        let rid = id(id17);
        Person::new(
            rid.clone(),
            name,
            Sex::of_id(&rid),
            birth_date_of(&rid).unwrap(),
            "天津市津南区咸水沽镇",
            RegionCode::parse("120112").unwrap(),
            None,
        )
        .unwrap()
    }
    fn header(kind: RegisterKind) -> Vec<String> {
        kind.fields().iter().map(|f| f.header.to_string()).collect()
    }
    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_demo_applicant_id_encodes_a_woman_born_1980() {
        let rid = ResidentId::parse("12011219800101002X").unwrap();
        assert_eq!(Sex::of_id(&rid), Sex::Female);
        assert_eq!(birth_date_of(&rid), CivilDate::from_ymd(1980, 1, 1));
    }

    #[test]
    fn a_person_whose_sex_or_birth_date_contradicts_the_id_is_refused() {
        let rid = id("12011219800101001");
        let birth = birth_date_of(&rid).unwrap();
        let region = RegionCode::parse("120112").unwrap();
        let wrong_sex = match Sex::of_id(&rid) {
            Sex::Male => Sex::Female,
            Sex::Female => Sex::Male,
        };
        let r = Person::new(
            rid.clone(),
            "赵明",
            wrong_sex,
            birth,
            "津南区",
            region.clone(),
            None,
        );
        assert_eq!(r.unwrap_err(), ("sex", ErrorCode::InconsistentValue));
        let r = Person::new(
            rid.clone(),
            "赵明",
            Sex::of_id(&rid),
            birth.succ(),
            "津南区",
            region,
            None,
        );
        assert_eq!(r.unwrap_err(), ("birth_date", ErrorCode::InconsistentValue));
    }

    #[test]
    fn match_needs_the_id_and_the_exact_name() {
        let zhao = person("12011219800101002", "赵明");
        let other = person("12011219900202003", "钱芳");
        let pid = ApplicantId::Person(zhao.id.clone());
        let all = || vec![zhao.clone(), other.clone()];
        assert_eq!(
            unique_match(all(), &pid, " 赵明 "),
            Match::One(zhao.clone())
        );
        assert_eq!(unique_match(all(), &pid, "赵 明"), Match::None);
        assert_eq!(unique_match(all(), &pid, "钱芳"), Match::None);
        assert_eq!(unique_match(all(), &pid, ""), Match::None);
        let twice = vec![zhao.clone(), zhao.clone(), other];
        assert_eq!(unique_match(twice, &pid, "赵明"), Match::Ambiguous(2));
    }

    proptest! {
        #[test]
        fn a_match_is_never_a_guess(
            names in proptest::collection::vec(prop::sample::select(vec!["赵明", "钱芳", "孙丽"]), 0..6),
            ask in prop::sample::select(vec!["赵明", "钱芳", "孙丽"]),
        ) {
            let rid = id("12011219800101002");
            let pid = ApplicantId::Person(rid.clone());
            let people: Vec<Person> = names.iter().map(|n| person("12011219800101002", n)).collect();
            let expected = names.iter().filter(|n| **n == ask).count();
            match unique_match(people, &pid, ask) {
                Match::One(p) => prop_assert!(expected == 1 && p.name == ask && p.id == rid),
                Match::None => prop_assert_eq!(expected, 0),
                Match::Ambiguous(n) => prop_assert!(expected > 1 && n == expected),
            }
        }
    }

    #[test]
    fn a_clean_population_file_reads_whole() {
        let rows = vec![
            (
                2,
                s(&[
                    "12011219800101002X",
                    "赵明",
                    "女",
                    "1980-01-01",
                    "天津市津南区咸水沽镇红旗路1号",
                    "120112100000",
                    "",
                ]),
            ),
            (
                3,
                s(&[
                    id("12011219900202001").reveal(),
                    "钱 芳",
                    "男",
                    "1990-02-02",
                    "天津市津南区小站镇",
                    "120112102",
                    "13800138000",
                ]),
            ),
        ];
        let records = read_rows(
            RegisterKind::Population,
            &header(RegisterKind::Population),
            &rows,
        )
        .unwrap();
        assert_eq!(records.len(), 2);
        let RegisterRecord::Person(p) = &records[1] else {
            panic!("not a person")
        };
        assert_eq!(p.name, "钱 芳");
        assert_eq!(p.phone.as_ref().map(|x| x.reveal()), Some("13800138000"));
    }

    #[test]
    fn every_problem_is_listed_by_row_and_field_and_nothing_is_returned() {
        let mut h = header(RegisterKind::Population);
        h.push("备注".into());
        let zhao = s(&[
            "12011219800101002X",
            "赵明",
            "女",
            "1980-01-01",
            "津南区",
            "120112",
            "",
        ]);
        let mut bad_check = zhao.clone();
        bad_check[0] = "120112198001010021".into();
        let mut missing_name = zhao.clone();
        missing_name[1] = " ".into();
        missing_name[0] = id("12011219900202001").reveal().to_string();
        missing_name[3] = "1990-02-02".into();
        missing_name[2] = "男".into();
        let rows = vec![
            (2, zhao.clone()),
            (3, bad_check),
            (4, missing_name),
            (5, zhao),
        ];
        let issues = read_rows(RegisterKind::Population, &h, &rows).unwrap_err();
        // The unknown column is reported alone: rows are not read against a wrong header.
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, ErrorCode::UnknownColumn);
        assert_eq!(issues[0].field.as_deref(), Some("备注"));

        h.pop();
        let issues = read_rows(RegisterKind::Population, &h, &rows).unwrap_err();
        let found: Vec<(Option<u64>, Option<&str>, ErrorCode)> = issues
            .iter()
            .map(|i| (i.row, i.field.as_deref(), i.code))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    Some(3),
                    Some("公民身份号码"),
                    ErrorCode::ResidentIdCheckFailed
                ),
                (Some(4), Some("姓名"), ErrorCode::Required),
                (Some(5), Some("公民身份号码"), ErrorCode::DuplicateKey),
            ]
        );
        // Personal values are never echoed in full.
        assert!(
            issues
                .iter()
                .all(|i| i.detail.as_deref() != Some("120112198001010021"))
        );
    }

    #[test]
    fn missing_and_repeated_columns_are_reported() {
        let mut h = header(RegisterKind::LegalEntity);
        h.retain(|c| c != "名称");
        h.push("credit_code".into());
        let issues = read_rows(RegisterKind::LegalEntity, &h, &[]).unwrap_err();
        let codes: Vec<ErrorCode> = issues.iter().map(|i| i.code).collect();
        assert_eq!(
            codes,
            vec![ErrorCode::DuplicateColumn, ErrorCode::MissingColumn]
        );
    }

    #[test]
    fn licences_expire_by_date_and_revocation_sticks() {
        let lic = Licence {
            holder: ApplicantId::Person(id("12011219800101002")),
            holder_name: "赵明".into(),
            licence_type: "健康证明".into(),
            number: "JK-1".into(),
            issuer: CreditCode::parse("11120112MB1M05719N").unwrap(),
            valid_from: CivilDate::from_ymd(2026, 1, 1).unwrap(),
            valid_until: CivilDate::from_ymd(2026, 12, 31),
            status: LicenceStatus::Valid,
        };
        let d = |m, day| CivilDate::from_ymd(2026, m, day).unwrap();
        assert_eq!(lic.status_on(d(12, 31)), LicenceStatus::Valid);
        assert_eq!(
            lic.status_on(CivilDate::from_ymd(2027, 1, 1).unwrap()),
            LicenceStatus::Expired
        );
        let revoked = Licence {
            status: LicenceStatus::Revoked,
            ..lic
        };
        assert_eq!(revoked.status_on(d(6, 1)), LicenceStatus::Revoked);
    }

    #[test]
    fn an_unquoted_comma_and_bad_codes_in_an_entity_file_are_reported_where_they_are() {
        let h = header(RegisterKind::LegalEntity);
        let good = s(&[
            "91350100M000100Y43",
            "津南区小李面馆",
            "李强",
            "120112198506150036",
            "天津市津南区咸水沽镇津沽公路88号",
            "120112100000",
            "餐饮服务",
            "存续",
            "2024-03-01",
        ]);
        let mut shifted = good.clone();
        shifted.insert(4, "天津市津南区".into());
        let mut bad_codes = good.clone();
        bad_codes[0] = "91350100M000100Y44".into();
        bad_codes[3] = "120112198506150037".into();
        bad_codes[7] = "歇业中".into();
        let rows = vec![(2, shifted), (3, bad_codes), (4, good)];
        let issues = read_rows(RegisterKind::LegalEntity, &h, &rows).unwrap_err();
        let found: Vec<(Option<u64>, Option<&str>, ErrorCode)> = issues
            .iter()
            .map(|i| (i.row, i.field.as_deref(), i.code))
            .collect();
        assert_eq!(
            found,
            vec![
                (Some(2), None, ErrorCode::MalformedFile),
                (
                    Some(3),
                    Some("统一社会信用代码"),
                    ErrorCode::CreditCodeCheckFailed
                ),
                (
                    Some(3),
                    Some("法定代表人身份证号码"),
                    ErrorCode::ResidentIdCheckFailed
                ),
                (Some(3), Some("登记状态"), ErrorCode::UnknownEnumValue),
            ]
        );
    }

    #[test]
    fn the_import_guide_lists_every_declared_field() {
        let doc = include_str!("../../../docs/registers.md");
        for kind in RegisterKind::ALL {
            for spec in kind.fields() {
                let mark = if spec.personal { " ●" } else { "" };
                let required = if spec.required { "yes" } else { "no" };
                let start = format!("| {}{mark} | {} |", spec.header, spec.key);
                let line = doc.lines().find(|l| l.starts_with(&start));
                assert!(line.is_some(), "docs/registers.md lacks {start}");
                assert!(
                    line.is_some_and(|l| l.ends_with(&format!("| {required} |"))),
                    "docs/registers.md: {} required = {required}",
                    spec.key
                );
            }
        }
    }

    #[test]
    fn a_licence_ending_before_it_starts_is_refused() {
        let h = header(RegisterKind::Licence);
        let row = s(&[
            "91350100M000100Y43",
            "津南区小李面馆",
            "营业执照",
            "N1",
            "11120112MB1L902463",
            "2026-01-01",
            "2025-01-01",
            "有效",
        ]);
        let issues = read_rows(RegisterKind::Licence, &h, &[(2, row)]).unwrap_err();
        assert!(
            issues.iter().any(|i| i.field.as_deref() == Some("有效期止")
                && i.code == ErrorCode::InconsistentValue)
        );
    }
}
