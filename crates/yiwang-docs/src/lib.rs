//! Documents (文书): the notices and decisions of a case and its result certificate, printed as
//! PDF with Chinese text, each with a QR code to the public verification page.
//!
//! Pure and deterministic: [`render_pdf`] turns a [`Notice`] into the same bytes every time (no
//! clock, no randomness, no file or network access), so a stored notice can be printed again
//! byte for byte and its digest checked. The wording comes from the message catalog (area
//! `docs`, zh-CN by default, English too). The font (WenQuanYi Micro Hei, Apache-2.0, in
//! `fonts/`) is compiled in; each PDF embeds only the glyphs it uses.
//!
//! The heavy dependencies (PDF objects, font subsetting, QR encoding) stay in this crate.

mod font;
mod layout;
mod pdf;
mod qr;
mod wording;

pub use qr::{QrMatrix, QrSvg, qr_matrix, qr_svg, svg_path};

use serde::{Deserialize, Serialize};
use yiwang_domain::calendar::CivilDate;
use yiwang_i18n::Lang;

pub use yiwang_domain::document::{DocumentKind, VerifyCode};

/// The document's title in `lang` (the catalog's `docs.title.<key>`).
pub fn title(kind: DocumentKind, lang: Lang) -> String {
    yiwang_i18n::t(lang, &format!("docs.title.{}", kind.key())).to_string()
}

/// One line of a correction notice (补正): which material or form field, and what is wrong
/// with it or what to supply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionEntry {
    pub subject: String,
    pub problem: String,
}

/// What a certificate (结果证照) states besides the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceInfo {
    /// The certificate's own name, e.g. 食品经营许可证; the catalog's generic title when `None`.
    pub title: Option<String>,
    /// 证照编号
    pub number: String,
    pub valid_from: CivilDate,
    /// `None`: valid without an end date (长期有效).
    pub valid_until: Option<CivilDate>,
    /// The holder from the form answers (a business's name); the applicant's display name
    /// when `None`.
    #[serde(default)]
    pub holder: Option<String>,
    /// The holder's code and its label (统一社会信用代码 …).
    #[serde(default)]
    pub holder_code: Option<(String, String)>,
    /// The licence's own lines from the form answers (经营场所, 主体业态, 经营项目 …): label, value.
    #[serde(default)]
    pub lines: Vec<(String, String)>,
}

/// Everything printed on one document. The caller decides what may be printed: the applicant's
/// display name is given as it should appear (e.g. a company name, or a person's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: DocumentKind,
    /// Language of the wording; zh-CN unless asked otherwise.
    #[serde(default)]
    pub lang: Lang,
    pub case_number: String,
    pub item_name: String,
    pub department_name: String,
    /// The department's unified social credit code (统一社会信用代码).
    pub department_credit_code: String,
    pub applicant_name: String,
    pub issued_on: CivilDate,
    #[serde(default)]
    pub accepted_on: Option<CivilDate>,
    /// The promised decision date (受理), or the date by which to correct (补正).
    #[serde(default)]
    pub due_on: Option<CivilDate>,
    /// Reasons (不予受理, 不予许可), the opinion (准予) or the result (办结); free text.
    #[serde(default)]
    pub opinion: Option<String>,
    /// The list of a correction notice; empty for the other kinds.
    #[serde(default)]
    pub corrections: Vec<CorrectionEntry>,
    /// Absolute address of the public verification page (encoded in the QR code).
    pub verify_url: String,
    pub verify_code: String,
    /// Required for a certificate; on an approval, its number is quoted in the text.
    #[serde(default)]
    pub licence: Option<LicenceInfo>,
    /// The issuing body's document number (文号, e.g. 津南审批许〔2026〕12号); none on a
    /// certificate (it has its certificate number).
    #[serde(default)]
    pub doc_number: Option<String>,
    /// The text around the department's electronic seal (its name); no seal when `None`.
    #[serde(default)]
    pub seal: Option<String>,
    /// The digest printed on the document ([`content_digest`]), which the verification page
    /// shows too.
    #[serde(default)]
    pub digest: Option<String>,
}

/// The digest printed on a document: SM3 (hex) of the notice's JSON with the digest itself left
/// out, i.e. of everything the document states. Printed on the PDF and shown by the public
/// verification page, so a reader can compare the paper with the record.
pub fn content_digest(doc: &Notice) -> String {
    use sm3::Digest;
    let mut bare = doc.clone();
    bare.digest = None;
    let json = serde_json::to_vec(&bare).unwrap_or_default();
    hex::encode(sm3::Sm3::digest(&json))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocsError {
    /// A field the kind needs is missing or empty, or a text is longer than a document holds.
    #[error("the notice is incomplete or too long: {0}")]
    Invalid(&'static str),
    /// The verification URL is too long for a QR code.
    #[error("the verification address cannot be encoded as a QR code")]
    Qr,
    /// The embedded font could not be read or subset (a build defect, not user input).
    #[error("font: {0}")]
    Font(String),
}

/// Longest free text accepted in one field, in characters; longer input is refused rather
/// than producing a document of many pages.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest verification address (kept short so the QR code stays easy to scan).
pub const MAX_URL_CHARS: usize = 512;
/// Most correction entries on one notice.
pub const MAX_CORRECTIONS: usize = 100;

impl Notice {
    /// Checks what the kind needs before anything is drawn.
    pub fn check(&self) -> Result<(), DocsError> {
        let required = [
            (&self.case_number, "case_number"),
            (&self.item_name, "item_name"),
            (&self.department_name, "department_name"),
            (&self.applicant_name, "applicant_name"),
            (&self.verify_url, "verify_url"),
            (&self.verify_code, "verify_code"),
        ];
        for (v, name) in required {
            if v.trim().is_empty() {
                return Err(DocsError::Invalid(name));
            }
        }
        let texts = [
            &self.case_number,
            &self.item_name,
            &self.department_name,
            &self.department_credit_code,
            &self.applicant_name,
            &self.verify_url,
            &self.verify_code,
        ];
        let extra = [&self.doc_number, &self.seal, &self.digest];
        if extra
            .iter()
            .any(|s| s.as_deref().is_some_and(|s| s.chars().count() > 200))
        {
            return Err(DocsError::Invalid("text_too_long"));
        }
        if let Some(l) = &self.licence {
            let parts = l
                .holder
                .iter()
                .chain(l.holder_code.iter().flat_map(|(a, b)| [a, b]))
                .chain(l.lines.iter().flat_map(|(a, b)| [a, b]));
            if l.lines.len() > 40
                || parts
                    .into_iter()
                    .any(|s| s.chars().count() > MAX_TEXT_CHARS)
            {
                return Err(DocsError::Invalid("licence"));
            }
        }
        let too_long = |s: &str| s.chars().count() > MAX_TEXT_CHARS;
        if texts.iter().any(|s| too_long(s))
            || self.opinion.as_deref().is_some_and(too_long)
            || self
                .corrections
                .iter()
                .any(|c| too_long(&c.subject) || too_long(&c.problem))
        {
            return Err(DocsError::Invalid("text_too_long"));
        }
        if self.verify_url.chars().count() > MAX_URL_CHARS {
            return Err(DocsError::Invalid("verify_url"));
        }
        match self.kind {
            DocumentKind::Correction if self.corrections.is_empty() => {
                return Err(DocsError::Invalid("corrections"));
            }
            DocumentKind::Certificate if self.licence.is_none() => {
                return Err(DocsError::Invalid("licence"));
            }
            _ => {}
        }
        if self.corrections.len() > MAX_CORRECTIONS {
            return Err(DocsError::Invalid("corrections"));
        }
        Ok(())
    }
}

/// Renders `doc` as a PDF (A4, embedded font subset, QR code as vector squares).
/// Deterministic: the same notice gives the same bytes.
pub fn render_pdf(doc: &Notice) -> Result<Vec<u8>, DocsError> {
    doc.check()?;
    let qr = qr::qr_matrix(&doc.verify_url)?;
    let font = font::Font::get()?;
    let pages = wording::compose(doc, font, &qr);
    pdf::write(doc, font, &pages)
}

/// A date as printed in `lang` (2026年3月5日 / 2026-03-05).
pub fn format_date(lang: Lang, d: CivilDate) -> String {
    let (y, m, day) = d.ymd();
    yiwang_i18n::tf(
        lang,
        "docs.date",
        &[
            ("y", &y.to_string()),
            ("m", &m.to_string()),
            ("d", &day.to_string()),
            ("mm", &format!("{m:02}")),
            ("dd", &format!("{day:02}")),
        ],
    )
}
