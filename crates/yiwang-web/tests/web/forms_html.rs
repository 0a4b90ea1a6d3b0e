//! Rendering and parsing of application forms, without a server: accessible markup (labels,
//! error summary links, aria-describedby), add-another without JavaScript, strict body parsing
//! (malformed UTF-8, bad escapes, forged names, oversize input) and hostile values escaped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use yiwang_domain::codes::ResidentId;
use yiwang_domain::forms::*;
use yiwang_i18n::Lang;
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
    };
    form_html(
        &view,
        "/apply/x",
        &[("continue", "继续"), ("save", "保存草稿")],
    )
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
