//! Catalog rules (四级四同 and element completeness). Each violation is an `Issue` naming the
//! sheet, row and element so an administrator can fix the file in one pass.

use crate::catalog::{CatalogBatch, CatalogEntry, Department, EntrySource, StandardItem};
use crate::codes::{BasicCode, CreditCode, ImplCode, RegionCode};
use crate::enums::OnlineDepth;
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

/// A material name that says nothing: 其他材料, 相关材料, or a list cut short with 等.
pub fn is_catch_all_material(name: &str, instructions: &str) -> bool {
    let n = name.trim();
    const VAGUE: [&str; 6] = [
        "其他材料",
        "相关材料",
        "其他相关材料",
        "其它材料",
        "其它相关材料",
        "有关材料",
    ];
    if VAGUE.contains(&n) || n.starts_with("其他") && n.ends_with("材料") {
        return true;
    }
    (n.ends_with('等') || n.ends_with("等材料")) && instructions.trim().is_empty()
}

/// Rules that need only one entry.
pub fn check_entry(src: &EntrySource, entry: &CatalogEntry) -> Vec<Issue> {
    let mut out = Vec::new();
    let imp = &entry.implementation;
    let at = |code: ErrorCode, field: &str| Issue::new(code).at(ITEMS, src.row).field(field);
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
        if is_catch_all_material(&m.name, &m.instructions) {
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
    if a.level != b.level {
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
        assert!(is_catch_all_material("其他材料", ""));
        assert!(is_catch_all_material("相关材料", "按要求提供"));
        assert!(is_catch_all_material("身份证明等", ""));
        assert!(!is_catch_all_material(
            "身份证明等",
            "居民身份证或户口簿原件"
        ));
        assert!(!is_catch_all_material("居民身份证", ""));
        assert!(is_catch_all_material("其他证明材料", ""));
    }
}
