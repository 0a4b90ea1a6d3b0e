#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::codes::ResidentId;

const FOOD: &str = include_str!("../../../yiwang-app/demo/forms/food_business_licence.json");
const INDIVIDUAL: &str = include_str!("../../../yiwang-app/demo/forms/individual_business.json");
const BIRTH: &str = include_str!("../../../yiwang-app/demo/forms/birth_registration.json");

fn food() -> FormDefinition {
    load(FOOD).unwrap()
}

fn id(first17: &str) -> String {
    ResidentId::with_check_char(first17)
        .unwrap()
        .reveal()
        .to_string()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn good_food() -> Vec<(String, String)> {
    let rep = id("12011219800101123");
    let m0 = id("12011219900202234");
    pairs(&[
        ("business_name", "津南区小王餐馆"),
        ("credit_code", "91120112MA05T8XK4U"),
        ("legal_rep", "王小明"),
        ("legal_rep_id", &rep),
        ("phone", "138 0013 8000"),
        ("address.region", "120112100000"),
        ("address.detail", "咸水沽镇津沽路 1 号"),
        ("business_types", "hot_food"),
        ("business_types", "prepackaged"),
        ("area", "120.5"),
        ("online", "no"),
        ("website", "should be dropped"),
        ("managers[0].name", "李四"),
        ("managers[0].id_number", &m0),
        ("managers[0].phone", "13900139000"),
        ("_action", "continue"),
    ])
}

#[test]
fn demo_definitions_load() {
    for json in [FOOD, INDIVIDUAL, BIRTH] {
        let def = load(json).unwrap();
        // Serialising and loading again gives the same definition.
        assert_eq!(load(&serde_json::to_string(&def).unwrap()).unwrap(), def);
    }
    validate_definition(&default_form()).unwrap();
}

#[test]
fn credit_code_fixture_is_valid() {
    assert!(crate::codes::CreditCode::parse("91120112MA05T8XK4U").is_ok());
}

#[test]
fn a_good_submission_validates_and_drops_hidden_fields() {
    let def = food();
    let raw = RawAnswers::from_pairs(&def, good_food()).unwrap();
    assert_eq!(raw.control("_action"), Some("continue"));
    let a = validate(&def, &raw, Mode::Submit).unwrap();
    assert_eq!(a.form_key, "food_business_licence");
    assert!(a.get("website").is_none(), "hidden field kept");
    assert_eq!(
        a.get("business_types"),
        Some(&Value::Choices(vec![
            "prepackaged".into(),
            "hot_food".into()
        ]))
    );
    assert_eq!(a.get("area").unwrap().raw_string().unwrap(), "120.50");
    assert!(matches!(a.get("phone"), Some(Value::Phone(p)) if p.reveal() == "13800138000"));
    let Some(Value::Group(rows)) = a.get("managers") else {
        panic!()
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(a.regions().len(), 1);
}

#[test]
fn show_if_makes_a_field_required_only_when_shown() {
    let def = food();
    let mut p = good_food();
    for (k, v) in p.iter_mut() {
        if k == "online" {
            *v = "yes".into();
        }
        if k == "website" {
            *v = String::new();
        }
    }
    let raw = RawAnswers::from_pairs(&def, p).unwrap();
    let errs = validate(&def, &raw, Mode::Submit).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "website");
    assert_eq!(errs[0].key, "forms.err.required");
    // Drafts never require.
    assert!(validate(&def, &raw, Mode::Draft).is_ok());
}

#[test]
fn submit_reports_each_problem_by_posted_name() {
    let def = food();
    let raw = RawAnswers::from_pairs(
        &def,
        pairs(&[
            ("credit_code", "91120112MA05T8XK4X"),
            ("legal_rep_id", "120112198001011230"),
            ("phone", "12345"),
            ("address.region", "110101000000"),
            ("business_types", "hot_food"),
            ("area", "0.5"),
            ("online", "maybe"),
            ("start_date", "2023-02-30"),
            ("managers[1].name", "赵六"),
        ]),
    )
    .unwrap();
    let errs = validate(&def, &raw, Mode::Submit).unwrap_err();
    let got: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.field.as_str(), e.key.as_str()))
        .collect();
    for want in [
        ("business_name", "forms.err.required"),
        ("credit_code", "forms.err.credit_code"),
        ("legal_rep_id", "forms.err.resident_id"),
        ("phone", "forms.err.phone"),
        ("address.region", "forms.err.region_outside"),
        ("address.detail", "forms.err.required"),
        ("area", "forms.err.below_min"),
        ("online", "forms.err.unknown_option"),
        ("start_date", "forms.err.bad_date"),
        ("managers[1].id_number", "forms.err.required"),
        ("managers[1].phone", "forms.err.required"),
    ] {
        assert!(got.contains(&want), "missing {want:?} in {got:?}");
    }
    // The blank row 0 was dropped, so the group has one row and no row-count error.
    assert!(!got.iter().any(|(f, _)| *f == "managers"), "{got:?}");
    // Draft: only what is filled is checked.
    let draft = validate(&def, &raw, Mode::Draft).unwrap_err();
    assert!(
        draft.iter().all(|e| e.key != "forms.err.required"),
        "{draft:?}"
    );
    assert!(draft.iter().any(|e| e.field == "credit_code"));
}

#[test]
fn numbers_dates_and_text_rules() {
    let def = food();
    let check = |name: &str, v: &str| -> Option<String> {
        let raw = RawAnswers::from_pairs(&def, pairs(&[(name, v)])).unwrap();
        validate(&def, &raw, Mode::Draft)
            .err()
            .map(|e| e[0].key.clone())
    };
    assert_eq!(check("area", "１２０．５"), None);
    assert_eq!(
        check("area", "12.345").as_deref(),
        Some("forms.err.too_many_decimals")
    );
    assert_eq!(
        check("area", "1e3").as_deref(),
        Some("forms.err.not_a_number")
    );
    assert_eq!(
        check("area", "100000.01").as_deref(),
        Some("forms.err.above_max")
    );
    assert_eq!(
        check("area", "99999999999999999999").as_deref(),
        Some("forms.err.not_a_number")
    );
    assert_eq!(
        check("start_date", "2023-12-31").as_deref(),
        Some("forms.err.date_before")
    );
    assert_eq!(
        check("start_date", "2031-01-01").as_deref(),
        Some("forms.err.date_after")
    );
    assert_eq!(
        check("business_name", "王").as_deref(),
        Some("forms.err.too_short")
    );
    assert_eq!(
        check("business_name", &"很".repeat(101)).as_deref(),
        Some("forms.err.too_long")
    );
    assert_eq!(
        check("business_name", "a\u{0}b").as_deref(),
        Some("forms.err.bad_characters")
    );
    assert_eq!(check("remarks", "line 1\r\nline 2"), None);
    assert_eq!(
        check("legal_rep", "a\nb").as_deref(),
        Some("forms.err.bad_characters")
    );
}

#[test]
fn forged_and_oversize_input_is_refused_whole() {
    let def = food();
    for (name, want) in [
        ("is_admin", "unknown_field"),
        ("address", "unknown_field"),
        ("address.street", "unknown_field"),
        ("managers", "unknown_field"),
        ("managers[0].salary", "unknown_field"),
        ("managers[01].name", "unknown_field"),
        ("managers[-1].name", "unknown_field"),
        ("managers[5].name", "too_many_rows"),
        ("managers[99999999999].name", "unknown_field"),
        ("business_name.region", "unknown_field"),
    ] {
        let e = RawAnswers::from_pairs(&def, pairs(&[(name, "x")])).unwrap_err();
        assert_eq!(e.key(), want, "{name}");
    }
    let e = RawAnswers::from_pairs(&def, pairs(&[("phone", "1"), ("phone", "2")])).unwrap_err();
    assert_eq!(e.key(), "repeated_field");
    let nine = vec![("business_types".to_string(), "bulk".to_string()); 9];
    assert_eq!(
        RawAnswers::from_pairs(&def, nine).unwrap_err().key(),
        "repeated_field"
    );
    let long = "x".repeat(MAX_VALUE_BYTES + 1);
    let e = RawAnswers::from_pairs(&def, pairs(&[("remarks", &long)])).unwrap_err();
    assert_eq!(e.key(), "too_long");
    let many = vec![("_x".to_string(), String::new()); MAX_PAIRS + 1];
    assert_eq!(
        RawAnswers::from_pairs(&def, many).unwrap_err().key(),
        "too_many_values"
    );
    let controls: Vec<_> = (0..=MAX_CONTROLS)
        .map(|i| (format!("_c{i}"), String::new()))
        .collect();
    assert_eq!(
        RawAnswers::from_pairs(&def, controls).unwrap_err().key(),
        "too_many_values"
    );
    // Error messages carry shortened names only.
    let e = RawAnswers::from_pairs(&def, pairs(&[(&"z".repeat(150), "")])).unwrap_err();
    assert!(format!("{e}").len() < 100);
}

#[test]
fn add_and_remove_rows() {
    let def = food();
    let mut raw = RawAnswers::from_pairs(
        &def,
        pairs(&[
            ("managers[0].name", "甲"),
            ("managers[1].name", "乙"),
            ("managers[2].name", "丙"),
            ("_remove", "managers[1]"),
        ]),
    )
    .unwrap();
    assert_eq!(
        raw.apply_row_action(&def),
        Some(RowAction::Removed {
            group: "managers".into(),
            row: 1
        })
    );
    assert_eq!(raw.rows("managers"), 2);
    assert_eq!(raw.get("managers[1].name"), "丙");
    let mut raw = RawAnswers::from_pairs(&def, pairs(&[("_add", "managers")])).unwrap();
    assert_eq!(
        raw.apply_row_action(&def),
        Some(RowAction::Added {
            group: "managers".into()
        })
    );
    assert_eq!(raw.rows("managers"), 1);
    let mut full = RawAnswers::from_pairs(
        &def,
        pairs(&[("managers[4]._row", ""), ("_add", "managers")]),
    )
    .unwrap();
    assert!(matches!(
        full.apply_row_action(&def),
        Some(RowAction::Refused { .. })
    ));
    let mut forged = RawAnswers::from_pairs(&def, pairs(&[("_add", "phone")])).unwrap();
    assert!(matches!(
        forged.apply_row_action(&def),
        Some(RowAction::Refused { .. })
    ));
    let mut none = RawAnswers::from_pairs(&def, pairs(&[("_action", "save")])).unwrap();
    assert_eq!(none.apply_row_action(&def), None);
}

#[test]
fn group_row_counts_are_checked_on_submit() {
    let def = food();
    let p: Vec<_> = good_food()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("managers"))
        .collect();
    let raw = RawAnswers::from_pairs(&def, p).unwrap();
    let errs = validate(&def, &raw, Mode::Submit).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (errs[0].field.as_str(), errs[0].key.as_str()),
        ("managers", "forms.err.required")
    );
}

#[test]
fn answers_json_round_trip_and_raw_round_trip() {
    let def = food();
    let raw = RawAnswers::from_pairs(&def, good_food()).unwrap();
    let a = validate(&def, &raw, Mode::Submit).unwrap();
    let json = a.to_json();
    assert!(json.contains("\"type\":\"resident_id\""), "{json}");
    let back = Answers::from_json(&json).unwrap();
    assert_eq!(back, a);
    let again = validate(&def, &RawAnswers::from_answers(&def, &a), Mode::Submit).unwrap();
    assert_eq!(again, a);
    let pairs_back = RawAnswers::from_pairs(&def, raw.to_pairs()).unwrap();
    assert_eq!(validate(&def, &pairs_back, Mode::Submit).unwrap(), a);
    // A stored identity number that fails its check digit is refused on load.
    let forged = json.replace(&id("12011219800101123"), "120112198001011230");
    assert!(Answers::from_json(&forged).is_err());
}

#[test]
fn summary_follows_the_form_and_hides_hidden_fields() {
    let def = food();
    let a = validate(
        &def,
        &RawAnswers::from_pairs(&def, good_food()).unwrap(),
        Mode::Submit,
    )
    .unwrap();
    let s = summary(&def, &a);
    assert_eq!(s.len(), 3);
    let rows: Vec<&str> = s
        .iter()
        .flat_map(|s| s.rows.iter().map(|r| r.field.as_str()))
        .collect();
    assert!(!rows.contains(&"website"));
    assert!(rows.contains(&"start_date"));
    let area = s[1].rows.iter().find(|r| r.field == "area").unwrap();
    assert_eq!(area.value, SummaryValue::Plain("120.50 m²".into()));
    let types = s[1]
        .rows
        .iter()
        .find(|r| r.field == "business_types")
        .unwrap();
    let SummaryValue::Options(labels) = &types.value else {
        panic!()
    };
    assert_eq!(labels[0].zh, "预包装食品销售");
    let m = &s[2].rows[0];
    let SummaryValue::Group(rows) = &m.value else {
        panic!()
    };
    assert_eq!(rows[0][1].field, "managers[0].id_number");
    assert!(
        matches!(&rows[0][1].value, SummaryValue::Personal { masked, .. } if masked.contains('*'))
    );
}

#[test]
fn group_member_conditions_see_their_own_row() {
    let def = load(INDIVIDUAL).unwrap();
    let raw = RawAnswers::from_pairs(
        &def,
        pairs(&[("form", "personal"), ("family_members[0].name", "张三")]),
    )
    .unwrap();
    let a = validate(&def, &raw, Mode::Draft).unwrap();
    assert!(a.get("family_members").is_none(), "hidden group kept");
    let raw = RawAnswers::from_pairs(&def, pairs(&[("form", "family")])).unwrap();
    let errs = validate(&def, &raw, Mode::Submit).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.field == "family_members" && e.key == "forms.err.too_few_items")
    );
}

fn def_errs(json: &str) -> Vec<(String, String)> {
    load(json)
        .unwrap_err()
        .into_iter()
        .map(|e| (e.key().to_string(), e.field().to_string()))
        .collect()
}

fn wrap(fields: &str) -> String {
    format!(
        r#"{{"key":"t","title":{{"zh":"测试"}},"sections":[{{"key":"s","title":{{"zh":"节"}},"fields":[{fields}]}}]}}"#
    )
}

#[test]
fn invalid_definitions_name_the_field() {
    let yes_no =
        r#""options":[{"value":"yes","label":{"zh":"是"}},{"value":"no","label":{"zh":"否"}}]"#;
    let cases: Vec<(String, (&str, &str))> = vec![
        (
            wrap(
                r#"{"key":"a","label":{"zh":"A"},"kind":"text"},{"key":"a","label":{"zh":"B"},"kind":"text"}"#,
            ),
            ("duplicate_key", "a"),
        ),
        (
            wrap(r#"{"key":"A-1","label":{"zh":"A"},"kind":"text"}"#),
            ("invalid_key", "A-1"),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"choice","options":[]}"#),
            ("empty_choices", "a"),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"text","min_len":5,"max_len":2}"#),
            ("bad_limits", "a"),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"number","min":5,"max":2}"#),
            ("bad_limits", "a"),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"date","min_date":"2024-02-30"}"#),
            ("bad_limits", "a"),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"text","min":1}"#),
            ("rule_not_applicable", "a"),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":""},"kind":"text"}"#),
            ("empty_label", "a"),
        ),
        (
            wrap(
                r#"{"key":"a","label":{"zh":"A"},"kind":"text","show_if":{"field":"nope","any_of":["x"]}}"#,
            ),
            ("unknown_condition_field", "a"),
        ),
        (
            wrap(&format!(
                r#"{{"key":"c","label":{{"zh":"C"}},"kind":"choice",{yes_no}}},{{"key":"a","label":{{"zh":"A"}},"kind":"text","show_if":{{"field":"c","any_of":["maybe"]}}}}"#
            )),
            ("condition_unknown_option", "a"),
        ),
        (
            wrap(
                r#"{"key":"b","label":{"zh":"B"},"kind":"text"},{"key":"a","label":{"zh":"A"},"kind":"text","show_if":{"field":"b","any_of":["x"]}}"#,
            ),
            ("condition_not_choice", "a"),
        ),
        (
            wrap(&format!(
                r#"{{"key":"a","label":{{"zh":"A"}},"kind":"choice",{yes_no},"show_if":{{"field":"b","any_of":["yes"]}}}},{{"key":"b","label":{{"zh":"B"}},"kind":"choice",{yes_no},"show_if":{{"field":"a","any_of":["yes"]}}}}"#
            )),
            ("condition_cycle", "a"),
        ),
        (
            wrap(&format!(
                r#"{{"key":"a","label":{{"zh":"A"}},"kind":"choice",{yes_no},"show_if":{{"field":"a","any_of":["yes"]}}}}"#
            )),
            ("condition_cycle", "a"),
        ),
        (
            wrap(r#"{"key":"g","label":{"zh":"G"},"kind":"group","fields":[]}"#),
            ("empty_group", "g"),
        ),
        (
            wrap(
                r#"{"key":"g","label":{"zh":"G"},"kind":"group","fields":[{"key":"h","label":{"zh":"H"},"kind":"group","fields":[{"key":"x","label":{"zh":"X"},"kind":"text"}]}]}"#,
            ),
            ("nested_group", "g.h"),
        ),
        (
            wrap(
                r#"{"key":"g","label":{"zh":"G"},"kind":"group","max_items":500,"fields":[{"key":"x","label":{"zh":"X"},"kind":"text"}]}"#,
            ),
            ("bad_limits", "g"),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"address","region_root":"12345"}"#),
            ("bad_limits", "a"),
        ),
        (wrap(""), ("no_fields", "")),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"text","requierd":true}"#),
            ("malformed", ""),
        ),
        (
            wrap(r#"{"key":"a","label":{"zh":"A"},"kind":"password"}"#),
            ("malformed", ""),
        ),
        ("not json".to_string(), ("malformed", "")),
    ];
    for (json, (key, field)) in cases {
        let errs = def_errs(&json);
        assert!(
            errs.contains(&(key.to_string(), field.to_string())),
            "want {key} at {field:?}, got {errs:?} for {json}"
        );
    }
    // The message key and arguments of an error.
    let e = load(&wrap(
        r#"{"key":"a","label":{"zh":"A"},"kind":"text","min":1}"#,
    ))
    .unwrap_err();
    assert_eq!(e[0].message_key(), "forms.def.rule_not_applicable");
    assert_eq!(e[0].args().get("rule").map(String::as_str), Some("min"));
}

#[test]
fn decimal_display_and_parse() {
    for (s, places, shown) in [
        ("0", 0, "0"),
        ("-1.5", 2, "-1.50"),
        ("0.05", 2, "0.05"),
        ("-0.5", 1, "-0.5"),
        ("007", 0, "7"),
    ] {
        let d = Decimal::parse(s, places).unwrap();
        assert_eq!(d.to_string(), shown);
        assert_eq!(Decimal::parse(&d.to_string(), places).unwrap(), d);
    }
    for bad in ["", "-", ".5", "5.", "1.2.3", "+1", "1 000", "١٢"] {
        assert!(Decimal::parse(bad, 2).is_err(), "{bad}");
    }
}

#[test]
fn prefill_gives_each_account_only_what_means_it() {
    let def = load(&wrap(
        r#"{"key":"name","label":{"zh":"姓名"},"kind":"text","prefill":"person_name"},
           {"key":"pid","label":{"zh":"身份证"},"kind":"resident_id","prefill":"person_id"},
           {"key":"org","label":{"zh":"名称"},"kind":"text","prefill":"org_name"},
           {"key":"code","label":{"zh":"代码"},"kind":"credit_code","prefill":"org_code"},
           {"key":"tel","label":{"zh":"电话"},"kind":"phone","prefill":"phone"},
           {"key":"other","label":{"zh":"其他"},"kind":"text"}"#,
    ))
    .unwrap();
    let person = AccountFacts {
        organisation: false,
        display_name: "赵明",
        legal_rep: None,
        id_number: "12011219800101002X",
        phone: "13900000000",
    };
    assert_eq!(
        def.prefill_pairs(&person),
        vec![
            ("name".to_string(), "赵明".to_string()),
            ("pid".to_string(), "12011219800101002X".to_string()),
            ("tel".to_string(), "13900000000".to_string()),
        ]
    );
    let firm = AccountFacts {
        organisation: true,
        display_name: "津南区小李面馆",
        legal_rep: Some("李四"),
        id_number: "91350100M000100Y43",
        phone: " ",
    };
    assert_eq!(
        def.prefill_pairs(&firm),
        vec![
            ("name".to_string(), "李四".to_string()),
            ("org".to_string(), "津南区小李面馆".to_string()),
            ("code".to_string(), "91350100M000100Y43".to_string()),
        ],
        "a blank phone fills nothing"
    );
    // A source on a kind that cannot hold it is a definition error.
    let e = load(&wrap(
        r#"{"key":"a","label":{"zh":"A"},"kind":"number","prefill":"phone"}"#,
    ))
    .unwrap_err();
    assert_eq!(e[0].args().get("rule").map(String::as_str), Some("prefill"));
}

#[test]
fn the_certificate_takes_its_holder_and_lines_from_the_answers() {
    let def = food();
    let mut p = good_food();
    p.push(("business_form".into(), "catering".into()));
    let raw = RawAnswers::from_pairs(&def, p).unwrap();
    let answers = validate(&def, &raw, Mode::Submit).unwrap();
    let names = |c: &crate::codes::RegionCode| {
        (c.as_str() == "120112100000").then(|| "天津市津南区咸水沽镇".to_string())
    };
    let facts = certificate_facts(&def, &answers, &names).unwrap();
    assert_eq!(facts.holder.as_deref(), Some("津南区小王餐馆"));
    let (label, code) = facts.holder_code.clone().unwrap();
    assert_eq!(
        (label.zh.as_str(), code.as_str()),
        ("统一社会信用代码", "91120112MA05T8XK4U")
    );
    assert_eq!(facts.number_prefix, "JY");
    let lines: Vec<(&str, &str)> = facts
        .lines
        .iter()
        .map(|(l, v)| (l.zh.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            ("法定代表人（负责人）", "王小明"),
            ("经营场所", "天津市津南区咸水沽镇咸水沽镇津沽路 1 号"),
            ("主体业态", "餐饮服务经营者"),
            // In the form's order of options, as the licence lists them.
            ("经营项目", "预包装食品销售、热食类食品制售"),
        ]
    );
    // An unanswered optional line is left out, not printed empty.
    let raw = RawAnswers::from_pairs(&def, good_food()).unwrap();
    let answers = validate(&def, &raw, Mode::Submit).unwrap();
    let facts = certificate_facts(&def, &answers, &names).unwrap();
    assert!(facts.lines.iter().all(|(l, _)| l.zh != "主体业态"));
    // A form without a mapping: the certificate names the account holder.
    assert!(certificate_facts(&default_form(), &answers, &names).is_none());
}

#[test]
fn a_certificate_mapping_must_name_fields_of_the_form() {
    let mut def = food();
    let spec = def.certificate.as_mut().unwrap();
    spec.holder = Some("no_such_field".into());
    spec.lines.push(CertificateLine {
        label: Text::zh("管理人员"),
        field: "managers".into(),
    });
    spec.number_prefix = "jy1".into();
    let errs = validate_definition(&def).unwrap_err();
    let keys: Vec<(&str, &str)> = errs.iter().map(|e| (e.key(), e.field())).collect();
    assert!(
        keys.contains(&("unknown_certificate_field", "no_such_field")),
        "{keys:?}"
    );
    assert!(
        keys.contains(&("unknown_certificate_field", "managers")),
        "a group cannot be printed: {keys:?}"
    );
    assert!(
        keys.contains(&("invalid_key", "certificate.number_prefix")),
        "{keys:?}"
    );
}
