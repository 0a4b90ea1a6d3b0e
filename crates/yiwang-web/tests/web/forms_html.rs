//! Rendering and parsing of application forms, without a server: accessible markup (labels,
//! error summary links, aria-describedby), add-another without JavaScript, strict body parsing
//! (malformed UTF-8, bad escapes, forged names, oversize input) and hostile values escaped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use yiwang_domain::codes::ResidentId;
use yiwang_domain::forms::*;
use yiwang_i18n::Lang;
use yiwang_web::form_body::*;
use yiwang_web::forms_html::*;

const FOOD: &str = include_str!("../../../yiwang-app/demo/forms/food_business_licence.json");

fn regions() -> BTreeMap<String, Vec<RegionOption>> {
    let mut m = BTreeMap::new();
    m.insert(
        "120112".to_string(),
        vec![
            RegionOption {
                code: "120112100000".into(),
                name: "咸水沽镇".into(),
                depth: 0,
            },
            RegionOption {
                code: "120112101000".into(),
                name: "葛沽镇<b>".into(),
                depth: 0,
            },
        ],
    );
    m
}

fn render(def: &FormDefinition, raw: &RawAnswers, errors: &[FieldError], lang: Lang) -> String {
    let regions = regions();
    let view = FormView {
        def,
        raw,
        errors,
        lang,
        regions: &regions,
        default_action: "continue",
        from_account: &[],
    };
    form_html(
        &view,
        "/apply/x",
        &[("continue", "继续"), ("save", "保存草稿")],
    )
    .to_string()
}

const XSS: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'";

#[test]
fn hostile_values_come_back_escaped() {
    let def = load(FOOD).unwrap();
    let body = format!(
        "business_name={0}&legal_rep={0}&remarks={0}&address.region={0}&address.detail={0}&area={0}&managers%5B0%5D.name={0}&online={0}",
        urlencode(XSS)
    );
    let raw = parse_form_body(&def, body.as_bytes()).unwrap();
    assert_eq!(raw.get("business_name"), XSS);
    let errors = validate(&def, &raw, Mode::Submit).unwrap_err();
    for lang in Lang::ALL {
        let html = render(&def, &raw, &errors, lang);
        assert!(!html.contains("<script>"), "{lang:?}");
        assert!(!html.contains("<img"), "{lang:?}");
        assert!(!html.contains("葛沽镇<b>"), "region names escaped");
        assert!(html.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;"
        ));
        // The posted region that is not in the list stays visible (escaped) with its error.
        assert!(html.contains("<option value=\"&lt;script&gt;"), "{lang:?}");
    }
    // The summary page escapes too.
    let ok = parse_form_body(
        &def,
        format!(
            "business_name={}&remarks={}",
            urlencode(XSS),
            urlencode("a\nb<i>")
        )
        .as_bytes(),
    )
    .unwrap();
    let answers = validate(&def, &ok, Mode::Draft).unwrap();
    let names = HashMap::new();
    let html = summary_html(
        &SummaryView {
            lang: Lang::Zh,
            region_names: &names,
            change_href: Some("/apply/x?a=1&b=\"2\""),
            reveal: true,
        },
        &summary(&def, &answers),
    );
    assert!(
        !html.contains("<script>") && !html.contains("<i>"),
        "{html}"
    );
    assert!(html.contains("a<br>b&lt;i&gt;"), "{html}");
    assert!(
        html.contains("href=\"/apply/x?a=1&amp;b=&quot;2&quot;#f-business_name\""),
        "{html}"
    );
}

#[test]
fn controls_are_labelled_and_errors_linked() {
    let def = load(FOOD).unwrap();
    let raw =
        parse_form_body(&def, b"phone=123&managers%5B0%5D.name=%E6%9D%8E&online=yes").unwrap();
    let errors = validate(&def, &raw, Mode::Submit).unwrap_err();
    let html = render(&def, &raw, &errors, Lang::Zh);
    // Error summary first, each error linking to its control.
    let summary_at = html.find("error-summary").unwrap();
    assert!(summary_at < html.find("<form").unwrap());
    for e in &errors {
        let id = html_id(&e.field);
        assert!(html.contains(&format!("href=\"#{id}\"")), "no link to {id}");
        assert!(html.contains(&format!("id=\"{id}\"")), "no control {id}");
        // An address's two parts share one error line (the fieldset's).
        let line = html_id(
            e.field
                .trim_end_matches(".region")
                .trim_end_matches(".detail"),
        );
        assert!(
            html.contains(&format!("id=\"e-{line}\"")) || e.field == "managers",
            "no error line for {id}"
        );
    }
    assert!(
        html.contains("联系电话：请填写 11 位手机号码"),
        "label and message in the summary"
    );
    assert!(html.contains("食品安全管理人员 第 1 项 · 身份证号码：此项必须填写"));
    // Labels point at their controls; errors are announced with the control.
    assert!(html.contains("<label for=\"f-phone\">"));
    assert!(html.contains("id=\"f-phone\" name=\"phone\" value=\"123\" aria-describedby=\"e-f-phone\" aria-invalid=\"true\""));
    assert!(html.contains("<label for=\"f-address-region\">"));
    assert!(html.contains("<label for=\"f-address-detail\">"));
    assert!(html.contains("<option value=\"120112100000\">咸水沽镇</option>"));
    // The hidden default button comes before any row button; no script anywhere.
    let default_at = html
        .find("name=\"_action\" value=\"continue\" class=\"visually-hidden\"")
        .unwrap();
    assert!(default_at < html.find("name=\"_add\"").unwrap());
    assert!(!html.to_lowercase().contains("<script"));
    assert!(html.contains("只在「是否从事网络经营」选择「是」时填写"));
    assert!(html.len() < 40_000, "page stays small: {}", html.len());
    // English.
    let en = render(&def, &raw, &errors, Lang::En);
    assert!(
        en.contains("Phone: Enter an 11-digit mobile number"),
        "{en}"
    );
    assert!(en.contains("Add another Food safety manager"));
}

#[test]
fn add_another_and_remove_without_javascript() {
    let def = load(FOOD).unwrap();
    let id = ResidentId::with_check_char("12011219900202234").unwrap();
    let body = format!(
        "managers%5B0%5D._row=&managers%5B0%5D.name=%E7%94%B2&managers%5B0%5D.id_number={}&_add=managers",
        id.reveal()
    );
    let mut raw = parse_form_body(&def, body.as_bytes()).unwrap();
    assert_eq!(
        raw.apply_row_action(&def),
        Some(RowAction::Added {
            group: "managers".into()
        })
    );
    let html = render(&def, &raw, &[], Lang::Zh);
    assert!(html.contains("name=\"managers[1].name\""), "a second row");
    assert!(html.contains("value=\"甲\""), "the first row kept");
    assert!(html.contains("name=\"_remove\" value=\"managers[1]\""));
    assert!(!html.contains("name=\"managers[2].name\""));
    // Remove the first row: the second moves up.
    let mut pairs = raw.to_pairs();
    pairs.push(("managers[1].name".into(), "乙".into()));
    pairs.push(("_remove".into(), "managers[0]".into()));
    let mut raw = RawAnswers::from_pairs(&def, pairs).unwrap();
    assert!(matches!(
        raw.apply_row_action(&def),
        Some(RowAction::Removed { row: 0, .. })
    ));
    assert_eq!(raw.get("managers[0].name"), "乙");
    assert_eq!(raw.rows("managers"), 1);
    // At the maximum (5) there is no add button, only a note.
    let mut full = RawAnswers::new();
    full.ensure_rows("managers", 5);
    let html = render(&def, &full, &[], Lang::Zh);
    assert!(!html.contains("name=\"_add\""));
    assert!(html.contains("最多可填写 5 项"));
}

#[test]
fn bodies_are_parsed_strictly() {
    let def = load(FOOD).unwrap();
    let cases: Vec<(&[u8], &str)> = vec![
        (b"business_name=%FF%FE", "malformed"),
        (b"business_name=\xff\xfe", "malformed"),
        (b"business_name=%E6%9D", "malformed"),
        (b"business_name=%zz", "malformed"),
        (b"business_name=%4", "malformed"),
        (b"%FF=x", "malformed"),
        (b"is_admin=1", "unknown_field"),
        (b"business_name=a&business_name=b", "repeated_field"),
        (b"managers%5B7%5D.name=x", "too_many_rows"),
        (b"managers%5B0%5D.password=x", "unknown_field"),
    ];
    for (body, want) in cases {
        let e = parse_form_body(&def, body).unwrap_err();
        assert_eq!(e.key(), want, "{}", String::from_utf8_lossy(body));
    }
    let huge = format!("remarks={}", "a".repeat(MAX_VALUE_BYTES + 1));
    assert_eq!(
        parse_form_body(&def, huge.as_bytes()).unwrap_err().key(),
        "too_long"
    );
    let many = "_x=1&".repeat(MAX_PAIRS + 1);
    assert_eq!(
        parse_form_body(&def, many.as_bytes()).unwrap_err().key(),
        "too_many_values"
    );
    let big = vec![b'a'; MAX_BODY_BYTES + 1];
    assert!(parse_pairs(&big).is_err());
    // Plus is a space, a lone name has an empty value, empty parts are skipped.
    let p = parse_pairs(b"a=1+2&&b&c=%E4%B8%AD").unwrap();
    assert_eq!(
        p,
        vec![
            ("a".into(), "1 2".into()),
            ("b".into(), String::new()),
            ("c".into(), "中".into())
        ]
    );
}

#[test]
fn declaration_block() {
    let html = declaration_html(Lang::Zh, false, Some("请阅读声明并勾选同意后再提交"));
    assert!(html.contains("name=\"_declaration\" value=\"1\""));
    assert!(html.contains("aria-describedby=\"e-f-_declaration\""));
    assert!(html.contains("本人承诺"));
    let e = declaration_error();
    assert_eq!(error_text(Lang::Zh, &e), "请阅读声明并勾选同意后再提交");
    let def = load(FOOD).unwrap();
    // The checkbox is a page control: posting it is never a forged field.
    let raw = parse_form_body(&def, b"_declaration=1").unwrap();
    assert_eq!(raw.control(DECLARATION_CONTROL), Some("1"));
    assert_eq!(label_of(&def, Lang::Zh, "_declaration"), "申请人声明");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Byte-for-byte snapshots of the rendered forms. Taken from the string-pushing renderer before
// it moved to askama templates, so they prove the templates write the same HTML. The snapshot
// folder is fixed (not derived from this file's place) so the test may move between binaries.

/// A form with every field kind and the cases the demo forms do not reach: a long single choice
/// (a select), an address without a region list, a condition inside a group, a group without a
/// minimum, and text that needs escaping in labels, options and hints.
const KINDS: &str = r#"{
  "key": "every_kind",
  "title": {"zh": "全部控件", "en": "Every kind"},
  "sections": [
    {"key": "plain", "title": {"zh": "文字 <与> 数字", "en": "Text & \"numbers\""},
     "fields": [
       {"key": "name", "label": {"zh": "名称<b>", "en": "Name's"}, "kind": "text", "required": true,
        "max_len": 40, "help": {"zh": "写全称 & 简称", "en": "Full \"name\""}},
       {"key": "story", "label": {"zh": "说明", "en": "Story"}, "kind": "textarea"},
       {"key": "count", "label": {"zh": "人数", "en": "People"}, "kind": "number", "min": 0, "max": 9},
       {"key": "weight", "label": {"zh": "重量", "en": "Weight"}, "kind": "number", "unit": "kg<>", "decimals": 1},
       {"key": "day", "label": {"zh": "日期", "en": "Day"}, "kind": "date"},
       {"key": "mobile", "label": {"zh": "手机", "en": "Mobile"}, "kind": "phone"},
       {"key": "person", "label": {"zh": "身份证", "en": "ID"}, "kind": "resident_id"},
       {"key": "org", "label": {"zh": "信用代码", "en": "Credit code"}, "kind": "credit_code"}
     ]},
    {"key": "choices", "title": {"zh": "选择", "en": "Choices"},
     "fields": [
       {"key": "colour", "label": {"zh": "颜色", "en": "Colour"}, "kind": "choice", "required": true,
        "options": [
          {"value": "r", "label": {"zh": "红", "en": "Red"}},
          {"value": "o", "label": {"zh": "橙", "en": "Orange"}},
          {"value": "y", "label": {"zh": "黄", "en": "Yellow"}},
          {"value": "g", "label": {"zh": "绿", "en": "Green"}},
          {"value": "b", "label": {"zh": "蓝", "en": "Blue"}},
          {"value": "i", "label": {"zh": "靛", "en": "Indigo"}},
          {"value": "v", "label": {"zh": "紫<i>", "en": "Violet"}}
        ]},
       {"key": "size", "label": {"zh": "尺寸", "en": "Size"}, "kind": "choice",
        "options": [
          {"value": "s", "label": {"zh": "小", "en": "Small"}},
          {"value": "l", "label": {"zh": "大", "en": "Large"}}
        ]},
       {"key": "extras", "label": {"zh": "附加", "en": "Extras"}, "kind": "multi_choice",
        "show_if": {"field": "size", "any_of": ["s", "l"]},
        "options": [
          {"value": "a", "label": {"zh": "甲", "en": "A"}},
          {"value": "b", "label": {"zh": "乙", "en": "B"}}
        ]}
     ]},
    {"key": "places", "title": {"zh": "地点", "en": "Places"},
     "fields": [
       {"key": "home", "label": {"zh": "住址", "en": "Home"}, "kind": "address", "required": true},
       {"key": "shop", "label": {"zh": "店址", "en": "Shop"}, "kind": "address", "region_root": "120112"}
     ]},
    {"key": "people", "title": {"zh": "人员", "en": "People"},
     "fields": [
       {"key": "members", "label": {"zh": "成员", "en": "Member"}, "kind": "group", "max_items": 3,
        "fields": [
          {"key": "role", "label": {"zh": "角色", "en": "Role"}, "kind": "choice", "required": true,
           "options": [
             {"value": "boss", "label": {"zh": "负责人", "en": "Head"}},
             {"value": "staff", "label": {"zh": "员工", "en": "Staff"}}
           ]},
          {"key": "title", "label": {"zh": "职务", "en": "Title"}, "kind": "text",
           "help": {"zh": "如店长", "en": "e.g. manager"},
           "show_if": {"field": "role", "any_of": ["boss"]}},
          {"key": "where", "label": {"zh": "地址", "en": "Address"}, "kind": "address"}
        ]}
     ]}
  ]
}"#;

const BIRTH: &str = include_str!("../../../yiwang-app/demo/forms/birth_registration.json");
const INDIVIDUAL: &str = include_str!("../../../yiwang-app/demo/forms/individual_business.json");

fn snap(name: &str, html: &str) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/web/snapshots/forms"
    ));
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(name, html));
}

fn lang_key(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

fn manager_id(n: u8) -> String {
    ResidentId::with_check_char(&format!("1201121990020223{n}"))
        .unwrap()
        .reveal()
        .to_string()
}

/// A complete, valid food licence body.
fn food_full() -> String {
    format!(
        "business_name=%E6%B4%A5%E5%8D%97%E5%B0%8F%E5%BA%97&credit_code=91350100M000100Y43&legal_rep=%E5%BC%A0%E4%B8%89\
         &legal_rep_id={}&phone=13800138000&address.region=120112100000&address.detail=%E5%B9%B8%E7%A6%8F%E8%B7%AF1%E5%8F%B7\
         &business_types=prepackaged&business_types=hot_food&area=35.5&online=yes&website=%E5%B0%8F%E5%BA%97%E7%BD%91\
         &start_date=2026-03-01&managers%5B0%5D._row=&managers%5B0%5D.name=%E6%9D%8E%E5%9B%9B&managers%5B0%5D.id_number={}\
         &managers%5B0%5D.phone=13900139000&managers%5B1%5D._row=&managers%5B1%5D.name=%E7%8E%8B%E4%BA%94\
         &managers%5B1%5D.id_number={}&managers%5B1%5D.phone=13700137000&remarks=%E7%AC%AC%E4%B8%80%E8%A1%8C%0A%E7%AC%AC%E4%BA%8C%E8%A1%8C%3Cb%3E",
        manager_id(4),
        manager_id(5),
        manager_id(6)
    )
}

/// Filled but with mistakes everywhere, and hostile text kept in the values.
fn kinds_wrong() -> String {
    format!(
        "name={0}&story={0}&count=12&weight=abc&day=2026-02-30&mobile=123&person=1&org=x\
         &colour=v&size=l&extras=a&extras=b&home.region=999&home.detail={0}&shop.region={0}\
         &members%5B0%5D._row=&members%5B0%5D.role=boss&members%5B0%5D.where.region=12\
         &members%5B1%5D._row=&members%5B1%5D.role=staff&members%5B1%5D.title={0}",
        urlencode(XSS)
    )
}

/// Valid answers to every kind (for the summary).
fn kinds_ok() -> String {
    format!(
        "name=%E5%90%8D%3Cb%3E&story=a%0Ab%0A%0Ac&count=3&weight=1.5&day=2026-02-28&mobile=13800138000\
         &person={}&org=91350100M000100Y43&colour=v&size=s&extras=a&extras=b\
         &home.region=120112100000&home.detail=%E9%97%A8%E7%89%8C%3Ci%3E&shop.region=120112101000&shop.detail=y\
         &members%5B0%5D._row=&members%5B0%5D.role=boss&members%5B0%5D.title=%E5%BA%97%E9%95%BF\
         &members%5B0%5D.where.region=110101001000&members%5B0%5D.where.detail=x\
         &members%5B1%5D._row=&members%5B1%5D.role=staff",
        manager_id(4)
    )
}

#[test]
fn form_pages_match_snapshots() {
    let food = load(FOOD).unwrap();
    let kinds = load(KINDS).unwrap();
    let birth = load(BIRTH).unwrap();
    let individual = load(INDIVIDUAL).unwrap();
    for lang in Lang::ALL {
        let l = lang_key(lang);
        // Empty forms, as first shown.
        for (key, def) in [
            ("food", &food),
            ("kinds", &kinds),
            ("birth", &birth),
            ("individual", &individual),
        ] {
            snap(
                &format!("form_{key}_empty_{l}"),
                &render(def, &RawAnswers::new(), &[], lang),
            );
        }
        // Prefilled and valid: no errors shown.
        let raw = parse_form_body(&food, food_full().as_bytes()).unwrap();
        validate(&food, &raw, Mode::Submit).unwrap();
        snap(
            &format!("form_food_filled_{l}"),
            &render(&food, &raw, &[], lang),
        );
        // Partly filled with hostile values: every error shown.
        let body = format!(
            "business_name={0}&legal_rep={0}&remarks={0}&address.region={0}&address.detail={0}&area={0}&managers%5B0%5D.name={0}&online=yes&business_types=bulk",
            urlencode(XSS)
        );
        let raw = parse_form_body(&food, body.as_bytes()).unwrap();
        let errors = validate(&food, &raw, Mode::Submit).unwrap_err();
        snap(
            &format!("form_food_errors_{l}"),
            &render(&food, &raw, &errors, lang),
        );
        let raw = parse_form_body(&kinds, kinds_wrong().as_bytes()).unwrap();
        let errors = validate(&kinds, &raw, Mode::Submit).unwrap_err();
        snap(
            &format!("form_kinds_errors_{l}"),
            &render(&kinds, &raw, &errors, lang),
        );
        // The same errors on a draft, and the fields alone (the console's preview) with
        // another default action.
        let errors = validate(&kinds, &raw, Mode::Draft).unwrap_err();
        let regions = regions();
        let view = FormView {
            def: &kinds,
            raw: &raw,
            errors: &errors,
            lang,
            regions: &regions,
            default_action: "save<&>",
            from_account: &[],
        };
        snap(
            &format!("fields_kinds_draft_errors_{l}"),
            &fields_html(&view).to_string(),
        );
        snap(
            &format!("error_summary_kinds_draft_{l}"),
            &error_summary_html(&view).to_string(),
        );
        // A group at its maximum, and one with a row added.
        let mut full = RawAnswers::new();
        full.ensure_rows("members", 3);
        snap(
            &format!("form_kinds_group_full_{l}"),
            &render(&kinds, &full, &[], lang),
        );
        let mut raw = parse_form_body(
            &food,
            food_full()
                .replace("remarks=", "_add=managers&remarks=")
                .as_bytes(),
        )
        .unwrap();
        raw.apply_row_action(&food).unwrap();
        snap(
            &format!("form_food_row_added_{l}"),
            &render(&food, &raw, &[], lang),
        );
    }
}

#[test]
fn summaries_and_declarations_match_snapshots() {
    let food = load(FOOD).unwrap();
    let kinds = load(KINDS).unwrap();
    let mut names = HashMap::new();
    names.insert("120112100000".to_string(), "咸水沽镇".to_string());
    names.insert("120112101000".to_string(), "葛沽镇<b>".to_string());
    for lang in Lang::ALL {
        let l = lang_key(lang);
        for (key, def, body) in [
            ("food", &food, food_full()),
            ("kinds", &kinds, kinds_ok()),
            (
                "kinds_sparse",
                &kinds,
                "name=x&colour=r&home.region=120112199999&home.detail=x".to_string(),
            ),
        ] {
            let raw = parse_form_body(def, body.as_bytes()).unwrap();
            let answers = validate(def, &raw, Mode::Submit).unwrap();
            let sections = summary(def, &answers);
            for (variant, change_href, reveal) in [
                ("own", Some("/me/applications/7?x=1&y=\"2\""), true),
                ("staff", None, false),
            ] {
                let html = summary_html(
                    &SummaryView {
                        lang,
                        region_names: &names,
                        change_href,
                        reveal,
                    },
                    &sections,
                );
                snap(&format!("summary_{key}_{variant}_{l}"), &html.to_string());
            }
        }
        for (variant, checked, error) in [
            ("plain", false, None),
            ("checked", true, None),
            ("error", false, Some("请勾选 <同意> & \"确认\"")),
        ] {
            snap(
                &format!("declaration_{variant}_{l}"),
                &declaration_html(lang, checked, error).to_string(),
            );
        }
    }
}
