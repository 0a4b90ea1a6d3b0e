//! Hand-built catalog entries shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use yiwang_domain::catalog::{
    CatalogEntry, Implementation, MaterialRequirement, StandardItem, TimeLimit,
};
use yiwang_domain::codes::{BasicCode, CreditCode, ImplCode, RegionCode};
use yiwang_domain::enums::{
    AnywhereScope, Audience, CaseType, Channel, ExerciseLevel, ItemType, LevelSet, OnlineDepth,
    TimeUnit,
};
use yiwang_interchange::{ITEM_HEADERS, MATERIAL_HEADERS};

pub fn credit(first17: &str) -> CreditCode {
    CreditCode::with_check_char(first17).unwrap()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn material(name: &str, extra: &str) -> MaterialRequirement {
    MaterialRequirement {
        name: name.into(),
        issuer: "申请人自备".into(),
        originals: 1,
        copies: 2,
        mandatory: true,
        licence_type: String::new(),
        instructions: String::new(),
        extras: pairs(&[("页数", extra)]),
    }
}

/// Three entries: one with every optional element filled, one with all of them empty, one in
/// between; Chinese text with commas, quotes and line breaks; extras on items and materials.
pub fn sample_entries() -> Vec<CatalogEntry> {
    let full = CatalogEntry {
        standard: StandardItem {
            basic_code: BasicCode::parse("000117001").unwrap(),
            name: "生育登记，含\"一孩\"、二孩".into(),
            item_type: ItemType::PublicService,
            levels: LevelSet::one(ExerciseLevel::County),
            legal_basis:
                "《中华人民共和国人口与计划生育法》第二十条,\n《某省人口与计划生育条例》第十条"
                    .into(),
        },
        implementation: Implementation {
            code: ImplCode::parse("11120112MB0000001-000117001-01").unwrap(),
            basic_code: BasicCode::parse("000117001").unwrap(),
            department_code: credit("91350100M000100Y4"),
            department_name: "天津市津南区卫生健康委员会".into(),
            region: RegionCode::parse("120112").unwrap(),
            level: ExerciseLevel::County,
            acceptance_conditions: "夫妻双方，至少一方户籍在本区；\r\n已婚".into(),
            statutory_limit: TimeLimit {
                amount: 20,
                unit: TimeUnit::WorkingDays,
            },
            promised_limit: TimeLimit {
                amount: 5,
                unit: TimeUnit::WorkingDays,
            },
            case_type: CaseType::Promised,
            visits: 0,
            online_depth: OnlineDepth::Level4,
            charged: true,
            fee_basis: "《收费标准》（津价〔2020〕1号）".into(),
            audiences: vec![Audience::NaturalPerson, Audience::Enterprise],
            themes: vec!["生育收养".into(), "户籍办理".into()],
            channels: vec![Channel::Counter, Channel::Online, Channel::Mobile],
            anywhere: Some(AnywhereScope::CrossProvince),
            hall_address: "津南区咸水沽镇政务服务中心 2 楼 \"B\" 区".into(),
            hours: "周一至周五 9:00-12:00, 13:30-17:00".into(),
            consult_phone: "022-12345678".into(),
            complaint_phone: "12345".into(),
            result_name: "生育服务登记证".into(),
            extras: pairs(&[("备注", "含逗号,和\"引号\"\n以及换行"), ("来源系统", "")]),
            handling_items: Vec::new(),
            materials: vec![
                material("居民身份证", "2"),
                MaterialRequirement {
                    name: "结婚证".into(),
                    issuer: "民政部门".into(),
                    originals: 1,
                    copies: 0,
                    mandatory: false,
                    licence_type: "结婚证".into(),
                    instructions: "复印件须与原件一致，\"加盖\"公章".into(),
                    extras: pairs(&[("页数", "")]),
                },
            ],
            identity_required: true,
        },
    };
    let bare = CatalogEntry {
        standard: StandardItem {
            basic_code: BasicCode::parse("000201002").unwrap(),
            name: "个体工商户设立登记".into(),
            item_type: ItemType::Licensing,
            levels: LevelSet::of([ExerciseLevel::Municipal, ExerciseLevel::County]).unwrap(),
            legal_basis: "《促进个体工商户发展条例》".into(),
        },
        implementation: Implementation {
            code: ImplCode::parse("000201002-0002").unwrap(),
            basic_code: BasicCode::parse("000201002").unwrap(),
            department_code: credit("11120000MB1234567"),
            department_name: "某市市场监督管理局".into(),
            region: RegionCode::parse("120100000000").unwrap(),
            level: ExerciseLevel::Municipal,
            acceptance_conditions: String::new(),
            statutory_limit: TimeLimit {
                amount: 15,
                unit: TimeUnit::NaturalDays,
            },
            promised_limit: TimeLimit {
                amount: 1,
                unit: TimeUnit::WorkingDays,
            },
            case_type: CaseType::Immediate,
            visits: 2,
            online_depth: OnlineDepth::Level1,
            charged: false,
            fee_basis: String::new(),
            audiences: vec![Audience::UnincorporatedEnterprise],
            themes: Vec::new(),
            channels: vec![Channel::Counter],
            anywhere: None,
            hall_address: String::new(),
            hours: String::new(),
            consult_phone: String::new(),
            complaint_phone: String::new(),
            result_name: String::new(),
            extras: pairs(&[("备注", ""), ("来源系统", "旧系统")]),
            handling_items: Vec::new(),
            materials: Vec::new(),
            identity_required: true,
        },
    };
    let mut third = full.clone();
    third.implementation.code = ImplCode::parse("A-3").unwrap();
    third.implementation.region = RegionCode::parse("120112100201").unwrap();
    third.implementation.anywhere = None;
    third.implementation.visits = 1;
    third.implementation.online_depth = OnlineDepth::Level3;
    third.implementation.themes = vec!["设立变更".into()];
    third.implementation.audiences = vec![Audience::GovernmentBody, Audience::OtherOrganisation];
    third.implementation.channels = vec![Channel::Post];
    third.implementation.extras = pairs(&[("备注", "第三条"), ("来源系统", "新系统")]);
    third.implementation.materials = vec![material("营业执照", "1")];
    vec![full, bare, third]
}

/// A CSV record, quoted where needed.
pub fn csv_record(fields: &[&str]) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push_str("\r\n");
    out
}

/// A valid items row (as cells in ITEM_HEADERS order) with the given 实施编码.
pub fn good_item_row(impl_code: &str) -> Vec<String> {
    let c = credit("91350100M000100Y4");
    [
        "000117001",
        "生育登记",
        "公共服务",
        "县级",
        "某区卫生健康委员会",
        c.as_str(),
        "120112",
        impl_code,
        "《人口与计划生育法》",
        "",
        "20",
        "工作日",
        "5",
        "工作日",
        "承诺件",
        "0",
        "四级",
        "否",
        "",
        "自然人；企业法人",
        "生育收养",
        "窗口办理;网上办理",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A valid materials row for the given 实施编码.
pub fn good_material_row(impl_code: &str, name: &str) -> Vec<String> {
    [impl_code, name, "申请人自备", "1", "0", "是", "", ""]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

pub fn csv_file(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut s = csv_record(headers);
    for r in rows {
        let refs: Vec<&str> = r.iter().map(String::as_str).collect();
        s.push_str(&csv_record(&refs));
    }
    s.into_bytes()
}

pub fn items_csv(rows: &[Vec<String>]) -> Vec<u8> {
    csv_file(&ITEM_HEADERS, rows)
}

pub fn materials_csv(rows: &[Vec<String>]) -> Vec<u8> {
    csv_file(&MATERIAL_HEADERS, rows)
}

pub fn col(headers: &[&str], name: &str) -> usize {
    headers.iter().position(|h| *h == name).unwrap()
}
