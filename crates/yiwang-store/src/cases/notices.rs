//! What the store needs from a notice renderer: the facts of a step, and the rendered
//! documents it records in the step's own transaction. The PDF engine lives outside the store.

use crate::StoreError;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{CaseNumber, CorrectionItem};
use yiwang_domain::forms::CertificateFacts;

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
    /// The region of the case (certificate numbers are numbered per region).
    pub region: &'a str,
    /// What a certificate states, read from the form answers (only for a step that issues
    /// one, see [`DocumentIssuer::issues_certificate`]).
    pub certificate: Option<&'a CertificateFacts>,
}

/// A rendered notice, ready to be recorded with the step that issued it.
#[derive(Debug, Clone)]
pub struct PreparedDocument {
    pub verify_code: yiwang_domain::document::VerifyCode,
    pub kind: yiwang_domain::document::DocumentKind,
    pub notice_json: String,
    pub pdf: Vec<u8>,
    /// The 文号 or certificate number printed on it.
    pub doc_number: Option<String>,
    /// The digest printed on it.
    pub printed_digest: Option<String>,
}

/// Renders a step's documents once its numbers are drawn: gets one serial per series of
/// [`PreparedStep::series`], in that order.
pub type RenderStep =
    Box<dyn Fn(&[i64]) -> Result<Vec<PreparedDocument>, StoreError> + Send + Sync>;

/// The documents of a step, to be rendered inside the step's transaction: their numbers
/// (文号, certificate numbers) are drawn there, so a number is given once and only with the
/// step that prints it.
pub struct PreparedStep {
    /// The counter series to draw from (e.g. `docno:<department>:<year>`), in order.
    pub series: Vec<String>,
    pub render: RenderStep,
}

impl std::fmt::Debug for PreparedStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedStep")
            .field("series", &self.series)
            .finish_non_exhaustive()
    }
}

/// Renders the notices a step issues (the PDF engine lives outside the store).
pub trait DocumentIssuer: Send + Sync {
    /// Whether `action` issues any notice (so nothing is looked up for the others).
    fn issues_for(&self, action: &str) -> bool;
    /// Whether `action` issues a certificate (so the form answers are read for it).
    fn issues_certificate(&self, _action: &str) -> bool {
        false
    }
    fn prepare(&self, facts: &DocumentFacts<'_>) -> Result<PreparedStep, StoreError>;
}
