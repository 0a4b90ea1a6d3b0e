//! What each kind of document says, and where: title, case number, salutation, the standard
//! wording from the catalog, the kind's own parts (correction list, certificate facts), the
//! issuing department and date at the bottom right, and the QR code in the bottom-left corner.

use crate::font::Font;
use crate::layout::{Align, BOTTOM, Composer, Item, LEFT, PAGE_H, PAGE_W, Page, RIGHT};
use crate::qr::{self, QrMatrix};
use crate::{DocumentKind, Notice, format_date};
use yiwang_i18n::{Lang, t, tf};

const TITLE: f32 = 22.0;
const BODY: f32 = 15.0;
const LEADING: f32 = 28.0;
const SMALL: f32 = 9.0;
const QR_SIZE: f32 = 84.0;
const QR_Y: f32 = 62.0;
/// Radius of the electronic seal (a 42 mm seal, as departments' seals are).
const SEAL_R: f32 = 59.5;

pub fn compose(doc: &Notice, font: &Font, qr: &QrMatrix) -> Vec<Page> {
    let lang = doc.lang;
    let mut c = Composer::new(font);
    let title = match (&doc.kind, &doc.licence) {
        (DocumentKind::Certificate, Some(l)) => l
            .title
            .clone()
            .unwrap_or_else(|| crate::title(doc.kind, lang)),
        _ => crate::title(doc.kind, lang),
    };
    let title_size = if doc.kind == DocumentKind::Certificate {
        26.0
    } else {
        TITLE
    };
    c.paragraph(&title, title_size, 40.0, false, Align::Center, true);
    if doc.kind == DocumentKind::Correction {
        c.paragraph(
            t(lang, "docs.subtitle.correction"),
            BODY,
            24.0,
            false,
            Align::Center,
            false,
        );
    }
    c.space(4.0);
    if let Some(n) = doc.doc_number.as_deref().filter(|n| !n.trim().is_empty()) {
        // 发文字号, centred under the title as on an official document.
        c.paragraph(n, BODY, 26.0, false, Align::Center, false);
    }
    let number = tf(lang, "docs.case_number", &[("case", &doc.case_number)]);
    c.paragraph(&number, 12.0, 22.0, false, Align::Right, false);
    c.space(8.0);
    if doc.kind == DocumentKind::Certificate {
        certificate(&mut c, doc);
    } else {
        letter(&mut c, doc);
    }
    signature(&mut c, doc);
    let last = c.pages.len();
    for (i, page) in c.pages.iter_mut().enumerate() {
        if last > 1 {
            let n = format!("— {} / {} —", i + 1, last);
            let glyphs: Vec<_> = n.chars().map(|ch| font.glyph(ch)).collect();
            let w = font.width(&glyphs, SMALL);
            page.items.push(Item::Text {
                x: (PAGE_W - w) / 2.0,
                y: 36.0,
                size: SMALL,
                bold: false,
                glyphs,
            });
        }
    }
    if doc.kind == DocumentKind::Certificate {
        for page in &mut c.pages {
            frame(page);
        }
    }
    verification(&mut c, doc, qr);
    c.pages
}

/// A double border around a certificate page.
fn frame(page: &mut Page) {
    for (inset, width) in [(28.0, 2.0), (34.0, 0.6)] {
        let (l, r, b, t) = (inset, PAGE_W - inset, inset, PAGE_H - inset);
        for (x1, y1, x2, y2) in [(l, b, r, b), (r, b, r, t), (r, t, l, t), (l, t, l, b)] {
            page.items.push(Item::Rule {
                x1,
                y1,
                x2,
                y2,
                width,
            });
        }
    }
}

fn item_args(doc: &Notice) -> [(&'static str, &str); 1] {
    [("item", doc.item_name.as_str())]
}

/// The letter-shaped notices: salutation, standard wording, the kind's own parts.
fn letter(c: &mut Composer, doc: &Notice) {
    let lang = doc.lang;
    let p =
        |c: &mut Composer, text: &str| c.paragraph(text, BODY, LEADING, true, Align::Left, false);
    c.paragraph(
        &tf(lang, "docs.salutation", &[("name", &doc.applicant_name)]),
        BODY,
        LEADING,
        false,
        Align::Left,
        false,
    );
    let body = tf(
        lang,
        &format!("docs.body.{}", doc.kind.key()),
        &item_args(doc),
    );
    p(c, &body);
    let opinion = doc
        .opinion
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let labelled = |key: &str, text: &str| format!("{}{}", t(lang, key), text);
    match doc.kind {
        DocumentKind::Acceptance => {
            p(c, t(lang, "docs.body.acceptance_law"));
            if let Some(d) = doc.accepted_on {
                p(
                    c,
                    &labelled("docs.label.accepted_on", &format_date(lang, d)),
                );
            }
            if let Some(d) = doc.due_on {
                p(c, &labelled("docs.label.due_on", &format_date(lang, d)));
            }
            if let Some(o) = opinion {
                p(c, &labelled("docs.label.opinion", o));
            }
        }
        DocumentKind::NonAcceptance | DocumentKind::Refusal => {
            if let Some(o) = opinion {
                p(c, &labelled("docs.label.reason", o));
            }
            p(c, t(lang, "docs.body.remedy"));
        }
        DocumentKind::Correction => {
            c.space(6.0);
            let header = [
                t(lang, "docs.col.no"),
                t(lang, "docs.col.subject"),
                t(lang, "docs.col.problem"),
            ]
            .map(str::to_string);
            let rows: Vec<Vec<String>> = doc
                .corrections
                .iter()
                .enumerate()
                .map(|(i, e)| vec![(i + 1).to_string(), e.subject.clone(), e.problem.clone()])
                .collect();
            let w = RIGHT - LEFT;
            c.table(&[40.0, 150.0, w - 190.0], Some(&header), &rows, 12.0, 18.0);
            c.space(6.0);
            if let Some(o) = opinion {
                p(c, &labelled("docs.label.opinion", o));
            }
            // No date: the case's due date is a time limit for the department (before
            // acceptance the acceptance deadline), paused while the citizen corrects, not a
            // deadline for the citizen; printing it here told people the wrong thing.
            p(c, t(lang, "docs.body.correction_no_due"));
        }
        DocumentKind::Approval => {
            if let Some(o) = opinion {
                p(c, &labelled("docs.label.opinion", o));
            }
            if let Some(l) = &doc.licence {
                p(
                    c,
                    &tf(lang, "docs.body.licence_issued", &[("number", &l.number)]),
                );
            }
        }
        DocumentKind::Completion => {
            if let Some(o) = opinion {
                p(c, &labelled("docs.label.result", o));
            }
            if let Some(l) = &doc.licence {
                p(
                    c,
                    &tf(lang, "docs.body.licence_issued", &[("number", &l.number)]),
                );
            }
        }
        DocumentKind::Certificate => {}
    }
}

/// The certificate's facts as a two-column table.
fn certificate(c: &mut Composer, doc: &Notice) {
    let lang = doc.lang;
    let Some(l) = &doc.licence else {
        return;
    };
    let validity = match l.valid_until {
        Some(u) => tf(
            lang,
            "docs.cert.validity_range",
            &[
                ("from", &format_date(lang, l.valid_from)),
                ("until", &format_date(lang, u)),
            ],
        ),
        None => tf(
            lang,
            "docs.cert.validity_open",
            &[("from", &format_date(lang, l.valid_from))],
        ),
    };
    let holder = l
        .holder
        .clone()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| doc.applicant_name.clone());
    let mut rows = vec![
        (t(lang, "docs.cert.number"), l.number.clone()),
        (t(lang, "docs.cert.holder"), holder),
    ];
    if let Some((label, code)) = &l.holder_code {
        rows.push((label.as_str(), code.clone()));
    }
    for (label, value) in &l.lines {
        rows.push((label.as_str(), value.clone()));
    }
    rows.extend([
        (t(lang, "docs.cert.item"), doc.item_name.clone()),
        (t(lang, "docs.cert.validity"), validity),
        (t(lang, "docs.cert.issuer"), doc.department_name.clone()),
    ]);
    if !doc.department_credit_code.trim().is_empty() {
        rows.push((
            t(lang, "docs.cert.credit_code"),
            doc.department_credit_code.clone(),
        ));
    }
    rows.push((
        t(lang, "docs.cert.issued_on"),
        format_date(lang, doc.issued_on),
    ));
    if let Some(o) = doc
        .opinion
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        rows.push((
            t(lang, "docs.label.opinion").trim_end_matches(['：', ':']),
            o.to_string(),
        ));
    }
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(k, v)| vec![k.to_string(), v])
        .collect();
    c.space(10.0);
    let w = RIGHT - LEFT;
    // Compact rows: a certificate with its licence's own lines still fits one page.
    c.table(&[120.0, w - 120.0], None, &rows, 12.5, 20.0);
}

/// Department and date at the bottom right of the text (落款): the department's name centred
/// over the date, the block ending two characters from the right margin.
fn signature(c: &mut Composer, doc: &Notice) {
    let lang = doc.lang;
    let font = c.font;
    let dept: Vec<_> = doc
        .department_name
        .chars()
        .map(|ch| font.glyph(ch))
        .collect();
    let date: Vec<_> = format_date(lang, doc.issued_on)
        .chars()
        .map(|ch| font.glyph(ch))
        .collect();
    let block_w = font
        .width(&dept, BODY)
        .max(font.width(&date, BODY))
        .min(RIGHT - LEFT);
    let right = RIGHT - 2.0 * BODY;
    let right = if right - block_w < LEFT { RIGHT } else { right };
    let left = (right - block_w).max(LEFT);
    c.space(LEADING);
    if font.width(&dept, BODY) > RIGHT - LEFT {
        c.paragraph(
            &doc.department_name,
            BODY,
            LEADING,
            false,
            Align::Right,
            false,
        );
    } else {
        c.ensure(2.0 * LEADING);
        c.space(LEADING);
        let y = c.y + (LEADING - BODY) / 2.0 + BODY * 0.12;
        c.line_in(dept, left, right, y, BODY, Align::Center, false);
    }
    c.ensure(LEADING);
    c.space(LEADING);
    let y = c.y + (LEADING - BODY) / 2.0 + BODY * 0.12;
    c.line_in(date, left, right, y, BODY, Align::Center, false);
    if let Some(text) = doc.seal.as_deref().filter(|t| !t.trim().is_empty()) {
        // The seal covers the department's name and the date (骑年盖月), as a stamp does.
        let glyphs = text.chars().map(|ch| font.glyph(ch)).collect();
        c.push(Item::Seal {
            cx: (left + right) / 2.0,
            cy: y + LEADING * 0.6,
            r: SEAL_R,
            glyphs,
        });
    }
}

/// The QR code, its caption and the verification code and address, in the bottom band of the
/// last page.
fn verification(c: &mut Composer, doc: &Notice, qr: &QrMatrix) {
    let lang: Lang = doc.lang;
    let font = c.font;
    let quiet = 4.0 * QR_SIZE / (qr.width as f32 + 8.0);
    let inner = QR_SIZE - 2.0 * quiet;
    for item in qr::draw(qr, LEFT + quiet, QR_Y + quiet, inner) {
        c.push(item);
    }
    let caption: Vec<_> = t(lang, "docs.verify.caption")
        .chars()
        .map(|ch| font.glyph(ch))
        .collect();
    let y = QR_Y - 11.0;
    c.line_in(
        caption,
        LEFT,
        LEFT + QR_SIZE,
        y,
        SMALL,
        Align::Center,
        false,
    );
    let x = LEFT + QR_SIZE + 10.0;
    let mut lines = vec![
        tf(lang, "docs.verify.code", &[("code", &doc.verify_code)]),
        tf(lang, "docs.verify.url", &[("url", &doc.verify_url)]),
    ];
    if let Some(d) = doc.digest.as_deref() {
        lines.push(tf(lang, "notices.pdf.digest", &[("digest", &group8(d))]));
    }
    lines.push(t(lang, "docs.footer").to_string());
    let mut y = QR_Y + QR_SIZE - 14.0;
    for text in lines {
        for line in crate::layout::wrap(font, &text, SMALL, RIGHT - x, RIGHT - x) {
            if !(QR_Y - 14.0..=BOTTOM).contains(&y) {
                break;
            }
            c.text_at(line, x, y, SMALL, false);
            y -= 13.0;
        }
    }
}

/// `abcdefgh12345678…` as `abcdefgh 12345678 …` (so a reader can compare it in pieces).
fn group8(hex: &str) -> String {
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
