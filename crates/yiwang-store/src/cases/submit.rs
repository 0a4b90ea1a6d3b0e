//! Submission: a draft becomes a case with its number, first event, tasks, notification and
//! audit entry, in one transaction; submitting again returns the same case.

use super::{
    CaseActor, CaseClock, DEFAULT_ACCEPTANCE_DAYS, Progress, Submitted, create_tasks, day_col,
    insert_event, notify_in, workflow_refusal,
};
use crate::audit::append_in;
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::CaseNumber;
use yiwang_domain::catalog::TimeLimit;
use yiwang_domain::enums::{CodeSet, TimeUnit};
use yiwang_domain::workflow::{self, CaseState, Event};

impl Store {
    /// Submits a draft: creates the case with its number, first event, tasks, notification and
    /// audit entry in one transaction. Submitting an application again returns its case.
    pub async fn submit_application(
        &self,
        application_id: i64,
        owner: crate::applications::DraftOwner,
        actor: CaseActor<'_>,
        client: &str,
        clock: CaseClock<'_>,
    ) -> Result<Submitted, StoreError> {
        self.submit_with_answers(application_id, owner, None, actor, client, clock)
            .await
    }

    /// [`Store::submit_application`], storing the final answers document in the same
    /// transaction (one commit for the whole submission).
    pub async fn submit_with_answers(
        &self,
        application_id: i64,
        owner: crate::applications::DraftOwner,
        answers: Option<&serde_json::Value>,
        actor: CaseActor<'_>,
        client: &str,
        clock: CaseClock<'_>,
    ) -> Result<Submitted, StoreError> {
        let app = self.application(application_id, owner).await?;
        if let Some(n) = &app.case_number {
            return Ok(Submitted {
                number: CaseNumber::parse(n)
                    .map_err(|_| StoreError::Corrupt("case number".into()))?,
                created: false,
            });
        }
        let published = self
            .published_implementation(&app.impl_code)
            .await?
            .ok_or(StoreError::Domain(ErrorCode::UnknownImplementation))?;
        let imp = &published.implementation;
        let bindings = self
            .workflow_bindings_for(&imp.code, &imp.basic_code)
            .await?;
        let (def, _from) = workflow::resolve(
            &bindings,
            workflow::CaseSubject {
                basic_code: &imp.basic_code,
                impl_code: &imp.code,
                handling: None,
                case_type: imp.case_type,
            },
        );
        let def = def.into_owned();
        let case = CaseState::start(&def).map_err(|e| workflow_refusal(&e))?;
        let start = def
            .start_state()
            .ok_or(StoreError::Domain(ErrorCode::InvalidWorkflow))?;
        let limit = TimeLimit {
            amount: start.sla_working_days.unwrap_or(DEFAULT_ACCEPTANCE_DAYS),
            unit: TimeUnit::WorkingDays,
        };
        let due = clock
            .calendar
            .due_date(clock.today, limit, &[])
            .map_err(StoreError::Domain)?;
        let progress = Progress {
            case,
            accepted: false,
            limit,
            pauses: Vec::new(),
        };
        let body = def
            .to_json()
            .map_err(|_| StoreError::Domain(ErrorCode::InvalidWorkflow))?;
        let state_body =
            serde_json::to_string(&progress).map_err(|e| StoreError::Corrupt(e.to_string()))?;

        let mut tx = self.pool.begin().await?;
        let flipped = sqlx::query(
            "UPDATE applications SET status = 'submitted', updated_at = $1 WHERE id = $2 AND status = 'draft'",
        )
        .bind(clock.now_ms)
        .bind(application_id)
        .execute(&mut *tx)
        .await?;
        if flipped.rows_affected() != 1 {
            // Another request submitted it first; its transaction has committed.
            drop(tx);
            let row = sqlx::query("SELECT case_number FROM cases WHERE application_id = $1")
                .bind(application_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::Domain(ErrorCode::NotEditable))?;
            return Ok(Submitted {
                number: CaseNumber::parse(&get_str(&row, "case_number")?)
                    .map_err(|_| StoreError::Corrupt("case number".into()))?,
                created: false,
            });
        }
        if let Some(doc) = answers {
            crate::applications::write_answers_in(&mut tx, self, application_id, doc).await?;
        }
        // The materials become part of the submission: no more changes until a correction.
        crate::uploads::lock_uploads_in(&mut tx, application_id, clock.now_ms).await?;
        let prefix = CaseNumber::prefix(&imp.code, clock.today);
        sqlx::query(
            "INSERT INTO case_counters (prefix, last_value) VALUES ($1, 0) ON CONFLICT (prefix) DO NOTHING",
        )
        .bind(prefix.clone())
        .execute(&mut *tx)
        .await?;
        let seq = sqlx::query(
            "UPDATE case_counters SET last_value = last_value + 1 WHERE prefix = $1 RETURNING last_value",
        )
        .bind(prefix.clone())
        .fetch_one(&mut *tx)
        .await?;
        let number =
            CaseNumber::new(&prefix, get_i64(&seq, "last_value")?).map_err(StoreError::Domain)?;
        let terminal = def.state(&progress.case.state).is_some_and(|s| s.terminal);
        let row = sqlx::query(
            "INSERT INTO cases (case_number, application_id, applicant_id, impl_code, item_name, \
               department_code, region_code, source, staff_id, workflow_key, workflow_version, \
               workflow_body, state, state_body, terminal, version, limit_unit, limit_amount, \
               submitted_at, accepted_day, due_day, paused_since_day, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $17, \
               $18, $19, $20, NULL, $18) RETURNING id",
        )
        .bind(number.as_str().to_string())
        .bind(application_id)
        .bind(app.applicant_id)
        .bind(imp.code.as_str().to_string())
        .bind(published.standard.name.clone())
        .bind(imp.department_code.as_str().to_string())
        .bind(imp.region.as_str().to_string())
        .bind(app.source.key())
        .bind(app.staff_id)
        .bind(def.key.clone())
        .bind(i64::from(def.version))
        .bind(body)
        .bind(progress.case.state.clone())
        .bind(state_body)
        .bind(i64::from(terminal))
        .bind(imp.promised_limit.unit.key())
        .bind(i64::from(imp.promised_limit.amount))
        .bind(clock.now_ms)
        .bind(day_col(Some(clock.today)))
        .bind(day_col(Some(due)))
        .fetch_one(&mut *tx)
        .await?;
        let case_id = get_i64(&row, "id")?;
        let events = vec![Event::Moved {
            from: String::new(),
            to: progress.case.state.clone(),
            action: "submit".into(),
        }];
        insert_event(
            &mut tx,
            case_id,
            clock.now_ms,
            "submit",
            ("", &progress.case.state),
            &actor,
            None,
            &events,
        )
        .await?;
        if !progress.case.tasks.is_empty() {
            let keys: Vec<String> = progress.case.tasks.iter().map(|t| t.key.clone()).collect();
            create_tasks(
                &mut tx,
                case_id,
                &def,
                &progress.case.state,
                &keys,
                &imp.department_code,
            )
            .await?;
        }
        notify_in(
            self,
            &mut tx,
            app.applicant_id,
            &number,
            "submit",
            &def,
            &progress.case.state,
            clock.now_ms,
        )
        .await?;
        let event = actor.audit_actor(client).event(
            "case.submit",
            format!("case:{number}"),
            serde_json::json!({ "source": app.source.key(), "application": application_id })
                .to_string(),
        );
        append_in(&mut tx, clock.now_ms, &event).await?;
        tx.commit().await?;
        Ok(Submitted {
            number,
            created: true,
        })
    }
}
