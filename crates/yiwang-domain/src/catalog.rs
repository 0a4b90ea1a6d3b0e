//! The catalog model: StandardItem → Implementation → HandlingItem, MaterialRequirement.

use crate::codes::{BasicCode, CreditCode, ImplCode, RegionCode};
use crate::enums::{
    AnywhereScope, Audience, CaseType, Channel, ExerciseLevel, HandlingKind, ItemType, LevelSet,
    OnlineDepth, TimeUnit,
};
use serde::{Deserialize, Serialize};

/// 基本目录事项: owned once by the catalog; implementations may not change these fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardItem {
    pub basic_code: BasicCode,
    pub name: String,
    pub item_type: ItemType,
    /// 行使层级: every level the item may be exercised at (the same wherever it is implemented).
    #[serde(alias = "level")]
    pub levels: LevelSet,
    pub legal_basis: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub amount: u32,
    pub unit: TimeUnit,
}

impl TimeLimit {
    /// Approximate length in natural days (a working week is seven natural days).
    fn natural_equivalent(self) -> u64 {
        match self.unit {
            TimeUnit::NaturalDays => u64::from(self.amount),
            TimeUnit::WorkingDays => (u64::from(self.amount) * 7).div_ceil(5),
        }
    }
    /// True when this (promised) limit is longer than `statutory`.
    pub fn exceeds(self, statutory: TimeLimit) -> bool {
        if self.unit == statutory.unit {
            self.amount > statutory.amount
        } else {
            self.natural_equivalent() > statutory.natural_equivalent()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub credit_code: CreditCode,
    pub name: String,
    pub region: RegionCode,
}

/// 业务办理项: a variant of an implementation (new, change, renew, cancel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlingItem {
    pub kind: HandlingKind,
    pub name: String,
}

/// 申请材料.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialRequirement {
    pub name: String,
    pub issuer: String,
    pub originals: u32,
    pub copies: u32,
    pub mandatory: bool,
    /// The e-licence type that can replace the paper document; empty when none.
    pub licence_type: String,
    pub instructions: String,
    /// Columns the file had that the standard does not define, kept in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<(String, String)>,
}

/// 实施清单 entry: one department's implementation of a standard item in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Implementation {
    pub code: ImplCode,
    pub basic_code: BasicCode,
    pub department_code: CreditCode,
    pub department_name: String,
    pub region: RegionCode,
    /// The level of this implementation: one of the standard item's levels (县级 for the county
    /// bureau, 乡级 for a township office implementing the same item).
    pub level: ExerciseLevel,
    pub acceptance_conditions: String,
    pub statutory_limit: TimeLimit,
    pub promised_limit: TimeLimit,
    pub case_type: CaseType,
    pub visits: u8,
    pub online_depth: OnlineDepth,
    pub charged: bool,
    pub fee_basis: String,
    pub audiences: Vec<Audience>,
    pub themes: Vec<String>,
    pub channels: Vec<Channel>,
    pub anywhere: Option<AnywhereScope>,
    pub hall_address: String,
    pub hours: String,
    pub consult_phone: String,
    pub complaint_phone: String,
    pub result_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<(String, String)>,
    #[serde(default)]
    pub handling_items: Vec<HandlingItem>,
    #[serde(default)]
    pub materials: Vec<MaterialRequirement>,
    /// Whether applying needs an applicant whose identity is verified (实名核验): every item
    /// that creates a case does, unless its catalog entry says otherwise.
    #[serde(default = "identity_required_default")]
    pub identity_required: bool,
}

impl Implementation {
    /// Handled online end to end with no visit (跑零次): nothing is handed in at a counter, so
    /// the guide says nothing about paper originals.
    pub fn handled_without_visit(&self) -> bool {
        self.visits == 0
            && self
                .channels
                .iter()
                .any(|c| matches!(c, Channel::Online | Channel::Mobile))
    }
}

/// Words in a material instruction's clause that make it about a counter visit: originals shown
/// and handed back, paper copies, the window itself.
const COUNTER_WORDS: [&str; 6] = ["原件", "当场", "窗口", "纸质", "复印件", "现场"];

/// The clauses of a material's instructions (split at 。；; and line ends) that still hold when
/// the item is handled online without a visit: those about the counter are left out.
pub fn online_instructions(text: &str) -> String {
    let mut kept = String::new();
    for clause in text.split_inclusive(['。', '；', ';', '\n']) {
        let body = clause.trim_end_matches(['。', '；', ';', '\n']).trim();
        if body.is_empty() || COUNTER_WORDS.iter().any(|w| body.contains(w)) {
            continue;
        }
        if !kept.is_empty() {
            kept.push('；');
        }
        kept.push_str(body);
    }
    kept
}

fn identity_required_default() -> bool {
    true
}

/// A standard item with one implementation: one row of an items sheet plus its materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub standard: StandardItem,
    pub implementation: Implementation,
}

/// Where an entry came from in a file, so rule violations can name the place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntrySource {
    pub row: u64,
    /// Row numbers of the materials, in the order of `implementation.materials`.
    pub material_rows: Vec<u64>,
}

/// A whole parsed file (or a console edit) ready for the catalog rules.
#[derive(Debug, Clone, Default)]
pub struct CatalogBatch {
    pub entries: Vec<(EntrySource, CatalogEntry)>,
}

/// Publication state of an implementation version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Draft,
    Published,
    Superseded,
}

impl VersionStatus {
    pub fn key(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Superseded => "superseded",
        }
    }
    pub fn from_key(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "published" => Self::Published,
            "superseded" => Self::Superseded,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn online_instructions_leave_out_the_counter() {
        use super::online_instructions;
        assert_eq!(
            online_instructions("核验原件后当场退还；已关联电子证照的可免于提交"),
            "已关联电子证照的可免于提交"
        );
        assert_eq!(
            online_instructions("法定代表人或负责人签字，单位申请人加盖公章"),
            "法定代表人或负责人签字，单位申请人加盖公章"
        );
        assert_eq!(online_instructions("窗口领取纸质表格。"), "");
        assert_eq!(online_instructions(""), "");
    }

    use super::*;

    #[test]
    fn limits_compare_across_units() {
        let wd = |n| TimeLimit {
            amount: n,
            unit: TimeUnit::WorkingDays,
        };
        let nd = |n| TimeLimit {
            amount: n,
            unit: TimeUnit::NaturalDays,
        };
        assert!(!wd(5).exceeds(wd(20)));
        assert!(wd(21).exceeds(wd(20)));
        assert!(!nd(10).exceeds(wd(20)));
        assert!(wd(20).exceeds(nd(20)));
        assert!(!wd(5).exceeds(nd(30)));
        assert!(nd(30).exceeds(wd(20)));
    }
}
