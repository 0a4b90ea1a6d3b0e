//! The notices a case step issues, rendered as PDF (yiwang-docs) for the store to record in
//! the step's own transaction: 受理通知书 on acceptance, 不予受理决定书, 补正材料通知书
//! (一次性告知书), 准予许可决定书 with the result certificate, 不予许可决定书 and 办结通知书. Each
//! carries a random verification code and a QR code to the public verification page, the
//! issuing body's document number (文号, numbered per department and year) or the certificate
//! number (per prefix and region), the department's electronic seal and the digest of what it
//! states. The numbers are drawn inside the step's transaction, so the PDFs are rendered there.

use rand::RngCore;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use yiwang_docs::{CorrectionEntry, LicenceInfo, Notice, content_digest, render_pdf};
use yiwang_domain::document::{DocumentKind, VerifyCode};
use yiwang_store::StoreError;
use yiwang_store::cases::{DocumentFacts, DocumentIssuer, PreparedDocument, PreparedStep};

/// The documents each workflow action issues.
pub fn kinds_for(action: &str) -> &'static [DocumentKind] {
    match action {
        "accept" => &[DocumentKind::Acceptance],
        "reject" => &[DocumentKind::NonAcceptance],
        "request_correction" => &[DocumentKind::Correction],
        "approve" => &[DocumentKind::Approval, DocumentKind::Certificate],
        "deny" => &[DocumentKind::Refusal],
        "conclude" => &[DocumentKind::Completion],
        _ => &[],
    }
}

/// The default 文号 pattern: `{abbr}` the department's short name, `{year}`, `{n}` the serial.
pub const DEFAULT_NUMBER_PATTERN: &str = "{abbr}〔{year}〕{n}号";

/// How notices are numbered and sealed (`[notices]` in the configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeSettings {
    /// The 文号 pattern; [`DEFAULT_NUMBER_PATTERN`] when unset.
    #[serde(default)]
    pub number_pattern: Option<String>,
    /// Per department, by its unified social credit code.
    #[serde(default)]
    pub departments: BTreeMap<String, DepartmentNotices>,
}

/// One department's numbering and seal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentNotices {
    /// The short name in its 文号 (e.g. 津南审批许); the department's name when unset.
    #[serde(default)]
    pub abbr: Option<String>,
    /// The text around its seal; the department's name when unset.
    #[serde(default)]
    pub seal_text: Option<String>,
    /// `false`: its notices carry no seal image.
    #[serde(default = "yes")]
    pub seal: bool,
}

fn yes() -> bool {
    true
}

impl NoticeSettings {
    /// The demo departments of 天津市津南区 (`serve --demo`).
    pub fn demo() -> Self {
        let dept = |abbr: &str| DepartmentNotices {
            abbr: Some(abbr.to_string()),
            seal_text: None,
            seal: true,
        };
        Self {
            number_pattern: None,
            departments: BTreeMap::from([
                ("11120112MB1W167324".to_string(), dept("津南审批许")),
                ("11120112MB1L902463".to_string(), dept("津南市监许")),
            ]),
        }
    }

    /// The 文号 of serial `n` of `year` for the department.
    pub fn doc_number(&self, dept_code: &str, dept_name: &str, year: i32, n: i64) -> String {
        let abbr = self
            .departments
            .get(dept_code)
            .and_then(|d| d.abbr.as_deref())
            .unwrap_or(dept_name);
        self.number_pattern
            .as_deref()
            .unwrap_or(DEFAULT_NUMBER_PATTERN)
            .replace("{abbr}", abbr)
            .replace("{year}", &year.to_string())
            .replace("{n}", &n.to_string())
    }

    /// The text of the department's seal, or none.
    pub fn seal(&self, dept_code: &str, dept_name: &str) -> Option<String> {
        match self.departments.get(dept_code) {
            Some(d) if !d.seal => None,
            Some(d) => Some(d.seal_text.clone().unwrap_or_else(|| dept_name.to_string())),
            None => Some(dept_name.to_string()),
        }
    }
}

/// The certificate number: prefix, the region's six-digit code and a six-digit serial
/// (JY120112000001), short enough for one line.
pub fn licence_number(prefix: &str, region: &str, serial: i64) -> String {
    let region: String = region.chars().take(6).collect();
    format!("{prefix}{region}{serial:06}")
}

/// Renders notices with verification links under `base_url` (e.g. `https://zwfw.example.gov.cn`).
#[derive(Debug, Clone)]
pub struct PdfIssuer {
    base_url: String,
    settings: Arc<NoticeSettings>,
}

impl PdfIssuer {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            settings: Arc::default(),
        }
    }

    /// The same issuer numbering and sealing as `settings` say.
    pub fn with_settings(mut self, settings: NoticeSettings) -> Self {
        self.settings = Arc::new(settings);
        self
    }

    /// The notice of `kind` as far as the facts tell; the numbers are filled in later.
    fn notice(&self, kind: DocumentKind, f: &DocumentFacts<'_>, code: &VerifyCode) -> Notice {
        let cert = f.certificate;
        let licence =
            (kind == DocumentKind::Certificate || kind == DocumentKind::Approval).then(|| {
                LicenceInfo {
                    title: Some(f.result_name.to_string()).filter(|t| !t.is_empty()),
                    number: String::new(),
                    valid_from: f.today,
                    valid_until: Some(f.today.add_days(5 * 365)),
                    holder: cert.and_then(|c| c.holder.clone()),
                    holder_code: cert
                        .and_then(|c| c.holder_code.as_ref())
                        .map(|(label, v)| (label.zh.clone(), v.clone())),
                    lines: cert
                        .map(|c| {
                            c.lines
                                .iter()
                                .map(|(label, v)| (label.zh.clone(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            });
        Notice {
            kind,
            lang: yiwang_i18n::Lang::Zh,
            case_number: f.case_number.to_string(),
            item_name: f.item_name.to_string(),
            department_name: f.department_name.to_string(),
            department_credit_code: f.department_code.to_string(),
            applicant_name: f.applicant_name.to_string(),
            issued_on: f.today,
            accepted_on: f.accepted_on,
            due_on: f.due_on,
            opinion: f.opinion.map(str::to_string),
            corrections: f
                .correction
                .iter()
                .map(|c| CorrectionEntry {
                    subject: c.label.clone(),
                    problem: c.problem.clone(),
                })
                .collect(),
            verify_url: format!("{}/verify/{}", self.base_url, code.as_str()),
            verify_code: code.as_str().to_string(),
            licence,
            doc_number: None,
            seal: self.settings.seal(f.department_code, f.department_name),
            digest: None,
        }
    }
}

/// What a step's document draws its number from.
enum Numbered {
    /// The department's 文号 of the year.
    DocNumber,
    /// The certificate number.
    Licence,
}

impl DocumentIssuer for PdfIssuer {
    fn issues_for(&self, action: &str) -> bool {
        !kinds_for(action).is_empty()
    }
    fn issues_certificate(&self, action: &str) -> bool {
        kinds_for(action).contains(&DocumentKind::Certificate)
    }
    fn prepare(&self, f: &DocumentFacts<'_>) -> Result<PreparedStep, StoreError> {
        let (year, _, _) = f.today.ymd();
        let prefix = f
            .certificate
            .map(|c| c.number_prefix.clone())
            .unwrap_or_default();
        let mut series = Vec::new();
        let mut docs = Vec::new();
        for kind in kinds_for(f.action) {
            let mut random = [0u8; 13];
            rand::rng().fill_bytes(&mut random);
            let code = VerifyCode::from_random(random);
            let numbered = if *kind == DocumentKind::Certificate {
                series.push(format!("licence:{prefix}:{}", f.region));
                Numbered::Licence
            } else {
                series.push(format!("docno:{}:{year}", f.department_code));
                Numbered::DocNumber
            };
            let notice = self.notice(*kind, f, &code);
            docs.push((code, numbered, notice));
        }
        let settings = self.settings.clone();
        let (dept_code, dept_name) = (f.department_code.to_string(), f.department_name.to_string());
        let region = f.region.to_string();
        let render = move |serials: &[i64]| -> Result<Vec<PreparedDocument>, StoreError> {
            let serial = |i: usize| serials.get(i).copied().unwrap_or_default();
            // The certificate's number, quoted by the approval too.
            let licence_no = docs
                .iter()
                .position(|(_, n, _)| matches!(n, Numbered::Licence))
                .map(|i| licence_number(&prefix, &region, serial(i)));
            let mut out = Vec::new();
            for (i, (code, numbered, template)) in docs.iter().enumerate() {
                let mut notice = template.clone();
                if let (Some(l), Some(no)) = (notice.licence.as_mut(), &licence_no) {
                    l.number = no.clone();
                }
                let doc_number = match numbered {
                    Numbered::DocNumber => {
                        let n = settings.doc_number(&dept_code, &dept_name, year, serial(i));
                        notice.doc_number = Some(n.clone());
                        n
                    }
                    Numbered::Licence => licence_no.clone().unwrap_or_default(),
                };
                let digest = content_digest(&notice);
                notice.digest = Some(digest.clone());
                let pdf = render_pdf(&notice).map_err(|e| {
                    StoreError::Corrupt(format!("notice {}: {e}", notice.kind.key()))
                })?;
                let notice_json = serde_json::to_string(&notice)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                out.push(PreparedDocument {
                    verify_code: code.clone(),
                    kind: notice.kind,
                    notice_json,
                    pdf,
                    doc_number: Some(doc_number),
                    printed_digest: Some(digest),
                });
            }
            Ok(out)
        };
        Ok(PreparedStep {
            series,
            render: Box::new(render),
        })
    }
}

/// Renders a stored notice again (byte-identical to what was issued).
pub fn render_stored(notice_json: &str) -> Result<Vec<u8>, String> {
    let notice: Notice = serde_json::from_str(notice_json).map_err(|e| e.to_string())?;
    render_pdf(&notice).map_err(|e| e.to_string())
}
