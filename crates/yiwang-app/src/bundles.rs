//! 一件事 (a life event's bundle) as one use case for the bundle page and the JSON API: what each
//! part still lacks, and "submit all" (一次提交) as one business fact in one transaction.

use crate::apply::{self, Draft, Filer, Readiness};
use yiwang_domain::ErrorCode;
use yiwang_store::applicants::Applicant;
use yiwang_store::bundles::{Bundle, BundlePart, ReadyPart};
use yiwang_store::cases::CaseClock;
use yiwang_store::{Store, StoreError};

/// One part as the bundle page (and the API) shows it: its case, or what its draft lacks.
pub struct PartView {
    pub part: BundlePart,
    /// A draft whose answers do not pass the submission rules yet.
    pub form_incomplete: bool,
    /// Mandatory materials of a draft without a file yet.
    pub materials: Vec<String>,
    /// A draft of an implementation no longer published: it cannot be submitted.
    pub unavailable: bool,
}

impl PartView {
    pub fn ready(&self) -> bool {
        !self.unavailable && !self.form_incomplete && self.materials.is_empty()
    }
}

/// A part as assessed: its view and, for a complete draft, the draft as read and the final
/// answers document to submit it with.
pub type Assessed = (PartView, Option<(Draft, serde_json::Value)>);

/// Each part's view and, for a complete draft, the final answers document to submit it with
/// (the same check as a single application's submission).
pub async fn assess(
    store: &Store,
    a: &Applicant,
    bundle: &Bundle,
) -> Result<Vec<Assessed>, StoreError> {
    let mut out = Vec::with_capacity(bundle.parts.len());
    for part in &bundle.parts {
        let mut view = PartView {
            part: part.clone(),
            form_incomplete: false,
            materials: Vec::new(),
            unavailable: false,
        };
        let mut doc = None;
        if part.case_number.is_none() {
            let draft = match apply::load(store, Filer::Applicant(a), part.application_id).await {
                Ok(d) => d,
                Err(StoreError::Domain(ErrorCode::NotFound)) => {
                    view.unavailable = true;
                    out.push((view, None));
                    continue;
                }
                Err(e) => return Err(e),
            };
            match apply::readiness(&draft) {
                Readiness::Ready(d) => doc = Some((draft, d)),
                Readiness::Missing { form, materials } => {
                    view.form_incomplete = !form.is_empty();
                    view.materials = materials;
                }
            }
        }
        out.push((view, doc));
    }
    Ok(out)
}

/// Whether every part is submitted or ready to be.
pub fn complete(assessed: &[Assessed]) -> bool {
    assessed
        .iter()
        .all(|(v, doc)| v.part.case_number.is_some() || doc.is_some())
}

/// Submits every ready draft of an [`assess`]ed bundle (each its own case; a draft submitted
/// meanwhile keeps its case) and records the bundle's submission with its audit entry, in one
/// transaction.
pub async fn submit_all(
    store: &Store,
    a: &Applicant,
    client: &str,
    bundle_id: i64,
    assessed: &[Assessed],
    clock: CaseClock<'_>,
) -> Result<(), StoreError> {
    let parts: Vec<ReadyPart<'_>> = assessed
        .iter()
        .filter_map(|(_, ready)| ready.as_ref())
        .map(|(draft, doc)| ReadyPart {
            application: &draft.app,
            answers: doc,
            recipient: &draft.recipient,
        })
        .collect();
    store
        .submit_bundle(bundle_id, a, &parts, client, clock)
        .await
}
