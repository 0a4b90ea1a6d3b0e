//! The column layout of the catalog interchange format (GB/T 39046-2020 表4 element names) and the
//! conversion of one domain entry into the cells of its rows.

use yiwang_domain::catalog::{CatalogEntry, MaterialRequirement};
use yiwang_domain::enums::{CodeSet, yes_no};

/// Headers of `items.csv` / sheet `事项`, in the order they are written. `行使层级` is the standard
/// item's set of levels; `实施层级`, this implementation's level within it, may be left out when
/// the set has one level (files written before levels were a set).
pub const ITEM_HEADERS: [&str; 29] = [
    "基本编码",
    "事项名称",
    "事项类型",
    "行使层级",
    "实施主体",
    "实施主体编码",
    "行政区划代码",
    "实施编码",
    "设定依据",
    "受理条件",
    "法定办结时限",
    "法定办结时限单位",
    "承诺办结时限",
    "承诺办结时限单位",
    "办件类型",
    "到办事现场次数",
    "网上办理深度",
    "是否收费",
    "收费依据",
    "服务对象",
    "服务主题",
    "办理形式",
    "通办范围",
    "办理地点",
    "办理时间",
    "咨询电话",
    "监督电话",
    "结果名称",
    "实施层级",
];

/// Standard headers a file may lack (read as empty).
pub(crate) const OPTIONAL_HEADERS: [&str; 1] = ["实施层级"];

/// Headers of `materials.csv` / sheet `材料`, in the order they are written.
pub const MATERIAL_HEADERS: [&str; 8] = [
    "实施编码",
    "材料名称",
    "出具机构",
    "原件份数",
    "复印件份数",
    "是否必备",
    "电子证照类型",
    "材料说明",
];

/// Column indexes into [`ITEM_HEADERS`].
pub(crate) mod item {
    pub const BASIC_CODE: usize = 0;
    pub const NAME: usize = 1;
    pub const ITEM_TYPE: usize = 2;
    pub const LEVEL: usize = 3;
    pub const DEPARTMENT_NAME: usize = 4;
    pub const DEPARTMENT_CODE: usize = 5;
    pub const REGION: usize = 6;
    pub const IMPL_CODE: usize = 7;
    pub const LEGAL_BASIS: usize = 8;
    pub const ACCEPTANCE: usize = 9;
    pub const STATUTORY: usize = 10;
    pub const STATUTORY_UNIT: usize = 11;
    pub const PROMISED: usize = 12;
    pub const PROMISED_UNIT: usize = 13;
    pub const CASE_TYPE: usize = 14;
    pub const VISITS: usize = 15;
    pub const ONLINE_DEPTH: usize = 16;
    pub const CHARGED: usize = 17;
    pub const FEE_BASIS: usize = 18;
    pub const AUDIENCES: usize = 19;
    pub const THEMES: usize = 20;
    pub const CHANNELS: usize = 21;
    pub const ANYWHERE: usize = 22;
    pub const HALL_ADDRESS: usize = 23;
    pub const HOURS: usize = 24;
    pub const CONSULT_PHONE: usize = 25;
    pub const COMPLAINT_PHONE: usize = 26;
    pub const RESULT_NAME: usize = 27;
    pub const IMPL_LEVEL: usize = 28;
}

/// Column indexes into [`MATERIAL_HEADERS`].
pub(crate) mod material {
    pub const IMPL_CODE: usize = 0;
    pub const NAME: usize = 1;
    pub const ISSUER: usize = 2;
    pub const ORIGINALS: usize = 3;
    pub const COPIES: usize = 4;
    pub const MANDATORY: usize = 5;
    pub const LICENCE_TYPE: usize = 6;
    pub const INSTRUCTIONS: usize = 7;
}

/// Longest allowed 事项名称, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// Separator used when writing list cells (服务对象, 服务主题, 办理形式).
const LIST_SEPARATOR: &str = ";";

/// Splits a list cell on `;` and `；`, trims the parts and drops empty ones.
pub(crate) fn split_list(s: &str) -> Vec<&str> {
    s.split([';', '；'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Trims a cell: surrounding whitespace and any leading byte-order marks.
pub(crate) fn clean_cell(s: &str) -> &str {
    s.trim().trim_start_matches('\u{feff}').trim()
}

/// Human name of a column that has no header ("第3列"), 1-based.
pub(crate) fn column_label(col: u32) -> String {
    format!("第{}列", u64::from(col) + 1)
}

/// The standard cells of one items row.
pub(crate) fn item_cells(entry: &CatalogEntry) -> Vec<String> {
    let s = &entry.standard;
    let i = &entry.implementation;
    vec![
        s.basic_code.to_string(),
        s.name.clone(),
        s.item_type.zh().to_string(),
        s.levels.zh(),
        i.department_name.clone(),
        i.department_code.to_string(),
        i.region.to_string(),
        i.code.to_string(),
        s.legal_basis.clone(),
        i.acceptance_conditions.clone(),
        i.statutory_limit.amount.to_string(),
        i.statutory_limit.unit.zh().to_string(),
        i.promised_limit.amount.to_string(),
        i.promised_limit.unit.zh().to_string(),
        i.case_type.zh().to_string(),
        i.visits.to_string(),
        i.online_depth.zh().to_string(),
        yes_no(i.charged).to_string(),
        i.fee_basis.clone(),
        join_codes(&i.audiences),
        i.themes.join(LIST_SEPARATOR),
        join_codes(&i.channels),
        i.anywhere.map(|a| a.zh().to_string()).unwrap_or_default(),
        i.hall_address.clone(),
        i.hours.clone(),
        i.consult_phone.clone(),
        i.complaint_phone.clone(),
        i.result_name.clone(),
        i.level.zh().to_string(),
    ]
}

/// The standard cells of one materials row.
pub(crate) fn material_cells(entry: &CatalogEntry, m: &MaterialRequirement) -> Vec<String> {
    vec![
        entry.implementation.code.to_string(),
        m.name.clone(),
        m.issuer.clone(),
        m.originals.to_string(),
        m.copies.to_string(),
        yes_no(m.mandatory).to_string(),
        m.licence_type.clone(),
        m.instructions.clone(),
    ]
}

fn join_codes<T: CodeSet>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| v.zh())
        .collect::<Vec<_>>()
        .join(LIST_SEPARATOR)
}

/// A sheet ready to be written: header row plus data rows, all as strings.
pub(crate) struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Extension columns over many rows: each is a header plus which occurrence of that header
/// (a file may carry the same unknown header twice), in first-seen order.
struct ExtraColumns {
    columns: Vec<(String, usize)>,
}

impl ExtraColumns {
    fn collect<'a>(lists: impl Iterator<Item = &'a [(String, String)]>) -> Self {
        let mut columns: Vec<(String, usize)> = Vec::new();
        for list in lists {
            let mut seen: Vec<(&str, usize)> = Vec::new();
            for (key, _) in list {
                let occurrence = bump(&mut seen, key);
                if !columns.iter().any(|(k, o)| k == key && *o == occurrence) {
                    columns.push((key.clone(), occurrence));
                }
            }
        }
        Self { columns }
    }

    fn headers(&self) -> impl Iterator<Item = String> + '_ {
        self.columns.iter().map(|(k, _)| k.clone())
    }

    /// The values of one row for these columns; empty where the row lacks the column.
    fn values(&self, list: &[(String, String)]) -> Vec<String> {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        let mut indexed: Vec<(&str, usize, &str)> = Vec::with_capacity(list.len());
        for (key, value) in list {
            let occurrence = bump(&mut seen, key);
            indexed.push((key, occurrence, value));
        }
        self.columns
            .iter()
            .map(|(key, occurrence)| {
                indexed
                    .iter()
                    .find(|(k, o, _)| k == key && o == occurrence)
                    .map(|(_, _, v)| (*v).to_string())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// Counts one more occurrence of `key` and returns its 0-based occurrence number.
fn bump<'a>(seen: &mut Vec<(&'a str, usize)>, key: &'a str) -> usize {
    match seen.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => {
            *n += 1;
            *n - 1
        }
        None => {
            seen.push((key, 1));
            0
        }
    }
}

pub(crate) fn items_sheet(entries: &[CatalogEntry]) -> Sheet {
    let extras = ExtraColumns::collect(entries.iter().map(|e| e.implementation.extras.as_slice()));
    let headers = ITEM_HEADERS
        .iter()
        .map(|h| (*h).to_string())
        .chain(extras.headers())
        .collect();
    let rows = entries
        .iter()
        .map(|e| {
            let mut row = item_cells(e);
            row.extend(extras.values(&e.implementation.extras));
            row
        })
        .collect();
    Sheet { headers, rows }
}

pub(crate) fn materials_sheet(entries: &[CatalogEntry]) -> Sheet {
    let extras = ExtraColumns::collect(
        entries
            .iter()
            .flat_map(|e| e.implementation.materials.iter())
            .map(|m| m.extras.as_slice()),
    );
    let headers = MATERIAL_HEADERS
        .iter()
        .map(|h| (*h).to_string())
        .chain(extras.headers())
        .collect();
    let rows = entries
        .iter()
        .flat_map(|e| e.implementation.materials.iter().map(move |m| (e, m)))
        .map(|(e, m)| {
            let mut row = material_cells(e, m);
            row.extend(extras.values(&m.extras));
            row
        })
        .collect();
    Sheet { headers, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_both_semicolons() {
        assert_eq!(
            split_list(" 自然人；企业法人; ;"),
            vec!["自然人", "企业法人"]
        );
        assert!(split_list(" ; ；").is_empty());
    }

    #[test]
    fn cells_are_trimmed_and_bom_stripped() {
        assert_eq!(clean_cell("\u{feff} 基本编码 "), "基本编码");
        assert_eq!(clean_cell("\u{3000}值\t"), "值");
    }

    #[test]
    fn repeated_extra_headers_get_their_own_columns() {
        let a = vec![
            ("备注".to_string(), "1".to_string()),
            ("备注".to_string(), "2".to_string()),
        ];
        let b = vec![("来源".to_string(), "x".to_string())];
        let cols = ExtraColumns::collect([a.as_slice(), b.as_slice()].into_iter());
        assert_eq!(cols.headers().collect::<Vec<_>>(), ["备注", "备注", "来源"]);
        assert_eq!(cols.values(&a), ["1", "2", ""]);
        assert_eq!(cols.values(&b), ["", "", "x"]);
    }
}
