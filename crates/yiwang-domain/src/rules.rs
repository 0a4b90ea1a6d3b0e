//! Catalog rules (四级四同 and element completeness). Each violation is an `Issue` naming the
//! sheet, row and element so an administrator can fix the file in one pass.

use crate::catalog::{CatalogBatch, CatalogEntry, Department, EntrySource, StandardItem};
use crate::codes::{BasicCode, CreditCode, ImplCode, RegionCode};
use crate::enums::{CodeSet, OnlineDepth};
use crate::error::{ErrorCode, Issue};
use std::collections::{HashMap, HashSet};

pub const ITEMS: &str = "items";
pub const MATERIALS: &str = "materials";

/// What the store already knows, for reference checks. Filled by the caller.
#[derive(Debug, Default)]
pub struct KnownRefs {
    pub regions: HashSet<RegionCode>,
    pub departments: HashMap<CreditCode, Department>,
    pub standard_items: HashMap<BasicCode, StandardItem>,
}

/// A material name that says nothing: 其他材料, 相关材料, or a list cut short with 等 (`身份证明等`,
/// `户口簿等材料`, `身份证明等。`). The name itself must say which document is meant: the
/// instructions column says how to prepare it, not what it is. 等 inside a word (等级, 平等,
/// 高等) is not a cut-short list.
pub fn is_catch_all_material(name: &str) -> bool {
    let n = name.trim();
    const VAGUE: [&str; 6] = [
        "其他材料",
        "相关材料",
        "其他相关材料",
        "其它材料",
        "其它相关材料",
        "有关材料",
    ];
    if VAGUE.contains(&n) || (n.starts_with("其他") || n.starts_with("其它")) && n.ends_with("材料")
    {
        return true;
    }
    ends_with_open_list(n)
}

/// Whether a name ends in 等 (or 等等, 等材料, 等证件 …), trailing punctuation and spaces aside.
fn ends_with_open_list(name: &str) -> bool {
    // What may follow the 等 of a cut-short list: a generic word for "documents".
    const GENERIC: [&str; 22] = [
        "",
        "材料",
        "证件",
        "证明",
        "文件",
        "资料",
        "证书",
        "证照",
        "凭证",
        "手续",
        "单据",
        "票据",
        "相关材料",
        "相关证明",
        "相关证件",
        "相关文件",
        "相关资料",
        "证明材料",
        "有效证件",
        "有效证明",
        "身份证明",
        "身份证件",
    ];
    // Words in which 等 means "level" or "equal", not "and so on".
    const WORDS: [char; 15] = [
        '平', '同', '对', '相', '均', '高', '初', '中', '上', '次', '优', '劣', '特', '头', '超',
    ];
    let n = name.trim_end_matches(|c: char| {
        c.is_whitespace()
            || c.is_ascii_punctuation()
            || "。，、；：！？…—·．）】」』”’》〉".contains(c)
    });
    let Some((head, tail)) = n.rsplit_once('等') else {
        return false;
    };
    if !GENERIC.contains(&tail) {
        return false;
    }
    // 等等 is always the cut-short list; otherwise 等 must not close a word like 平等.
    if head.ends_with('等') {
        return true;
    }
    head.chars()
        .next_back()
        .is_some_and(|c| !WORDS.contains(&c))
}

/// Rules that need only one entry.
pub fn check_entry(src: &EntrySource, entry: &CatalogEntry) -> Vec<Issue> {
    let mut out = Vec::new();
    let imp = &entry.implementation;
    let at = |code: ErrorCode, field: &str| Issue::new(code).at(ITEMS, src.row).field(field);
    // Each implementation sits at one of the item's levels (县级 bureau, 乡级 office …).
    if !entry.standard.levels.contains(imp.level) {
        out.push(at(ErrorCode::LevelOutsideItem, "实施层级").detail(format!(
            "{} (行使层级 {})",
            imp.level.zh(),
            entry.standard.levels.zh()
        )));
    }
    if imp.promised_limit.exceeds(imp.statutory_limit) {
        out.push(
            at(ErrorCode::PromisedExceedsStatutory, "承诺办结时限").detail(format!(
                "{} > {}",
                imp.promised_limit.amount, imp.statutory_limit.amount
            )),
        );
    }
    if imp.charged && imp.fee_basis.trim().is_empty() {
        out.push(at(ErrorCode::FeeWithoutBasis, "收费依据"));
    }
    if imp.online_depth == OnlineDepth::Level4 && imp.visits > 0 {
        out.push(
            at(ErrorCode::FullyOnlineWithVisits, "到办事现场次数").detail(imp.visits.to_string()),
        );
    }
    if imp.visits > 2 {
        out.push(at(ErrorCode::OutOfRange, "到办事现场次数").detail(imp.visits.to_string()));
    }
    let mut seen = HashSet::new();
    for (i, m) in imp.materials.iter().enumerate() {
        let row = src.material_rows.get(i).copied().unwrap_or(src.row);
        let mat = |code: ErrorCode| Issue::new(code).at(MATERIALS, row).field("材料名称");
        if is_catch_all_material(&m.name) {
            out.push(mat(ErrorCode::CatchAllMaterial).detail(m.name.clone()));
        }
        if !seen.insert(m.name.trim()) {
            out.push(mat(ErrorCode::DuplicateMaterial).detail(m.name.clone()));
        }
    }
    out
}

/// All rules over a batch: per entry, across entries, and against what the store knows.
pub fn check_batch(batch: &CatalogBatch, known: &KnownRefs) -> Vec<Issue> {
    let mut out = Vec::new();
    let mut codes: HashMap<&ImplCode, u64> = HashMap::new();
    let mut standards: HashMap<&BasicCode, (&StandardItem, u64)> = HashMap::new();
    for (src, entry) in &batch.entries {
        out.extend(check_entry(src, entry));
        let imp = &entry.implementation;
        let at = |code: ErrorCode, field: &str| Issue::new(code).at(ITEMS, src.row).field(field);
        if let Some(first) = codes.insert(&imp.code, src.row) {
            out.push(
                at(ErrorCode::DuplicateImplCode, "实施编码")
                    .detail(format!("{} (row {first})", imp.code)),
            );
        }
        if !known.regions.contains(&imp.region) {
            out.push(at(ErrorCode::UnknownRegion, "行政区划代码").detail(imp.region.to_string()));
        }
        match known.departments.get(&imp.department_code) {
            None => out.push(
                at(ErrorCode::UnknownDepartment, "实施主体编码")
                    .detail(imp.department_code.to_string()),
            ),
            Some(d) if d.name != imp.department_name.trim() => {
                out.push(at(ErrorCode::DepartmentNameMismatch, "实施主体").detail(d.name.clone()))
            }
            Some(_) => {}
        }
        // 四级四同: the standard item's own elements are the same wherever it is implemented.
        let std = &entry.standard;
        let reference = standards
            .get(&std.basic_code)
            .map(|(s, _)| *s)
            .or_else(|| known.standard_items.get(&std.basic_code));
        if let Some(reference) = reference {
            for field in standard_differences(reference, std) {
                out.push(
                    at(ErrorCode::StandardItemConflict, field).detail(std.basic_code.to_string()),
                );
            }
        }
        standards.entry(&std.basic_code).or_insert((std, src.row));
    }
    out
}

/// The element names on which two descriptions of one standard item disagree.
pub fn standard_differences(a: &StandardItem, b: &StandardItem) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.name.trim() != b.name.trim() {
        out.push("事项名称");
    }
    if a.item_type != b.item_type {
        out.push("事项类型");
    }
    if a.levels != b.levels {
        out.push("行使层级");
    }
    if a.legal_basis.trim() != b.legal_basis.trim() {
        out.push("设定依据");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_materials() {
        for vague in [
            "其他材料",
            "相关材料",
            "其他证明材料",
            "其它证明材料",
            "身份证明等",
            "身份证明等 ",
            "身份证明等。",
            "身份证明等.",
            "身份证明（居民身份证、户口簿等）",
            "居民身份证、户口簿等材料",
            "居民身份证、户口簿等证件",
            "户口簿等相关材料",
            "身份证明等等",
            "结婚证等　",
        ] {
            assert!(is_catch_all_material(vague), "{vague}");
        }
        for fine in [
            "居民身份证",
            "伤残等级证明",
            "残疾等级评定表",
            "男女平等承诺书",
            "毕业证书（高等）",
            "三等功证书",
            "等级证书",
            "等",
        ] {
            assert!(!is_catch_all_material(fine), "{fine}");
        }
    }
}
