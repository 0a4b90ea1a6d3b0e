//! One step on a case, decided beforehand by `act_on_case` and written by the group commit
//! (`bulk`): the version-checked state change, its event, tasks, correction, documents,
//! notification and audit entry, all or nothing.

use super::group_commit::WriteTx;
use super::{ActorFacts, CaseRecord};
use crate::rows::get_i64;
use crate::{Store, StoreError};
use yiwang_domain::case::{CaseNumber, CorrectionItem};
use yiwang_domain::workflow::Transition;

/// Everything a step writes, owned.
pub(crate) struct StepWrite {
    pub(super) store: Store,
    pub(super) case: CaseRecord,
    pub(super) number: CaseNumber,
    pub(super) action: String,
    pub(super) opinion: Option<String>,
    pub(super) correction: Vec<CorrectionItem>,
    pub(super) transition: Transition,
    pub(super) state_body: String,
    pub(super) to_terminal: bool,
    /// Accepted day, due day and paused-since day, as stored.
    pub(super) days: [Option<i64>; 3],
    pub(super) entering_pause: bool,
    pub(super) leaving_pause: bool,
    /// Rendered in the write, after its numbers are drawn.
    pub(super) documents: Option<super::PreparedStep>,
    pub(super) dept_name: String,
    pub(super) actor: ActorFacts,
    /// The applicant's phone for the SMS (read beforehand; none when nothing is announced).
    pub(super) phone: Option<String>,
    pub(super) now_ms: i64,
}

impl StepWrite {
    /// The step's audit entry.
    pub(super) fn audit_event(&self) -> crate::audit::AuditEvent {
        let t = &self.transition;
        self.actor.audit.event(
            format!("case.{}", self.action),
            format!("case:{}", self.number),
            serde_json::json!({ "from": t.from, "to": t.to }).to_string(),
        )
    }

    /// What only some steps write, after the version-checked state change: the correction
    /// notice and the materials it reopens, the end of a pause, the issued documents.
    pub(super) async fn extras(&self, tx: &mut WriteTx) -> Result<(), StoreError> {
        let case = &self.case;
        if self.entering_pause {
            let round = sqlx::query("SELECT COUNT(*) AS n FROM corrections WHERE case_id = $1")
                .bind(case.id)
                .fetch_one(&mut **tx)
                .await?;
            let items = serde_json::to_string(&self.correction)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO corrections (case_id, round, items, requested_at, requested_by, resolved_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL)",
            )
            .bind(case.id)
            .bind(get_i64(&round, "n")? + 1)
            .bind(items)
            .bind(self.now_ms)
            .bind(self.actor.staff_account)
            .execute(&mut **tx)
            .await?;
            // Only the materials the notice names may be replaced (一次性告知: and only those).
            let materials: Vec<&str> = self
                .correction
                .iter()
                .filter_map(|c| c.target.material())
                .collect();
            crate::uploads::reopen_uploads_in(tx, case.application_id, &materials).await?;
        }
        if self.leaving_pause {
            crate::uploads::lock_uploads_in(tx, case.application_id, self.now_ms).await?;
            sqlx::query(
                "UPDATE corrections SET resolved_at = $1 WHERE case_id = $2 AND resolved_at IS NULL",
            )
            .bind(self.now_ms)
            .bind(case.id)
            .execute(&mut **tx)
            .await?;
        }
        if let Some(step) = &self.documents {
            let mut serials = Vec::with_capacity(step.series.len());
            for series in &step.series {
                serials.push(crate::documents::next_serial_in(tx, series).await?);
            }
            for d in (step.render)(&serials)? {
                crate::documents::issue_in(
                    tx,
                    &crate::documents::NewDocument {
                        verify_code: &d.verify_code,
                        case_number: self.number.as_str(),
                        kind: d.kind,
                        department_credit_code: case.department.as_str(),
                        department_name: &self.dept_name,
                        issued_at_ms: self.now_ms,
                        notice_json: &d.notice_json,
                        pdf: &d.pdf,
                        doc_number: d.doc_number.as_deref(),
                        printed_digest: d.printed_digest.as_deref(),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }
}
