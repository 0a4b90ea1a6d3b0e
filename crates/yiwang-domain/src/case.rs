//! Cases (办件) and applicants (申请人): the checked types of full online handling. The
//! workflow itself is in [`crate::workflow`]; storage is the store's.

use crate::calendar::CivilDate;
use crate::codes::{CreditCode, ImplCode, ResidentId};
use crate::enums::CodeSet;
use crate::error::ErrorCode;
use crate::forms::{Field, FieldKind, FormDefinition};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Digits of the daily sequence in a case number.
pub const CASE_SEQ_DIGITS: usize = 6;
/// The largest daily sequence a case number can carry.
pub const CASE_SEQ_MAX: i64 = 999_999;

/// 办件编号: the implementation code, the Beijing date of submission and a daily sequence,
/// e.g. `11120112MB0000000X-0001-20261130-000042`. Unique because the store hands out the
/// sequence per (implementation, date) prefix with an atomic counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    /// `<impl code>-<yyyymmdd>-`: what the sequence is counted per.
    pub fn prefix(impl_code: &ImplCode, day: CivilDate) -> String {
        let (y, m, d) = day.ymd();
        format!("{}-{y:04}{m:02}{d:02}-", impl_code.as_str())
    }

    /// The number for sequence `seq` (1-based) under `prefix`.
    pub fn new(prefix: &str, seq: i64) -> Result<Self, ErrorCode> {
        if !(1..=CASE_SEQ_MAX).contains(&seq) {
            return Err(ErrorCode::OutOfRange);
        }
        Self::parse(&format!("{prefix}{seq:0width$}", width = CASE_SEQ_DIGITS))
    }

    /// Accepts what [`CaseNumber::new`] produces: an implementation code, an eight-digit date
    /// and a six-digit sequence, separated by hyphens.
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        let s = s.trim();
        let bad = || ErrorCode::InvalidCaseNumber;
        let (rest, seq) = s.rsplit_once('-').ok_or_else(bad)?;
        let (code, date) = rest.rsplit_once('-').ok_or_else(bad)?;
        let digits = |v: &str, n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_digit());
        if !digits(seq, CASE_SEQ_DIGITS) || !digits(date, 8) {
            return Err(bad());
        }
        CivilDate::parse(&format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]))
            .map_err(|_| bad())?;
        ImplCode::parse(code).map_err(|_| bad())?;
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<CaseNumber> for String {
    fn from(c: CaseNumber) -> String {
        c.0
    }
}
impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an application came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSource {
    /// The applicant, on the portal or the API.
    Online,
    /// A window clerk registering a walk-in (窗口).
    Counter,
    /// A township or village service-point worker applying on the citizen's behalf (代办).
    Agent,
}

impl CodeSet for CaseSource {
    const GROUP: &'static str = "case_source";
    const ALL: &'static [Self] = &[CaseSource::Online, CaseSource::Counter, CaseSource::Agent];
    fn key(self) -> &'static str {
        match self {
            CaseSource::Online => "online",
            CaseSource::Counter => "counter",
            CaseSource::Agent => "agent",
        }
    }
    fn zh(self) -> &'static str {
        match self {
            CaseSource::Online => "网上申请",
            CaseSource::Counter => "窗口",
            CaseSource::Agent => "代办",
        }
    }
}

/// A natural person signs in with a resident ID, a legal person with a credit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicantId {
    Person(ResidentId),
    Organisation(CreditCode),
}

impl ApplicantId {
    /// A resident ID (18 characters with a valid date and check digit) or a credit code.
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        match ResidentId::parse(s) {
            Ok(id) => Ok(ApplicantId::Person(id)),
            Err(_) => CreditCode::parse(s)
                .map(ApplicantId::Organisation)
                .map_err(|_| ErrorCode::InvalidApplicantId),
        }
    }
    pub fn kind(&self) -> ApplicantKind {
        match self {
            ApplicantId::Person(_) => ApplicantKind::Natural,
            ApplicantId::Organisation(_) => ApplicantKind::Legal,
        }
    }
    /// The full value, for encryption and the blind index only.
    pub fn reveal(&self) -> String {
        match self {
            ApplicantId::Person(id) => id.reveal().to_string(),
            ApplicantId::Organisation(c) => c.as_str().to_string(),
        }
    }
    /// As shown on screens: resident IDs masked, credit codes (public) in full.
    pub fn masked(&self) -> String {
        match self {
            ApplicantId::Person(id) => id.to_string(),
            ApplicantId::Organisation(c) => c.as_str().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantKind {
    /// 自然人
    Natural,
    /// 法人
    Legal,
}

impl CodeSet for ApplicantKind {
    const GROUP: &'static str = "applicant_kind";
    const ALL: &'static [Self] = &[ApplicantKind::Natural, ApplicantKind::Legal];
    fn key(self) -> &'static str {
        match self {
            ApplicantKind::Natural => "natural",
            ApplicantKind::Legal => "legal",
        }
    }
    fn zh(self) -> &'static str {
        match self {
            ApplicantKind::Natural => "自然人",
            ApplicantKind::Legal => "法人",
        }
    }
}

/// What a line of a correction notice names: one of the case's materials (by its name), one
/// of its form fields (by its key), or a document the item's list does not have, named by the
/// clerk, which becomes an upload slot of its own. Stored and exchanged as `material:<name>`,
/// `field:<key>` and `new:<name>` (older notices hold only the first two).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CorrectionTarget {
    Material(String),
    Field(String),
    NewMaterial(String),
}

impl CorrectionTarget {
    /// `material:<name>`, `field:<key>` or `new:<name>`.
    pub fn parse(s: &str) -> Result<Self, ErrorCode> {
        if let Some(m) = s.strip_prefix("material:") {
            Ok(Self::Material(m.to_string()))
        } else if let Some(f) = s.strip_prefix("field:") {
            Ok(Self::Field(f.to_string()))
        } else if let Some(n) = s.strip_prefix("new:") {
            Ok(Self::NewMaterial(n.to_string()))
        } else {
            Err(ErrorCode::InvalidInput)
        }
    }
    /// The upload slot named (a listed material or a new one), if the target is one.
    pub fn material(&self) -> Option<&str> {
        match self {
            Self::Material(m) | Self::NewMaterial(m) => Some(m),
            Self::Field(_) => None,
        }
    }
    /// The form field named, if the target is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Field(k) => Some(k),
            Self::Material(_) | Self::NewMaterial(_) => None,
        }
    }
}

impl fmt::Display for CorrectionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Material(m) => write!(f, "material:{m}"),
            Self::Field(k) => write!(f, "field:{k}"),
            Self::NewMaterial(n) => write!(f, "new:{n}"),
        }
    }
}

impl TryFrom<String> for CorrectionTarget {
    type Error = ErrorCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<CorrectionTarget> for String {
    fn from(t: CorrectionTarget) -> String {
        t.to_string()
    }
}

/// One line of a correction notice (补正材料通知书): which material or form field, and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionItem {
    pub target: CorrectionTarget,
    /// The material's or field's name as the applicant sees it.
    pub label: String,
    /// What is missing or wrong, in the clerk's words.
    pub problem: String,
}

/// Most lines one correction notice may have, and the longest problem text.
pub const CORRECTION_MAX_ITEMS: usize = 50;
pub const CORRECTION_MAX_PROBLEM_CHARS: usize = 500;

/// Longest name of a new document slot (the store's limit for a material key).
pub const CORRECTION_MAX_NEW_NAME_CHARS: usize = 100;

/// Checks a correction list: at least one line, each naming a target and a problem, no target
/// twice.
pub fn check_correction(items: &[CorrectionItem]) -> Result<(), ErrorCode> {
    if items.is_empty() {
        return Err(ErrorCode::Required);
    }
    if items.len() > CORRECTION_MAX_ITEMS {
        return Err(ErrorCode::TooLong);
    }
    for (n, i) in items.iter().enumerate() {
        if i.label.trim().is_empty() {
            return Err(ErrorCode::InvalidInput);
        }
        if i.problem.trim().is_empty() {
            return Err(ErrorCode::Required);
        }
        if i.problem.chars().count() > CORRECTION_MAX_PROBLEM_CHARS {
            return Err(ErrorCode::TooLong);
        }
        if items.iter().take(n).any(|o| o.target == i.target) {
            return Err(ErrorCode::InvalidInput);
        }
    }
    Ok(())
}

/// What a case offers a correction to name: its materials' names and the keys of the form
/// fields the applicant can answer again on the case page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorrectionScope {
    pub materials: Vec<String>,
    pub fields: Vec<String>,
}

impl CorrectionScope {
    /// The scope of a case with materials `materials` and form `def`.
    pub fn of(materials: impl IntoIterator<Item = String>, def: &FormDefinition) -> Self {
        Self {
            materials: materials.into_iter().collect(),
            fields: correctable_fields(def).map(|f| f.key.clone()).collect(),
        }
    }
}

/// The top-level fields of a form a correction can name: those answered in one input (text,
/// number, date, identity number, credit code, phone); choices, addresses and groups are
/// corrected through a note on a material or a new document instead.
pub fn correctable_fields(def: &FormDefinition) -> impl Iterator<Item = &Field> {
    def.fields().filter(|f| {
        matches!(
            f.kind,
            FieldKind::Text
                | FieldKind::Textarea
                | FieldKind::Number
                | FieldKind::Date
                | FieldKind::ResidentId
                | FieldKind::CreditCode
                | FieldKind::Phone
        )
    })
}

/// Why a line of a correction list does not fit the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetProblem {
    /// A material or field the case does not have.
    Unknown,
    /// A new document slot with no name, a name too long or with control characters, or the
    /// name of a material the case already lists (name that material instead).
    BadNewName,
}

/// Checks every target of `items` against the case: listed materials and answerable fields
/// only, new slots with a clean name of their own. The first problem, with its line.
pub fn check_targets(
    items: &[CorrectionItem],
    scope: &CorrectionScope,
) -> Result<(), (usize, TargetProblem)> {
    for (n, i) in items.iter().enumerate() {
        let ok = match &i.target {
            CorrectionTarget::Material(m) => scope.materials.iter().any(|x| x == m),
            CorrectionTarget::Field(k) => scope.fields.iter().any(|x| x == k),
            CorrectionTarget::NewMaterial(name) => {
                let clean = name.trim() == name
                    && !name.is_empty()
                    && name.chars().count() <= CORRECTION_MAX_NEW_NAME_CHARS
                    && !name.chars().any(char::is_control);
                if !clean || scope.materials.iter().any(|x| x == name) {
                    return Err((n, TargetProblem::BadNewName));
                }
                true
            }
        };
        if !ok {
            return Err((n, TargetProblem::Unknown));
        }
    }
    Ok(())
}

/// The lines of a correction notice not yet answered (indexes into `items`), given the targets
/// the applicant has answered since the notice: a material or new slot by a new file, a field
/// by a new value. Resubmission (补正完成，重新提交) is allowed only when this is empty.
pub fn unanswered(items: &[CorrectionItem], answered: &[CorrectionTarget]) -> Vec<usize> {
    items
        .iter()
        .enumerate()
        .filter(|(_, i)| !answered.contains(&i.target))
        .map(|(n, _)| n)
        .collect()
}

/// [`unanswered`] as a rule: `Required` while a line is unanswered.
pub fn check_resubmission(
    items: &[CorrectionItem],
    answered: &[CorrectionTarget],
) -> Result<(), ErrorCode> {
    if unanswered(items, answered).is_empty() {
        Ok(())
    } else {
        Err(ErrorCode::Required)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn case_numbers_round_trip_and_reject_garbage() {
        let code = ImplCode::parse("11120112MB0000000X-0001").unwrap();
        let day = CivilDate::from_ymd(2026, 11, 30).unwrap();
        let p = CaseNumber::prefix(&code, day);
        let n = CaseNumber::new(&p, 42).unwrap();
        assert_eq!(n.as_str(), "11120112MB0000000X-0001-20261130-000042");
        assert_eq!(CaseNumber::parse(n.as_str()).unwrap(), n);
        assert!(CaseNumber::new(&p, 0).is_err());
        assert!(CaseNumber::new(&p, CASE_SEQ_MAX + 1).is_err());
        for bad in [
            "",
            "x",
            "A-20261130-00004",
            "A-20261330-000042",
            "A/B-20261130-000042",
            "A-2026113-000042",
        ] {
            assert_eq!(
                CaseNumber::parse(bad),
                Err(ErrorCode::InvalidCaseNumber),
                "{bad}"
            );
        }
    }

    #[test]
    fn applicant_ids_are_resident_ids_or_credit_codes() {
        let p = ApplicantId::parse("11010519491231002X").unwrap();
        assert_eq!(p.kind(), ApplicantKind::Natural);
        assert_eq!(p.masked(), "110105********002X");
        let o = ApplicantId::parse("91350100M000100Y43").unwrap();
        assert_eq!(o.kind(), ApplicantKind::Legal);
        assert_eq!(
            ApplicantId::parse("110105194912310021"),
            Err(ErrorCode::InvalidApplicantId)
        );
    }

    #[test]
    fn correction_lists_need_targets_and_problems() {
        let ok = CorrectionItem {
            target: CorrectionTarget::Material("3".into()),
            label: "营业执照".into(),
            problem: "复印件不清晰".into(),
        };
        assert!(check_correction(std::slice::from_ref(&ok)).is_ok());
        assert_eq!(check_correction(&[]), Err(ErrorCode::Required));
        assert_eq!(
            CorrectionTarget::parse("elsewhere"),
            Err(ErrorCode::InvalidInput)
        );
        for t in ["material:营业执照", "field:name"] {
            assert_eq!(CorrectionTarget::parse(t).unwrap().to_string(), t);
        }
        let json = serde_json::to_string(&ok).unwrap();
        assert!(json.contains(r#""target":"material:3""#), "{json}");
        assert_eq!(serde_json::from_str::<CorrectionItem>(&json).unwrap(), ok);
        let mut bad = ok.clone();
        bad.label = " ".into();
        assert_eq!(check_correction(&[bad]), Err(ErrorCode::InvalidInput));
        let mut empty = ok.clone();
        empty.problem = "  ".into();
        assert_eq!(check_correction(&[empty]), Err(ErrorCode::Required));
    }

    fn item(t: &str) -> CorrectionItem {
        CorrectionItem {
            target: CorrectionTarget::parse(t).unwrap(),
            label: t.to_string(),
            problem: "不清晰".into(),
        }
    }

    #[test]
    fn new_slots_are_stored_apart_and_old_targets_still_read() {
        let t = CorrectionTarget::parse("new:租赁合同").unwrap();
        assert_eq!(t, CorrectionTarget::NewMaterial("租赁合同".into()));
        assert_eq!(t.material(), Some("租赁合同"));
        assert_eq!(t.field(), None);
        assert_eq!(t.to_string(), "new:租赁合同");
        // A notice stored before new slots existed reads as it did.
        let old: Vec<CorrectionItem> = serde_json::from_str(
            r#"[{"target":"material:营业执照","label":"营业执照","problem":"模糊"},
                {"target":"field:phone","label":"电话","problem":"空号"}]"#,
        )
        .unwrap();
        assert_eq!(old[0].target.material(), Some("营业执照"));
        assert_eq!(old[1].target.field(), Some("phone"));
    }

    #[test]
    fn targets_must_belong_to_the_case() {
        let scope = CorrectionScope {
            materials: vec!["营业执照".into(), "法定代表人（负责人）居民身份证".into()],
            fields: vec!["phone".into()],
        };
        let good = [
            item("material:营业执照"),
            item("field:phone"),
            item("new:房屋租赁合同"),
        ];
        assert_eq!(check_targets(&good, &scope), Ok(()));
        // Free text that only resembles a material is refused, with its line.
        assert_eq!(
            check_targets(&[item("field:phone"), item("material:身份证")], &scope),
            Err((1, TargetProblem::Unknown))
        );
        assert_eq!(
            check_targets(&[item("field:business_name")], &scope),
            Err((0, TargetProblem::Unknown))
        );
        for bad in ["new:", "new: 合同", "new:营业执照", "new:a\u{7}b"] {
            assert_eq!(
                check_targets(&[item(bad)], &scope),
                Err((0, TargetProblem::BadNewName)),
                "{bad}"
            );
        }
        let long = format!("new:{}", "合".repeat(CORRECTION_MAX_NEW_NAME_CHARS + 1));
        assert_eq!(
            check_targets(&[item(&long)], &scope),
            Err((0, TargetProblem::BadNewName))
        );
    }

    #[test]
    fn a_target_is_named_once() {
        assert_eq!(
            check_correction(&[item("field:phone"), item("field:phone")]),
            Err(ErrorCode::InvalidInput)
        );
    }

    #[test]
    fn resubmission_needs_every_line_answered() {
        let items = [
            item("material:营业执照"),
            item("field:phone"),
            item("new:租赁合同"),
        ];
        let t = |s: &str| CorrectionTarget::parse(s).unwrap();
        assert_eq!(unanswered(&items, &[]), vec![0, 1, 2]);
        assert_eq!(check_resubmission(&items, &[]), Err(ErrorCode::Required));
        // A file for another material does not answer the one named.
        let some = [
            t("material:法定代表人（负责人）居民身份证"),
            t("field:phone"),
        ];
        assert_eq!(unanswered(&items, &some), vec![0, 2]);
        let all = [t("new:租赁合同"), t("field:phone"), t("material:营业执照")];
        assert_eq!(unanswered(&items, &all), Vec::<usize>::new());
        assert_eq!(check_resubmission(&items, &all), Ok(()));
    }
}
