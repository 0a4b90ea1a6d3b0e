//! Enumerations of the catalog. Each has a stable English key (stored, used in the API) and
//! the standard Chinese value used in GB/T 39046 interchange files.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};

pub trait CodeSet: Sized + Copy + 'static {
    /// Message-catalog group, e.g. `item_type`.
    const GROUP: &'static str;
    const ALL: &'static [Self];
    fn key(self) -> &'static str;
    fn zh(self) -> &'static str;
    fn from_key(k: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.key() == k)
    }
    fn from_zh(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.iter().copied().find(|v| v.zh() == s)
    }
    /// The allowed interchange values, for error messages.
    fn allowed() -> String {
        Self::ALL
            .iter()
            .map(|v| v.zh())
            .collect::<Vec<_>>()
            .join("/")
    }
    fn parse_zh(s: &str) -> Result<Self, ErrorCode> {
        Self::from_zh(s).ok_or(ErrorCode::UnknownEnumValue)
    }
}

macro_rules! code_set {
    ($name:ident, $group:literal, { $($variant:ident = ($key:literal, $zh:literal)),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)* }
        impl CodeSet for $name {
            const GROUP: &'static str = $group;
            const ALL: &'static [Self] = &[$($name::$variant,)*];
            fn key(self) -> &'static str { match self { $($name::$variant => $key,)* } }
            fn zh(self) -> &'static str { match self { $($name::$variant => $zh,)* } }
        }
    };
}

code_set!(ItemType, "item_type", {
    Licensing = ("licensing", "行政许可"),
    Penalty = ("penalty", "行政处罚"),
    Enforcement = ("enforcement", "行政强制"),
    Levy = ("levy", "行政征收"),
    Benefit = ("benefit", "行政给付"),
    Inspection = ("inspection", "行政检查"),
    Confirmation = ("confirmation", "行政确认"),
    Reward = ("reward", "行政奖励"),
    Adjudication = ("adjudication", "行政裁决"),
    OtherPower = ("other_power", "其他行政权力"),
    PublicService = ("public_service", "公共服务"),
});

code_set!(ExerciseLevel, "exercise_level", {
    National = ("national", "国家级"),
    Provincial = ("provincial", "省级"),
    Municipal = ("municipal", "市级"),
    County = ("county", "县级"),
    Township = ("township", "乡级"),
    Village = ("village", "村级"),
});

/// 行使层级 of a basic-catalog item (GB/T 39046): the set of levels at which the item is
/// exercised (国家级 … 村级). Each implementation has one level within it. Never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LevelSet(u8);

impl LevelSet {
    fn bit(level: ExerciseLevel) -> u8 {
        let i = ExerciseLevel::ALL
            .iter()
            .position(|l| *l == level)
            .unwrap_or(0);
        1 << i
    }
    /// The set of these levels; `None` when there are none.
    pub fn of(levels: impl IntoIterator<Item = ExerciseLevel>) -> Option<Self> {
        let bits = levels.into_iter().fold(0, |b, l| b | Self::bit(l));
        (bits != 0).then_some(Self(bits))
    }
    pub fn one(level: ExerciseLevel) -> Self {
        Self(Self::bit(level))
    }
    pub fn contains(self, level: ExerciseLevel) -> bool {
        self.0 & Self::bit(level) != 0
    }
    /// The levels, from 国家级 down to 村级.
    pub fn iter(self) -> impl Iterator<Item = ExerciseLevel> {
        ExerciseLevel::ALL
            .iter()
            .copied()
            .filter(move |l| self.contains(*l))
    }
    /// The only level, when there is exactly one.
    pub fn single(self) -> Option<ExerciseLevel> {
        let mut it = self.iter();
        match (it.next(), it.next()) {
            (Some(l), None) => Some(l),
            _ => None,
        }
    }
    /// Stored form: keys joined by `;` (`county;township`).
    pub fn keys(self) -> String {
        self.iter().map(|l| l.key()).collect::<Vec<_>>().join(";")
    }
    pub fn from_keys(s: &str) -> Option<Self> {
        let levels: Option<Vec<ExerciseLevel>> = s
            .split(';')
            .filter(|k| !k.is_empty())
            .map(ExerciseLevel::from_key)
            .collect();
        Self::of(levels?)
    }
    /// Interchange form: Chinese values joined by `;` (`县级;乡级`).
    pub fn zh(self) -> String {
        self.iter().map(|l| l.zh()).collect::<Vec<_>>().join(";")
    }
    /// From an interchange cell: one or more values separated by `;`, `；` or `、`.
    pub fn parse_zh(s: &str) -> Result<Self, ErrorCode> {
        let levels: Vec<ExerciseLevel> = s
            .split([';', '；', '、'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(ExerciseLevel::parse_zh)
            .collect::<Result<_, _>>()?;
        Self::of(levels).ok_or(ErrorCode::Required)
    }
}

impl Serialize for LevelSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for LevelSet {
    /// A list of keys, or one key (the form before levels were a set).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(ExerciseLevel),
            Many(Vec<ExerciseLevel>),
        }
        let levels = match Form::deserialize(d)? {
            Form::One(l) => vec![l],
            Form::Many(v) => v,
        };
        Self::of(levels).ok_or_else(|| serde::de::Error::custom("no exercise level"))
    }
}

code_set!(TimeUnit, "time_unit", {
    WorkingDays = ("working_days", "工作日"),
    NaturalDays = ("natural_days", "自然日"),
});

code_set!(CaseType, "case_type", {
    Immediate = ("immediate", "即办件"),
    Promised = ("promised", "承诺件"),
});

code_set!(OnlineDepth, "online_depth", {
    Level1 = ("level1", "一级"),
    Level2 = ("level2", "二级"),
    Level3 = ("level3", "三级"),
    Level4 = ("level4", "四级"),
});

code_set!(Audience, "audience", {
    NaturalPerson = ("natural_person", "自然人"),
    Enterprise = ("enterprise", "企业法人"),
    PublicInstitution = ("public_institution", "事业法人"),
    SocialOrganisation = ("social_organisation", "社会组织法人"),
    UnincorporatedEnterprise = ("unincorporated_enterprise", "非法人企业"),
    GovernmentBody = ("government_body", "行政机关"),
    OtherOrganisation = ("other_organisation", "其他组织"),
});

code_set!(Channel, "channel", {
    Counter = ("counter", "窗口办理"),
    Online = ("online", "网上办理"),
    Mobile = ("mobile", "移动端办理"),
    Post = ("post", "快递申请"),
});

code_set!(AnywhereScope, "anywhere_scope", {
    Nationwide = ("nationwide", "全国"),
    CrossProvince = ("cross_province", "跨省"),
    CrossCity = ("cross_city", "跨市"),
    CrossCounty = ("cross_county", "跨县"),
});

code_set!(HandlingKind, "handling_kind", {
    New = ("new", "新设"),
    Change = ("change", "变更"),
    Renew = ("renew", "延续"),
    Cancel = ("cancel", "注销"),
});

impl Audience {
    /// 个人 (natural persons) versus 法人 (everyone else), the portal's two audiences.
    pub fn is_person(self) -> bool {
        matches!(self, Audience::NaturalPerson)
    }
}

impl OnlineDepth {
    pub fn number(self) -> i64 {
        match self {
            OnlineDepth::Level1 => 1,
            OnlineDepth::Level2 => 2,
            OnlineDepth::Level3 => 3,
            OnlineDepth::Level4 => 4,
        }
    }
}

/// 是 / 否 in interchange files.
pub fn parse_yes_no(s: &str) -> Result<bool, ErrorCode> {
    match s.trim() {
        "是" => Ok(true),
        "否" => Ok(false),
        _ => Err(ErrorCode::UnknownEnumValue),
    }
}
pub fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}
