//! What the store needs from a notice renderer: the facts of a step, and the rendered
//! documents it records in the step's own transaction. The PDF engine lives outside the store.

use crate::StoreError;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{CaseNumber, CorrectionItem};

/// The facts of a step that a notice (受理通知书, 补正材料通知书, 准予许可决定书 …) states.
#[derive(Debug, Clone)]
pub struct DocumentFacts<'a> {
    pub action: &'a str,
    pub case_number: &'a CaseNumber,
    pub item_name: &'a str,
    /// 结果名称 of the implementation (e.g. 食品经营许可证), for certificates.
    pub result_name: &'a str,
    pub department_code: &'a str,
    pub department_name: &'a str,
    pub applicant_name: &'a str,
    pub today: CivilDate,
    /// The day the running limit counts from (the acceptance day after acceptance).
    pub accepted_on: Option<CivilDate>,
    pub due_on: Option<CivilDate>,
    pub opinion: Option<&'a str>,
    pub correction: &'a [CorrectionItem],
}

/// A rendered notice, ready to be recorded with the step that issued it.
#[derive(Debug, Clone)]
pub struct PreparedDocument {
    pub verify_code: yiwang_domain::document::VerifyCode,
    pub kind: yiwang_domain::document::DocumentKind,
    pub notice_json: String,
    pub pdf: Vec<u8>,
}

/// Renders the notices a step issues (the PDF engine lives outside the store).
pub trait DocumentIssuer: Send + Sync {
    /// Whether `action` issues any notice (so nothing is looked up for the others).
    fn issues_for(&self, action: &str) -> bool;
    fn prepare(&self, facts: &DocumentFacts<'_>) -> Result<Vec<PreparedDocument>, StoreError>;
}
