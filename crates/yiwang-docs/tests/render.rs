//! Every kind of document renders, is deterministic, carries its text (extracted back from the
//! PDF by an independent parser), embeds a font subset (small files), and its QR code decodes
//! to the verification address.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_docs::{
    CorrectionEntry, DocsError, DocumentKind, LicenceInfo, Notice, qr_matrix, render_pdf,
};
use yiwang_domain::calendar::CivilDate;
use yiwang_i18n::Lang;

const URL: &str = "https://zwfw.example.gov.cn/verify/K7Q2M9X4TP3B6W8R5N2H";

fn date(s: &str) -> CivilDate {
    CivilDate::parse(s).unwrap()
}

fn notice(kind: DocumentKind) -> Notice {
    let corrections = if kind == DocumentKind::Correction {
        vec![
            CorrectionEntry {
                subject: "营业执照复印件".into(),
                problem: "复印件不清晰，无法辨认统一社会信用代码，请上传清晰的彩色扫描件。".into(),
            },
            CorrectionEntry {
                subject: "经营场所平面图".into(),
                problem: "未标明食品处理区、仓储区的面积和布局。".into(),
            },
            CorrectionEntry {
                subject: "表单：法定代表人联系电话".into(),
                problem: "号码位数不对，请填写 11 位手机号码。".into(),
            },
        ]
    } else {
        Vec::new()
    };
    let licence = matches!(
        kind,
        DocumentKind::Certificate | DocumentKind::Approval | DocumentKind::Completion
    )
    .then(|| LicenceInfo {
        title: Some("食品经营许可证".into()),
        number: "JY11201120012345".into(),
        valid_from: date("2026-03-20"),
        valid_until: Some(date("2031-03-19")),
        holder: Some("津南区小李面馆".into()),
        holder_code: Some(("统一社会信用代码".into(), "92120112MA05L3XK1T".into())),
        lines: vec![
            ("经营场所".into(), "天津市津南区咸水沽镇津沽公路88号".into()),
            ("主体业态".into(), "餐饮服务经营者".into()),
            ("经营项目".into(), "热食类食品制售".into()),
        ],
    });
    let opinion = match kind {
        DocumentKind::NonAcceptance => {
            Some("申请事项不属于本机关职权范围，请向区市场监督管理局申请。".into())
        }
        DocumentKind::Refusal => {
            Some("现场核查发现经营场所与住宅未有效分隔，不符合食品安全要求。".into())
        }
        DocumentKind::Completion => Some("准予许可，证照已制发。".into()),
        _ => None,
    };
    Notice {
        kind,
        lang: Lang::Zh,
        case_number: "1112011200001-20260305-000042".into(),
        item_name: "食品经营许可（新办）".into(),
        department_name: "天津市津南区政务服务办公室".into(),
        department_credit_code: "11120112MB1W167324".into(),
        applicant_name: "天津市津南区小站稻香餐饮有限公司".into(),
        issued_on: date("2026-03-20"),
        accepted_on: Some(date("2026-03-05")),
        due_on: Some(date("2026-03-27")),
        opinion,
        corrections,
        verify_url: URL.into(),
        verify_code: "K7Q2M9X4TP3B6W8R5N2H".into(),
        licence,
        doc_number: (kind != DocumentKind::Certificate).then(|| "津南审批许〔2026〕12号".into()),
        seal: Some("天津市津南区政务服务办公室".into()),
        digest: Some("a1b2c3d4".repeat(8)),
    }
}

/// Text of the PDF as an independent parser reads it, without whitespace (PDF text extraction
/// inserts spaces and line breaks where it sees gaps).
fn text_of(pdf: &[u8]) -> String {
    let text = pdf_extract::extract_text_from_mem(pdf).expect("extract text");
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn dump(name: &str, pdf: &[u8]) {
    if let Ok(dir) = std::env::var("YIWANG_DOCS_OUT") {
        std::fs::write(format!("{dir}/{name}.pdf"), pdf).unwrap();
    }
}

#[test]
fn every_kind_renders_with_its_chinese_text() {
    let titles = [
        (DocumentKind::Acceptance, "受理通知书"),
        (DocumentKind::NonAcceptance, "不予受理决定书"),
        (DocumentKind::Correction, "补正材料通知书"),
        (DocumentKind::Approval, "准予行政许可决定书"),
        (DocumentKind::Refusal, "不予行政许可决定书"),
        (DocumentKind::Completion, "办结通知书"),
        (DocumentKind::Certificate, "食品经营许可证"),
    ];
    for (kind, title) in titles {
        let n = notice(kind);
        let pdf = render_pdf(&n).unwrap();
        dump(kind.key(), &pdf);
        assert!(pdf.starts_with(b"%PDF-"), "{kind:?}");
        assert!(
            pdf.len() < 120_000,
            "{kind:?}: {} bytes, the font is not subset",
            pdf.len()
        );
        let text = text_of(&pdf);
        for needle in [
            title,
            "1112011200001-20260305-000042",
            "天津市津南区政务服务办公室",
            "2026年3月20日",
            "K7Q2M9X4TP3B6W8R5N2H",
        ] {
            assert!(text.contains(needle), "{kind:?} lacks {needle}: {text}");
        }
        if kind != DocumentKind::Certificate {
            assert!(
                text.contains("天津市津南区小站稻香餐饮有限公司：")
                    && text.contains("“食品经营许可（新办）”"),
                "{kind:?}: {text}"
            );
        }
    }
}

#[test]
fn each_kind_says_what_it_decides() {
    let says = [
        (
            DocumentKind::Acceptance,
            vec![
                "经审查，你（单位）提交的申请材料齐全、符合法定形式，决定予以受理。",
                "受理日期：2026年3月5日",
                "承诺办结日期：2026年3月27日",
                "津南审批许〔2026〕12号",
                "文书摘要（SM3）：a1b2c3d4a1b2c3d4",
            ],
        ),
        (
            DocumentKind::NonAcceptance,
            vec![
                "决定不予受理",
                "理由：申请事项不属于本机关职权范围",
                "行政复议",
            ],
        ),
        (
            DocumentKind::Correction,
            vec![
                "一次性告知书",
                "营业执照复印件",
                "请上传清晰的彩色扫描件",
                "经营场所平面图",
                "表单：法定代表人联系电话",
                "补正期间不计入办理时限",
            ],
        ),
        (
            DocumentKind::Approval,
            vec!["决定准予行政许可", "JY11201120012345"],
        ),
        (
            DocumentKind::Refusal,
            vec!["决定不予行政许可", "理由：现场核查发现", "行政诉讼"],
        ),
        (
            DocumentKind::Completion,
            vec!["已办理完毕", "办理结果：准予许可，证照已制发。"],
        ),
        (
            DocumentKind::Certificate,
            vec![
                "证照编号JY11201120012345",
                "持证主体津南区小李面馆",
                "统一社会信用代码92120112MA05L3XK1T",
                "经营场所天津市津南区咸水沽镇津沽公路88号",
                "主体业态餐饮服务经营者",
                "经营项目热食类食品制售",
                "2026年3月20日至2031年3月19日",
                "11120112MB1W167324",
            ],
        ),
    ];
    for (kind, needles) in says {
        let text = text_of(&render_pdf(&notice(kind)).unwrap());
        for n in needles {
            assert!(text.contains(n), "{kind:?} lacks {n}: {text}");
        }
        if kind == DocumentKind::Correction {
            // The case's due date is the department's limit, not a deadline for the citizen.
            assert!(!text.contains("2026年3月27日"), "{text}");
        }
    }
}

#[test]
fn rendering_is_deterministic_and_survives_json() {
    for kind in DocumentKind::ALL {
        let n = notice(kind);
        let a = render_pdf(&n).unwrap();
        let json = serde_json::to_string(&n).unwrap();
        let back: Notice = serde_json::from_str(&json).unwrap();
        assert_eq!(back, n);
        let b = render_pdf(&back).unwrap();
        assert!(a == b, "{kind:?}: two renderings differ");
        assert_eq!(DocumentKind::from_key(kind.key()), Some(kind));
    }
    // A different notice gives different bytes (the comparison above can fail).
    let mut other = notice(DocumentKind::Acceptance);
    other.case_number.push('9');
    assert_ne!(
        render_pdf(&other).unwrap(),
        render_pdf(&notice(DocumentKind::Acceptance)).unwrap()
    );
}

#[test]
fn english_rendering_uses_the_english_catalog() {
    let mut n = notice(DocumentKind::Acceptance);
    n.lang = Lang::En;
    let pdf = render_pdf(&n).unwrap();
    dump("acceptance-en", &pdf);
    let text = text_of(&pdf);
    assert!(text.contains("NoticeofAcceptance"), "{text}");
    assert!(text.contains("2026-03-20"), "{text}");
    assert!(!text.contains("受理通知书"), "{text}");
}

#[test]
fn qr_code_decodes_to_the_verification_address() {
    let m = qr_matrix(URL).unwrap();
    // Rasterise the matrix with a quiet zone, as it is drawn, and read it back.
    let scale = 6;
    let quiet = 4;
    let side = (m.width + 2 * quiet) * scale;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let inside =
            (quiet..quiet + m.width).contains(&mx) && (quiet..quiet + m.width).contains(&my);
        if inside && m.is_dark(mx - quiet, my - quiet) {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, URL);
    // The PDF draws the same code: one filled rectangle per horizontal run of dark modules.
    let runs: usize = (0..m.width)
        .map(|y| {
            (0..m.width)
                .filter(|&x| m.is_dark(x, y) && (x == 0 || !m.is_dark(x - 1, y)))
                .count()
        })
        .sum();
    let pdf = render_pdf(&notice(DocumentKind::Acceptance)).unwrap();
    let doc = pdf_extract::Document::load_mem(&pdf).unwrap();
    let pages = doc.get_pages();
    let last = pages.values().last().copied().unwrap();
    let content = doc.get_page_content(last).unwrap();
    let text = String::from_utf8_lossy(&content);
    assert_eq!(text.matches(" re\n").count(), runs, "QR rectangles");
}

#[test]
fn incomplete_notices_are_refused() {
    let refused = |n: &Notice| render_pdf(n).map(|_| ()).unwrap_err();
    let mut n = notice(DocumentKind::Correction);
    n.corrections.clear();
    assert_eq!(refused(&n), DocsError::Invalid("corrections"));
    let mut n = notice(DocumentKind::Certificate);
    n.licence = None;
    assert_eq!(refused(&n), DocsError::Invalid("licence"));
    let mut n = notice(DocumentKind::Acceptance);
    n.case_number = " ".into();
    assert_eq!(refused(&n), DocsError::Invalid("case_number"));
    let mut n = notice(DocumentKind::Acceptance);
    n.verify_url = format!("https://x.cn/{}", "x".repeat(600));
    assert_eq!(refused(&n), DocsError::Invalid("verify_url"));
    let mut n = notice(DocumentKind::Refusal);
    n.opinion = Some("长".repeat(2001));
    assert_eq!(refused(&n), DocsError::Invalid("text_too_long"));
    // The longest address accepted still fits a QR code.
    assert!(qr_matrix(&"x".repeat(yiwang_docs::MAX_URL_CHARS * 3)).is_ok());
}

#[test]
fn long_correction_lists_flow_onto_more_pages() {
    let mut n = notice(DocumentKind::Correction);
    n.corrections = (1..=40)
        .map(|i| CorrectionEntry {
            subject: format!("材料{i}"),
            problem: format!("第{i}项材料缺少签字盖章，请由法定代表人签字并加盖公章后重新上传。"),
        })
        .collect();
    let pdf = render_pdf(&n).unwrap();
    dump("correction-long", &pdf);
    let doc = pdf_extract::Document::load_mem(&pdf).unwrap();
    assert!(doc.get_pages().len() >= 3, "{}", doc.get_pages().len());
    let text = text_of(&pdf);
    assert!(
        text.contains("材料40") && text.contains("材料1第1项"),
        "{text}"
    );
    // Text the font lacks is replaced by a square, never dropped silently.
    let mut n = notice(DocumentKind::Acceptance);
    n.applicant_name = "Ǆ\u{1F600}公司".into();
    let text = text_of(&render_pdf(&n).unwrap());
    assert!(text.contains("公司"), "{text}");
}

#[test]
fn a_certificate_names_the_holder_from_the_answers_else_the_applicant() {
    let with = text_of(&render_pdf(&notice(DocumentKind::Certificate)).unwrap());
    assert!(
        !with.contains("小站稻香"),
        "the account holder is not the holder: {with}"
    );
    // The certificate number stays on one line: it is found whole on one text line.
    let raw = pdf_extract::extract_text_from_mem(
        &render_pdf(&notice(DocumentKind::Certificate)).unwrap(),
    )
    .unwrap();
    assert!(raw.lines().any(|l| l.contains("JY11201120012345")), "{raw}");
    let mut n = notice(DocumentKind::Certificate);
    if let Some(l) = n.licence.as_mut() {
        l.holder = None;
        l.holder_code = None;
        l.lines.clear();
    }
    let without = text_of(&render_pdf(&n).unwrap());
    assert!(
        without.contains("持证主体天津市津南区小站稻香餐饮有限公司"),
        "{without}"
    );
    assert!(!without.contains("经营场所"), "{without}");
    // The printed digest is of what the document states: any change changes it.
    let a = yiwang_docs::content_digest(&notice(DocumentKind::Certificate));
    let mut other = notice(DocumentKind::Certificate);
    assert_eq!(yiwang_docs::content_digest(&other), a, "deterministic");
    other.digest = Some("ignored".into());
    assert_eq!(
        yiwang_docs::content_digest(&other),
        a,
        "the digest itself is left out"
    );
    other.applicant_name.push('X');
    assert_ne!(yiwang_docs::content_digest(&other), a);
    assert_eq!(a.len(), 64);
}

#[test]
fn the_seal_is_drawn_in_red_on_every_notice_that_has_one() {
    let pdf = render_pdf(&notice(DocumentKind::Acceptance)).unwrap();
    let doc = pdf_extract::Document::load_mem(&pdf).unwrap();
    let last = doc.get_pages().values().last().copied().unwrap();
    let content = String::from_utf8_lossy(&doc.get_page_content(last).unwrap()).to_string();
    assert!(content.contains("0.86 0.08 0.08 rg"), "red fill: {content}");
    let mut n = notice(DocumentKind::Acceptance);
    n.seal = None;
    let pdf = render_pdf(&n).unwrap();
    let doc = pdf_extract::Document::load_mem(&pdf).unwrap();
    let last = doc.get_pages().values().last().copied().unwrap();
    let content = String::from_utf8_lossy(&doc.get_page_content(last).unwrap()).to_string();
    assert!(
        !content.contains("0.86 0.08 0.08 rg"),
        "no seal configured, none drawn"
    );
}
