//! The notices a case step issues, rendered as PDF (yiwang-docs) for the store to record in
//! the step's own transaction: 受理通知书 on acceptance, 不予受理决定书, 补正材料通知书
//! (一次性告知书), 准予许可决定书 with the result certificate, 不予许可决定书 and 办结通知书. Each
//! carries a random verification code and a QR code to the public verification page.

use rand::RngCore;
use yiwang_docs::{CorrectionEntry, LicenceInfo, Notice, render_pdf};
use yiwang_domain::document::{DocumentKind, VerifyCode};
use yiwang_store::StoreError;
use yiwang_store::cases::{DocumentFacts, DocumentIssuer, PreparedDocument};

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

/// Renders notices with verification links under `base_url` (e.g. `https://zwfw.example.gov.cn`).
#[derive(Debug, Clone)]
pub struct PdfIssuer {
    base_url: String,
}

impl PdfIssuer {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    fn notice(&self, kind: DocumentKind, f: &DocumentFacts<'_>, code: &VerifyCode) -> Notice {
        let licence =
            (kind == DocumentKind::Certificate || kind == DocumentKind::Approval).then(|| {
                LicenceInfo {
                    title: Some(f.result_name.to_string()).filter(|t| !t.is_empty()),
                    // The certificate number: the case number, which is unique and traceable.
                    number: f.case_number.to_string(),
                    valid_from: f.today,
                    valid_until: Some(f.today.add_days(5 * 365)),
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
        }
    }
}

impl DocumentIssuer for PdfIssuer {
    fn issues_for(&self, action: &str) -> bool {
        !kinds_for(action).is_empty()
    }
    fn prepare(&self, f: &DocumentFacts<'_>) -> Result<Vec<PreparedDocument>, StoreError> {
        let mut out = Vec::new();
        for kind in kinds_for(f.action) {
            let mut random = [0u8; 13];
            rand::rng().fill_bytes(&mut random);
            let code = VerifyCode::from_random(random);
            let notice = self.notice(*kind, f, &code);
            let pdf = render_pdf(&notice)
                .map_err(|e| StoreError::Corrupt(format!("notice {}: {e}", kind.key())))?;
            let notice_json =
                serde_json::to_string(&notice).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.push(PreparedDocument {
                verify_code: code,
                kind: *kind,
                notice_json,
                pdf,
            });
        }
        Ok(out)
    }
}

/// Renders a stored notice again (byte-identical to what was issued).
pub fn render_stored(notice_json: &str) -> Result<Vec<u8>, String> {
    let notice: Notice = serde_json::from_str(notice_json).map_err(|e| e.to_string())?;
    render_pdf(&notice).map_err(|e| e.to_string())
}
