//! 督办: the hourly pass that marks cases past their due date, once each.

use super::CaseActor;
use super::bulk::{NewEvent, insert_events};
use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::CaseNumber;

/// Most overdue cases one escalation pass handles (the next pass takes the rest).
pub const ESCALATION_BATCH: i64 = 500;
/// Where the escalation job's writes say they came from.
const ESCALATION_CLIENT: &str = "job:cases.escalate_overdue";

impl Store {
    /// Escalates open cases whose limit has run out (due before `today`, clock running, not
    /// escalated yet): each gets a timeline entry `escalate` (督办) by the system and an audit
    /// entry, once. Returns the case numbers escalated.
    pub async fn escalate_overdue(
        &self,
        today: CivilDate,
        now_ms: i64,
    ) -> Result<Vec<CaseNumber>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, case_number, state FROM cases \
             WHERE terminal = 0 AND escalated_at IS NULL AND paused_since_day IS NULL \
               AND due_day IS NOT NULL AND due_day < $1 \
             ORDER BY due_day, id LIMIT $2",
        )
        .bind(i64::from(today.days_since_epoch()))
        .bind(ESCALATION_BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut done = Vec::new();
        for r in rows {
            let id = get_i64(&r, "id")?;
            let state = get_str(&r, "state")?;
            let number = CaseNumber::parse(&get_str(&r, "case_number")?)
                .map_err(|_| StoreError::Corrupt("case number".into()))?;
            let mut tx = self.begin_write().await?;
            let marked = sqlx::query(
                "UPDATE cases SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL",
            )
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() != 1 {
                // Another process escalated it meanwhile.
                continue;
            }
            insert_events(
                &mut tx,
                &[NewEvent {
                    case_id: id,
                    at: now_ms,
                    action: "escalate",
                    from: &state,
                    to: &state,
                    actor: &CaseActor::System.facts(ESCALATION_CLIENT),
                    opinion: None,
                    events: &[],
                }],
            )
            .await?;
            let event = Actor::system(ESCALATION_CLIENT).event(
                "case.escalate",
                format!("case:{number}"),
                serde_json::json!({ "state": state }).to_string(),
            );
            append_in(&mut tx, now_ms, &event).await?;
            tx.commit().await?;
            done.push(number);
        }
        Ok(done)
    }
}
