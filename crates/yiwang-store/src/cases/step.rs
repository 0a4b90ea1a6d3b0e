//! The writes of one step on a case, decided beforehand by `act_on_case` and run as a grouped
//! write: the version-checked state change, its event, tasks, correction, notices,
//! notification and audit entry, all or nothing.

use super::{ActorFacts, CaseRecord, create_tasks, insert_event, notify_in};
use crate::group_commit::Batch;
use crate::rows::get_i64;
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::{CaseNumber, CorrectionItem};
use yiwang_domain::workflow::{Event, Transition};

/// Everything a step writes, owned.
pub(super) struct StepWrite {
    pub store: Store,
    pub case: CaseRecord,
    pub number: CaseNumber,
    pub action: String,
    pub opinion: Option<String>,
    pub correction: Vec<CorrectionItem>,
    pub transition: Transition,
    pub state_body: String,
    pub to_terminal: bool,
    /// Accepted day, due day and paused-since day, as stored.
    pub days: [Option<i64>; 3],
    pub entering_pause: bool,
    pub leaving_pause: bool,
    pub documents: Vec<super::PreparedDocument>,
    pub dept_name: String,
    pub actor: ActorFacts,
    /// The applicant's phone for the SMS (read beforehand; none when nothing is announced).
    pub phone: Option<String>,
    pub now_ms: i64,
}

impl StepWrite {
    pub(super) async fn write(self, b: &mut Batch) -> Result<(), StoreError> {
        let tx = &mut b.tx;
        let StepWrite {
            store,
            case,
            number,
            action,
            opinion,
            correction,
            transition: t,
            state_body,
            to_terminal,
            days: [base_day, due_day, paused_since],
            entering_pause,
            leaving_pause,
            documents,
            dept_name,
            actor,
            phone,
            now_ms,
        } = self;
        let done = sqlx::query(
            "UPDATE cases SET state = $1, state_body = $2, terminal = $3, version = version + 1, \
               accepted_day = $4, due_day = $5, paused_since_day = $6, updated_at = $7 \
             WHERE id = $8 AND version = $9",
        )
        .bind(t.to.clone())
        .bind(state_body)
        .bind(i64::from(to_terminal))
        .bind(base_day)
        .bind(due_day)
        .bind(paused_since)
        .bind(now_ms)
        .bind(case.id)
        .bind(case.version)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(ErrorCode::CaseChanged.into());
        }
        insert_event(
            tx,
            case.id,
            now_ms,
            &action,
            (&t.from, &t.to),
            &actor,
            opinion.as_deref(),
            &t.events,
        )
        .await?;
        for e in &t.events {
            match e {
                Event::TasksCreated { tasks } => {
                    create_tasks(tx, case.id, &case.workflow, &t.to, tasks, &case.department)
                        .await?;
                }
                Event::TaskApproved { task } | Event::TaskRefused { task } => {
                    let status = if matches!(e, Event::TaskApproved { .. }) {
                        "approved"
                    } else {
                        "refused"
                    };
                    sqlx::query(
                        "UPDATE case_tasks SET status = $1, decided_by = $2, decided_at = $3, opinion = $4 \
                         WHERE case_id = $5 AND task_key = $6",
                    )
                    .bind(status)
                    .bind(actor.staff_account)
                    .bind(now_ms)
                    .bind(opinion.clone())
                    .bind(case.id)
                    .bind(task.clone())
                    .execute(&mut **tx)
                    .await?;
                }
                Event::TasksCancelled { tasks } => {
                    for task in tasks {
                        sqlx::query(
                            "UPDATE case_tasks SET status = 'cancelled', decided_at = $1 \
                             WHERE case_id = $2 AND task_key = $3 AND status = 'pending'",
                        )
                        .bind(now_ms)
                        .bind(case.id)
                        .bind(task.clone())
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                _ => {}
            }
        }
        if entering_pause {
            let round = sqlx::query("SELECT COUNT(*) AS n FROM corrections WHERE case_id = $1")
                .bind(case.id)
                .fetch_one(&mut **tx)
                .await?;
            let items = serde_json::to_string(&correction)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO corrections (case_id, round, items, requested_at, requested_by, resolved_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL)",
            )
            .bind(case.id)
            .bind(get_i64(&round, "n")? + 1)
            .bind(items)
            .bind(now_ms)
            .bind(actor.staff_account)
            .execute(&mut **tx)
            .await?;
            // Only the materials the notice names may be replaced (一次性告知: and only those).
            let materials: Vec<&str> = correction
                .iter()
                .filter_map(|c| c.target.strip_prefix("material:"))
                .collect();
            crate::uploads::reopen_uploads_in(tx, case.application_id, &materials).await?;
        }
        if leaving_pause {
            crate::uploads::lock_uploads_in(tx, case.application_id, now_ms).await?;
            sqlx::query(
                "UPDATE corrections SET resolved_at = $1 WHERE case_id = $2 AND resolved_at IS NULL",
            )
            .bind(now_ms)
            .bind(case.id)
            .execute(&mut **tx)
            .await?;
        }
        for d in &documents {
            crate::documents::issue_in(
                tx,
                &crate::documents::NewDocument {
                    verify_code: &d.verify_code,
                    case_number: number.as_str(),
                    kind: d.kind,
                    department_credit_code: case.department.as_str(),
                    department_name: &dept_name,
                    issued_at_ms: now_ms,
                    notice_json: &d.notice_json,
                    pdf: &d.pdf,
                },
            )
            .await?;
        }
        if t.from != t.to {
            notify_in(
                &store,
                tx,
                (case.applicant_id, phone.as_deref()),
                &number,
                &action,
                &case.workflow,
                &t.to,
                now_ms,
            )
            .await?;
        }
        let event = actor.audit.event(
            format!("case.{action}"),
            format!("case:{number}"),
            serde_json::json!({ "from": t.from, "to": t.to }).to_string(),
        );
        b.audit(now_ms, event);
        Ok(())
    }
}
