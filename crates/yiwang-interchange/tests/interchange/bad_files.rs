#[cfg(test)] // test-only helpers: unwrap is allowed here as in tests
use crate::common;

use common::*;
use helpers::{Cell, string_cells, workbook};
use yiwang_domain::enums::{Audience, CodeSet, ItemType};
use yiwang_domain::error::{ErrorCode, Issue};
use yiwang_domain::rules::{ITEMS, MATERIALS};
use yiwang_interchange::{
    ITEM_HEADERS, MATERIAL_HEADERS, MAX_CELL_CHARS, parse_csv, parse_json, parse_xlsx,
};

/// (sheet, row, field, code) of every issue, for exact comparisons.
fn places(issues: &[Issue]) -> Vec<(String, u64, String, ErrorCode)> {
    let mut v: Vec<_> = issues
        .iter()
        .map(|i| {
            (
                i.sheet.clone().unwrap_or_default(),
                i.row.unwrap_or(0),
                i.field.clone().unwrap_or_default(),
                i.code,
            )
        })
        .collect();
    v.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    v
}

fn place(sheet: &str, row: u64, field: &str, code: ErrorCode) -> (String, u64, String, ErrorCode) {
    (sheet.to_string(), row, field.to_string(), code)
}

fn set(row: &mut [String], field: &str, value: &str) {
    row[col(&ITEM_HEADERS, field)] = value.to_string();
}

fn codes_in_batch(parsed: &yiwang_interchange::ParsedFile) -> Vec<(u64, String, Vec<u64>)> {
    parsed
        .batch
        .entries
        .iter()
        .map(|(s, e)| {
            (
                s.row,
                e.implementation.code.to_string(),
                s.material_rows.clone(),
            )
        })
        .collect()
}

#[test]
fn every_problem_is_reported_and_good_rows_kept() {
    let good = credit("91350100M000100Y4");
    let mut bad_check = good.to_string();
    bad_check.pop();
    bad_check.push(if good.as_str().ends_with('0') {
        '1'
    } else {
        '0'
    });

    let mut r3 = good_item_row("A3");
    set(&mut r3, "事项类型", "行政审批");
    set(&mut r3, "实施主体编码", &bad_check);
    let mut r4 = good_item_row("A4");
    set(&mut r4, "法定办结时限", "二十");
    set(&mut r4, "事项名称", "  ");
    let mut r6 = good_item_row("A6");
    set(&mut r6, "到办事现场次数", "3");
    set(&mut r6, "行政区划代码", "12011");
    set(&mut r6, "服务对象", "自然人;游客");
    set(&mut r6, "基本编码", "0001170012345");
    set(&mut r6, "实施编码", "A 6");
    set(&mut r6, "承诺办结时限", "-5");
    set(&mut r6, "事项名称", &"名".repeat(201));
    set(&mut r6, "通办范围", "全球");
    set(&mut r6, "实施主体编码", "123");
    let items = items_csv(&[good_item_row("A2"), r3, r4, good_item_row("A5"), r6]);

    let mut m4 = good_material_row("A5", "结婚证");
    m4[col(&MATERIAL_HEADERS, "原件份数")] = "-1".into();
    m4[col(&MATERIAL_HEADERS, "是否必备")] = "可能".into();
    m4[col(&MATERIAL_HEADERS, "复印件份数")] = "1.5".into();
    let mut m7 = good_material_row("A5", "");
    m7[col(&MATERIAL_HEADERS, "实施编码")] = String::new();
    let materials = materials_csv(&[
        good_material_row("A2", "居民身份证"),
        good_material_row("NOPE", "户口簿"),
        m4,
        good_material_row("A5", "居民身份证"),
        // Belongs to a row with problems: no issue of its own, nowhere to attach.
        good_material_row("A3", "户口簿"),
        m7,
    ]);

    let parsed = parse_csv(&items, &materials);
    assert!(!parsed.is_clean());
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 3, "事项类型", ErrorCode::UnknownEnumValue),
            place(ITEMS, 3, "实施主体编码", ErrorCode::CreditCodeCheckFailed),
            place(ITEMS, 4, "事项名称", ErrorCode::Required),
            place(ITEMS, 4, "法定办结时限", ErrorCode::NotAnInteger),
            place(ITEMS, 6, "事项名称", ErrorCode::TooLong),
            place(ITEMS, 6, "到办事现场次数", ErrorCode::OutOfRange),
            place(ITEMS, 6, "基本编码", ErrorCode::InvalidBasicCode),
            place(ITEMS, 6, "实施主体编码", ErrorCode::InvalidCreditCode),
            place(ITEMS, 6, "实施编码", ErrorCode::InvalidImplCode),
            place(ITEMS, 6, "承诺办结时限", ErrorCode::OutOfRange),
            place(ITEMS, 6, "服务对象", ErrorCode::UnknownEnumValue),
            place(ITEMS, 6, "行政区划代码", ErrorCode::InvalidRegionCode),
            place(ITEMS, 6, "通办范围", ErrorCode::UnknownEnumValue),
            place(MATERIALS, 3, "实施编码", ErrorCode::UnknownImplementation),
            place(MATERIALS, 4, "原件份数", ErrorCode::OutOfRange),
            place(MATERIALS, 4, "复印件份数", ErrorCode::NotAnInteger),
            place(MATERIALS, 4, "是否必备", ErrorCode::UnknownEnumValue),
            place(MATERIALS, 7, "实施编码", ErrorCode::Required),
            place(MATERIALS, 7, "材料名称", ErrorCode::Required),
        ]
    );

    // Details: the offending value, or the allowed values for enumerations.
    let find = |sheet: &str, row: u64, field: &str| {
        parsed
            .issues
            .iter()
            .find(|i| {
                i.sheet.as_deref() == Some(sheet)
                    && i.row == Some(row)
                    && i.field.as_deref() == Some(field)
            })
            .unwrap()
    };
    assert_eq!(
        find(ITEMS, 3, "事项类型").detail.as_deref(),
        Some(ItemType::allowed().as_str())
    );
    assert_eq!(
        find(ITEMS, 3, "实施主体编码").detail.as_deref(),
        Some(bad_check.as_str())
    );
    assert_eq!(
        find(ITEMS, 4, "法定办结时限").detail.as_deref(),
        Some("二十")
    );
    assert_eq!(
        find(ITEMS, 6, "到办事现场次数").detail.as_deref(),
        Some("3")
    );
    let audience = find(ITEMS, 6, "服务对象").detail.clone().unwrap();
    assert!(audience.starts_with("游客"), "{audience}");
    assert!(audience.contains(&Audience::allowed()[..6]));
    assert_eq!(
        find(MATERIALS, 3, "实施编码").detail.as_deref(),
        Some("NOPE")
    );
    assert_eq!(
        find(MATERIALS, 4, "是否必备").detail.as_deref(),
        Some("是/否")
    );

    // Good rows are in the batch with their materials; bad ones are not.
    assert_eq!(
        codes_in_batch(&parsed),
        vec![
            (2, "A2".to_string(), vec![2]),
            (5, "A5".to_string(), vec![5])
        ]
    );
}

#[test]
fn missing_headers_are_each_reported_once() {
    let headers: Vec<&str> = ITEM_HEADERS
        .iter()
        .copied()
        .filter(|h| *h != "监督电话" && *h != "事项名称")
        .collect();
    let row = |code: &str| -> Vec<String> {
        let full = good_item_row(code);
        ITEM_HEADERS
            .iter()
            .zip(full)
            .filter(|(h, _)| **h != "监督电话" && **h != "事项名称")
            .map(|(_, v)| v)
            .collect()
    };
    let items = csv_file(&headers, &[row("A1"), row("A2")]);
    let materials = csv_file(&["实施编码", "材料名称"], &[]);
    let parsed = parse_csv(&items, &materials);
    let mut expected = vec![
        place(ITEMS, 1, "事项名称", ErrorCode::MissingColumn),
        place(ITEMS, 1, "监督电话", ErrorCode::MissingColumn),
    ];
    for h in [
        "出具机构",
        "原件份数",
        "复印件份数",
        "是否必备",
        "电子证照类型",
        "材料说明",
    ] {
        expected.push(place(MATERIALS, 1, h, ErrorCode::MissingColumn));
    }
    expected.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    assert_eq!(places(&parsed.issues), expected);
    // Without a required column no row can be complete; no per-row noise either.
    assert!(parsed.batch.entries.is_empty());

    // Only an optional column missing: rows still parse, with that element empty.
    let headers: Vec<&str> = ITEM_HEADERS
        .iter()
        .copied()
        .filter(|h| *h != "监督电话")
        .collect();
    let mut r = good_item_row("A1");
    r.remove(col(&ITEM_HEADERS, "监督电话"));
    let parsed = parse_csv(&csv_file(&headers, &[r]), &materials_csv(&[]));
    assert_eq!(
        places(&parsed.issues),
        vec![place(ITEMS, 1, "监督电话", ErrorCode::MissingColumn)]
    );
    assert_eq!(parsed.batch.entries.len(), 1);
    assert_eq!(parsed.batch.entries[0].1.implementation.complaint_phone, "");
}

#[test]
fn duplicate_headers_are_reported() {
    let mut headers: Vec<&str> = ITEM_HEADERS.to_vec();
    headers.push("事项名称");
    headers.push("备注");
    headers.push("备注");
    let mut r = good_item_row("A1");
    r.extend(["另一个名称".to_string(), "x".into(), "y".into()]);
    let parsed = parse_csv(&csv_file(&headers, &[r]), &materials_csv(&[]));
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 1, "事项名称", ErrorCode::DuplicateColumn),
            place(ITEMS, 1, "备注", ErrorCode::DuplicateColumn),
        ]
    );
    // The first occurrence of a standard header wins; duplicated extras are both kept.
    let (_, e) = &parsed.batch.entries[0];
    assert_eq!(e.standard.name, "生育登记");
    assert_eq!(
        e.implementation.extras,
        vec![
            ("备注".to_string(), "x".to_string()),
            ("备注".into(), "y".into())
        ]
    );
}

#[test]
fn columns_match_by_name_in_any_order_with_bom_and_padding() {
    // Reverse the columns, pad the headers, add an unknown column in the middle.
    let mut headers: Vec<String> = ITEM_HEADERS
        .iter()
        .rev()
        .map(|h| format!(" {h}\t"))
        .collect();
    headers.insert(5, "内部编号".into());
    let mut row = good_item_row("A1");
    // Full-width separators, an empty part and padding in a list cell.
    row[col(&ITEM_HEADERS, "服务主题")] = "　生育收养 ；户籍办理；；".into();
    let mut row: Vec<String> = row.into_iter().rev().collect();
    row.insert(5, "  N-42 ".into());
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut items = b"\xEF\xBB\xBF".to_vec();
    items.extend(csv_file(&header_refs, &[row]));
    let mut materials = b"\xEF\xBB\xBF".to_vec();
    materials.extend(materials_csv(&[good_material_row("A1", "身份证")]));
    let parsed = parse_csv(&items, &materials);
    assert_eq!(parsed.issues, vec![]);
    let (src, e) = &parsed.batch.entries[0];
    assert_eq!(src.row, 2);
    assert_eq!(src.material_rows, vec![2]);
    assert_eq!(e.standard.name, "生育登记");
    assert_eq!(e.implementation.region.as_str(), "120112000000");
    assert_eq!(
        e.implementation.audiences,
        vec![Audience::NaturalPerson, Audience::Enterprise]
    );
    assert_eq!(e.implementation.themes, vec!["生育收养", "户籍办理"]);
    assert_eq!(
        e.implementation.extras,
        vec![("内部编号".to_string(), "N-42".to_string())]
    );
    assert_eq!(e.implementation.materials[0].name, "身份证");
    assert!(e.implementation.handling_items.is_empty());
}

#[test]
fn invalid_utf8_row_is_reported_and_others_continue() {
    let rows = [
        good_item_row("A1"),
        good_item_row("A2"),
        good_item_row("A3"),
    ];
    let mut items = items_csv(&rows[..1]);
    // Row 3: invalid UTF-8 inside 事项名称.
    let mut bad = csv_record(&rows[1].iter().map(String::as_str).collect::<Vec<_>>()).into_bytes();
    let pos = bad.windows(3).position(|w| w == "生".as_bytes()).unwrap();
    bad[pos + 1] = 0xFF;
    items.extend(bad);
    items.extend(csv_record(&rows[2].iter().map(String::as_str).collect::<Vec<_>>()).into_bytes());
    let materials = materials_csv(&[
        good_material_row("A2", "身份证"),
        good_material_row("A3", "身份证"),
    ]);
    let parsed = parse_csv(&items, &materials);
    assert_eq!(
        places(&parsed.issues),
        vec![place(ITEMS, 3, "事项名称", ErrorCode::InvalidUtf8)]
    );
    assert_eq!(
        codes_in_batch(&parsed),
        vec![
            (2, "A1".to_string(), vec![]),
            (4, "A3".to_string(), vec![3])
        ]
    );

    // Invalid UTF-8 in a materials row.
    let mut materials = materials_csv(&[good_material_row("A1", "身份证")]);
    materials.extend(b"A1,\xC3\x28,x,1,1,\xE6\x98\r\n");
    let parsed = parse_csv(&items_csv(&[good_item_row("A1")]), &materials);
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(MATERIALS, 3, "是否必备", ErrorCode::InvalidUtf8),
            place(MATERIALS, 3, "材料名称", ErrorCode::InvalidUtf8),
        ]
    );
    assert_eq!(parsed.batch.entries[0].0.material_rows, vec![2]);
}

#[test]
fn huge_and_long_cells() {
    let mut r = good_item_row("A1");
    r[col(&ITEM_HEADERS, "受理条件")] = "长".repeat(MAX_CELL_CHARS + 1);
    let mut ok = good_item_row("A2");
    ok[col(&ITEM_HEADERS, "受理条件")] = "长".repeat(MAX_CELL_CHARS);
    ok[col(&ITEM_HEADERS, "事项名称")] = "名".repeat(200);
    let mut long_name = good_item_row("A3");
    long_name[col(&ITEM_HEADERS, "事项名称")] = "名".repeat(201);
    let parsed = parse_csv(&items_csv(&[r, ok, long_name]), &materials_csv(&[]));
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 2, "受理条件", ErrorCode::CellTooLarge),
            place(ITEMS, 4, "事项名称", ErrorCode::TooLong),
        ]
    );
    let detail = parsed.issues[0].detail.clone().unwrap();
    assert!(detail.contains("20001"), "{detail}");
    assert!(parsed.issues[1].detail.as_ref().unwrap().chars().count() <= 61);
    assert_eq!(codes_in_batch(&parsed), vec![(3, "A2".to_string(), vec![])]);

    // A huge header cell.
    let big = "头".repeat(MAX_CELL_CHARS + 5);
    let mut headers: Vec<&str> = ITEM_HEADERS.to_vec();
    headers.push(&big);
    let parsed = parse_csv(&csv_file(&headers, &[]), &materials_csv(&[]));
    assert_eq!(
        places(&parsed.issues),
        vec![place(ITEMS, 1, "", ErrorCode::CellTooLarge)]
    );
}

#[test]
fn empty_rows_are_skipped_and_stray_values_reported() {
    let mut items = items_csv(&[good_item_row("A1")]);
    items.extend(b",,,  ,\r\n\r\n");
    let mut r = good_item_row("A2");
    r.push(String::new());
    r.push("多出来的值".into());
    items.extend(csv_record(&r.iter().map(String::as_str).collect::<Vec<_>>()).into_bytes());
    let parsed = parse_csv(&items, &materials_csv(&[]));
    // The blank line is dropped by the CSV reader; ",,,  ," is record 3 and skipped as empty.
    assert_eq!(
        places(&parsed.issues),
        vec![place(ITEMS, 4, "第31列", ErrorCode::MalformedFile)]
    );
    assert_eq!(codes_in_batch(&parsed), vec![(2, "A1".to_string(), vec![])]);
}

#[test]
fn empty_files() {
    let parsed = parse_csv(b"", b"");
    assert_eq!(parsed.issues.len(), 2);
    assert!(
        parsed
            .issues
            .iter()
            .all(|i| i.code == ErrorCode::MalformedFile)
    );
    assert!(parsed.batch.entries.is_empty());

    // Header only: clean and empty.
    let parsed = parse_csv(&items_csv(&[]), &materials_csv(&[]));
    assert!(parsed.is_clean());
    assert!(parsed.batch.entries.is_empty());

    // Items without materials file content.
    let parsed = parse_csv(&items_csv(&[good_item_row("A1")]), b"\xEF\xBB\xBF");
    assert_eq!(
        places(&parsed.issues),
        vec![place(MATERIALS, 0, "", ErrorCode::MalformedFile)]
    );
    assert_eq!(parsed.batch.entries.len(), 1);
}

#[test]
fn garbage_xlsx_and_json() {
    for bytes in [
        &b""[..],
        b"PK\x03\x04garbage",
        b"\x00\x01\x02",
        "事项".as_bytes(),
    ] {
        let parsed = parse_xlsx(bytes);
        assert_eq!(parsed.issues.len(), 1);
        assert_eq!(parsed.issues[0].code, ErrorCode::MalformedFile);
        assert!(parsed.issues[0].detail.is_some());
        assert!(parsed.batch.entries.is_empty());
    }
    for bytes in [&b""[..], b"{", b"\xFF\xFE", b"[1,", b"nul"] {
        let parsed = parse_json(bytes);
        assert_eq!(parsed.issues.len(), 1, "{bytes:?}");
        assert_eq!(parsed.issues[0].code, ErrorCode::MalformedFile);
        assert!(parsed.issues[0].detail.is_some());
    }
    let parsed = parse_json(br#"{"standard": {}}"#);
    assert_eq!(parsed.issues[0].code, ErrorCode::MalformedFile);
    assert_eq!(
        parsed.issues[0].detail.as_deref(),
        Some("expected a JSON array of catalog entries")
    );
}

#[test]
fn bad_json_elements_do_not_hide_good_ones() {
    let entries = sample_entries();
    let mut values: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    values[1]["implementation"]["department_code"] = "91350100M000100Y44".into();
    values.insert(0, serde_json::json!("not an entry"));
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec(&values).unwrap());
    let parsed = parse_json(&bytes);
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 1, "", ErrorCode::MalformedFile),
            place(ITEMS, 3, "", ErrorCode::MalformedFile),
        ]
    );
    assert!(
        parsed.issues[1]
            .detail
            .as_deref()
            .unwrap()
            .contains("credit_code_check_failed")
    );
    let rows: Vec<u64> = parsed.batch.entries.iter().map(|(s, _)| s.row).collect();
    assert_eq!(rows, vec![2, 4]);
    assert_eq!(parsed.batch.entries[0].1, entries[0]);
    assert_eq!(parsed.batch.entries[1].1, entries[2]);
}

#[test]
fn xlsx_missing_sheet_and_numeric_cells() {
    // Only the items sheet, with numbers typed as numbers.
    let mut row: Vec<Cell> = good_item_row("A1").into_iter().map(Cell::S).collect();
    row[col(&ITEM_HEADERS, "法定办结时限")] = Cell::N(20.0);
    row[col(&ITEM_HEADERS, "承诺办结时限")] = Cell::N(5.0);
    row[col(&ITEM_HEADERS, "到办事现场次数")] = Cell::N(0.0);
    row[col(&ITEM_HEADERS, "行政区划代码")] = Cell::N(120112.0);
    let mut bad: Vec<Cell> = good_item_row("A2").into_iter().map(Cell::S).collect();
    bad[col(&ITEM_HEADERS, "法定办结时限")] = Cell::N(2.5);
    let bytes = workbook(&[("事项", vec![string_cells(&ITEM_HEADERS), row, bad])]);
    let parsed = parse_xlsx(&bytes);
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 3, "法定办结时限", ErrorCode::NotAnInteger),
            place(MATERIALS, 0, "", ErrorCode::MissingSheet),
        ]
    );
    let limit = parsed
        .issues
        .iter()
        .find(|i| i.code == ErrorCode::NotAnInteger);
    assert_eq!(limit.unwrap().detail.as_deref(), Some("2.5"));
    assert_eq!(parsed.batch.entries.len(), 1);
    let imp = &parsed.batch.entries[0].1.implementation;
    assert_eq!(imp.statutory_limit.amount, 20);
    assert_eq!(imp.region.as_str(), "120112000000");

    // Neither sheet; an empty items sheet.
    let parsed = parse_xlsx(&workbook(&[("Sheet1", vec![string_cells(&["a"])])]));
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 0, "", ErrorCode::MissingSheet),
            place(MATERIALS, 0, "", ErrorCode::MissingSheet),
        ]
    );
    let parsed = parse_xlsx(&workbook(&[
        ("事项", vec![]),
        ("材料", vec![string_cells(&MATERIAL_HEADERS)]),
    ]));
    assert_eq!(
        places(&parsed.issues),
        vec![place(ITEMS, 0, "", ErrorCode::MalformedFile)]
    );
}

#[test]
fn xlsx_reports_rows_as_spreadsheet_numbers() {
    let mut bad = good_item_row("A2");
    bad[col(&ITEM_HEADERS, "办件类型")] = "加急件".into();
    let rows = vec![
        string_cells(&ITEM_HEADERS),
        good_item_row("A1").into_iter().map(Cell::S).collect(),
        vec![],
        bad.into_iter().map(Cell::S).collect(),
    ];
    let bytes = workbook(&[
        ("事项", rows),
        (
            "材料",
            vec![
                string_cells(&MATERIAL_HEADERS),
                good_material_row("A1", "身份证")
                    .into_iter()
                    .map(Cell::S)
                    .collect(),
                good_material_row("ZZ", "身份证")
                    .into_iter()
                    .map(Cell::S)
                    .collect(),
            ],
        ),
    ]);
    let parsed = parse_xlsx(&bytes);
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 4, "办件类型", ErrorCode::UnknownEnumValue),
            place(MATERIALS, 3, "实施编码", ErrorCode::UnknownImplementation),
        ]
    );
    assert_eq!(
        codes_in_batch(&parsed),
        vec![(2, "A1".to_string(), vec![2])]
    );
}

#[cfg(test)]
mod helpers {
    pub fn workbook(sheets: &[(&str, Vec<Vec<Cell>>)]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        for (name, rows) in sheets {
            let ws = wb.add_worksheet();
            ws.set_name(*name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let (r, c) = (r as u32, c as u16);
                    match cell {
                        Cell::S(s) => ws.write_string(r, c, s).unwrap(),
                        Cell::N(n) => ws.write_number(r, c, *n).unwrap(),
                    };
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    pub enum Cell {
        S(String),
        N(f64),
    }

    pub fn string_cells(v: &[&str]) -> Vec<Cell> {
        v.iter().map(|s| Cell::S(s.to_string())).collect()
    }
}

#[test]
fn non_utf8_file_gives_one_issue_not_one_per_cell() {
    // "基本编码,事项名称" in GBK, then a data row in GBK.
    let gbk_header: &[u8] =
        b"\xBB\xF9\xB1\xBE\xB1\xE0\xC2\xEB,\xCA\xC2\xCF\xEE\xC3\xFB\xB3\xC6\r\n";
    let mut items = gbk_header.to_vec();
    items.extend(b"000117001,\xC9\xFA\xD3\xFD\r\n".repeat(50));
    let parsed = parse_csv(&items, &materials_csv(&[]));
    assert_eq!(
        places(&parsed.issues),
        vec![place(ITEMS, 1, "", ErrorCode::InvalidUtf8)]
    );
    assert!(parsed.batch.entries.is_empty());
}

#[test]
fn region_codes_follow_the_format() {
    let mut rows = Vec::new();
    for (i, code) in [
        "12",
        "1201",
        "120112",
        "120112100",
        "120112100201",
        "1201121002",
    ]
    .iter()
    .enumerate()
    {
        let mut r = good_item_row(&format!("R{i}"));
        set(&mut r, "行政区划代码", code);
        rows.push(r);
    }
    let parsed = parse_csv(&items_csv(&rows), &materials_csv(&[]));
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 2, "行政区划代码", ErrorCode::InvalidRegionCode),
            place(ITEMS, 3, "行政区划代码", ErrorCode::InvalidRegionCode),
            place(ITEMS, 7, "行政区划代码", ErrorCode::InvalidRegionCode),
        ]
    );
    let regions: Vec<&str> = parsed
        .batch
        .entries
        .iter()
        .map(|(_, e)| e.implementation.region.as_str())
        .collect();
    assert_eq!(regions, ["120112000000", "120112100000", "120112100201"]);
}

/// A material whose name is a list cut short with 等 is refused with its row and field, even
/// when the instructions column is filled (it says how to prepare, not what is meant); 等 inside
/// a word (等级, 平等) is not.
#[test]
fn open_lists_ending_in_deng_are_refused_with_row_and_field() {
    let with_note = |code: &str, name: &str| {
        let mut m = good_material_row(code, name);
        m[col(&MATERIAL_HEADERS, "材料说明")] = "提供原件".into();
        m
    };
    let materials = materials_csv(&[
        with_note("A2", "身份证明等"),
        with_note("A2", "居民身份证、户口簿等材料"),
        with_note("A2", "婚姻状况证明等。"),
        with_note("A2", "普通话水平测试等级证书"),
        with_note("A2", "男女平等承诺书"),
    ]);
    let parsed = parse_csv(&items_csv(&[good_item_row("A2")]), &materials);
    assert!(parsed.is_clean(), "{:?}", parsed.issues);
    let issues = yiwang_domain::rules::check_batch(
        &parsed.batch,
        &yiwang_domain::rules::KnownRefs::default(),
    );
    let catch_all: Vec<_> = places(&issues)
        .into_iter()
        .filter(|p| p.3 == ErrorCode::CatchAllMaterial)
        .collect();
    assert_eq!(
        catch_all,
        vec![
            place(MATERIALS, 2, "材料名称", ErrorCode::CatchAllMaterial),
            place(MATERIALS, 3, "材料名称", ErrorCode::CatchAllMaterial),
            place(MATERIALS, 4, "材料名称", ErrorCode::CatchAllMaterial),
        ]
    );
}

/// One standard item, several levels (GB/T 39046 行使层级 is a set): the county bureau and a
/// township office implement the same 基本编码, each at its own level within the item's set.
/// Not drift; a level outside the set is refused with row and field; a set of several levels
/// needs the row's 实施层级; files without the column still read (a set of one level).
#[test]
fn one_standard_item_at_county_and_township_levels() {
    let mut county = good_item_row("A2");
    set(&mut county, "行使层级", "县级;乡级");
    set(&mut county, "实施层级", "县级");
    let mut town = good_item_row("A3");
    set(&mut town, "行使层级", "县级；乡级");
    set(&mut town, "实施层级", "乡级");
    set(&mut town, "行政区划代码", "120112102");
    let parsed = parse_csv(&items_csv(&[county, town]), &materials_csv(&[]));
    assert!(parsed.is_clean(), "{:?}", parsed.issues);
    let levels: Vec<_> = parsed
        .batch
        .entries
        .iter()
        .map(|(_, e)| (e.standard.levels.zh(), e.implementation.level.zh()))
        .collect();
    assert_eq!(
        levels,
        vec![
            ("县级;乡级".to_string(), "县级"),
            ("县级;乡级".to_string(), "乡级")
        ]
    );
    let rules = |parsed: &yiwang_interchange::ParsedFile| {
        let issues = yiwang_domain::rules::check_batch(
            &parsed.batch,
            &yiwang_domain::rules::KnownRefs::default(),
        );
        places(&issues)
            .into_iter()
            .filter(|p| {
                matches!(
                    p.3,
                    ErrorCode::StandardItemConflict | ErrorCode::LevelOutsideItem
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(rules(&parsed), vec![]);

    // The item's set must still agree between rows; a level outside the set is refused.
    let mut county = good_item_row("A2");
    set(&mut county, "行使层级", "县级;乡级");
    set(&mut county, "实施层级", "县级");
    let mut city = good_item_row("A3");
    set(&mut city, "行使层级", "县级;乡级");
    set(&mut city, "实施层级", "市级");
    let mut other_set = good_item_row("A4");
    set(&mut other_set, "行使层级", "县级");
    let parsed = parse_csv(&items_csv(&[county, city, other_set]), &materials_csv(&[]));
    assert!(parsed.is_clean(), "{:?}", parsed.issues);
    assert_eq!(
        rules(&parsed),
        vec![
            place(ITEMS, 3, "实施层级", ErrorCode::LevelOutsideItem),
            place(ITEMS, 4, "行使层级", ErrorCode::StandardItemConflict),
        ]
    );

    // Several levels and no 实施层级: which one is meant must be said; unknown levels refused.
    let mut unsaid = good_item_row("A2");
    set(&mut unsaid, "行使层级", "县级;乡级");
    let mut unknown = good_item_row("A3");
    set(&mut unknown, "行使层级", "县级;区级");
    let parsed = parse_csv(&items_csv(&[unsaid, unknown]), &materials_csv(&[]));
    assert_eq!(
        places(&parsed.issues),
        vec![
            place(ITEMS, 2, "实施层级", ErrorCode::Required),
            place(ITEMS, 3, "行使层级", ErrorCode::UnknownEnumValue),
        ]
    );

    // A file written before 实施层级 existed: one level, the implementation's.
    let headers: Vec<&str> = ITEM_HEADERS
        .iter()
        .copied()
        .filter(|h| *h != "实施层级")
        .collect();
    let mut old = good_item_row("A2");
    old.remove(col(&ITEM_HEADERS, "实施层级"));
    let parsed = parse_csv(&csv_file(&headers, &[old]), &materials_csv(&[]));
    assert!(parsed.is_clean(), "{:?}", parsed.issues);
    let e = &parsed.batch.entries[0].1;
    assert_eq!(e.standard.levels.zh(), "县级");
    assert_eq!(e.implementation.level.zh(), "县级");
}
