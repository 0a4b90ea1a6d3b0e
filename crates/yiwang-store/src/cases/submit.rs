//! Submission: a draft becomes a case with its number, first event, tasks, notification and
//! audit entry, in one transaction; submitting again returns the same case.

use super::{
    ActorFacts, CaseActor, CaseClock, DEFAULT_ACCEPTANCE_DAYS, Progress, Submitted, create_tasks,
    day_col, insert_event, notify_in, workflow_refusal,
};
use crate::group_commit::Batch;
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::case::CaseNumber;
use yiwang_domain::catalog::TimeLimit;
use yiwang_domain::enums::{CodeSet, TimeUnit};
use yiwang_domain::workflow::{self, CaseState, Event, WorkflowDefinition};
use yiwang_domain::{CreditCode, ErrorCode};

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

        let write = SubmitWrite {
            store: self.clone(),
            application_id,
            answers: answers
                .map(|doc| crate::applications::sealed_answers(self, application_id, doc))
                .transpose()?,
            phone: crate::case_notify::recipient_phone(self, app.applicant_id).await?,
            applicant_id: app.applicant_id,
            source: app.source.key(),
            staff_id: app.staff_id,
            prefix: CaseNumber::prefix(&imp.code, clock.today),
            impl_code: imp.code.as_str().to_string(),
            item_name: published.standard.name.clone(),
            department: imp.department_code.clone(),
            region_code: imp.region.as_str().to_string(),
            terminal: def.state(&progress.case.state).is_some_and(|s| s.terminal),
            workflow_body: body,
            state_body,
            limit_unit: imp.promised_limit.unit.key(),
            limit_amount: i64::from(imp.promised_limit.amount),
            days: [day_col(Some(clock.today)), day_col(Some(due))],
            tasks: progress.case.tasks.iter().map(|t| t.key.clone()).collect(),
            state: progress.case.state,
            def,
            actor: actor.facts(client),
            now_ms: clock.now_ms,
        };
        match self.grouped(move |b| Box::pin(write.write(b))).await? {
            Some(number) => Ok(Submitted {
                number,
                created: true,
            }),
            None => {
                // Another request submitted it first; its batch has committed.
                let row = sqlx::query("SELECT case_number FROM cases WHERE application_id = $1")
                    .bind(application_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::Domain(ErrorCode::NotEditable))?;
                Ok(Submitted {
                    number: CaseNumber::parse(&get_str(&row, "case_number")?)
                        .map_err(|_| StoreError::Corrupt("case number".into()))?,
                    created: false,
                })
            }
        }
    }
}

/// Everything a submission writes, owned.
struct SubmitWrite {
    store: Store,
    application_id: i64,
    /// The final answers, already encrypted as stored.
    answers: Option<String>,
    applicant_id: i64,
    /// The applicant's phone for the SMS (read beforehand).
    phone: Option<String>,
    source: &'static str,
    staff_id: Option<i64>,
    prefix: String,
    impl_code: String,
    item_name: String,
    department: CreditCode,
    region_code: String,
    def: WorkflowDefinition,
    state: String,
    terminal: bool,
    workflow_body: String,
    state_body: String,
    limit_unit: &'static str,
    limit_amount: i64,
    /// Submission day and due day, as stored.
    days: [Option<i64>; 2],
    tasks: Vec<String>,
    actor: ActorFacts,
    now_ms: i64,
}

impl SubmitWrite {
    /// The case's number, or `None` when the draft had already been submitted.
    async fn write(self, b: &mut Batch) -> Result<Option<CaseNumber>, StoreError> {
        let w = self;
        let tx = &mut b.tx;
        // The final answers go in with the status: one statement.
        let flipped = sqlx::query(
            "UPDATE applications SET status = 'submitted', updated_at = $1, \
               answers_enc = COALESCE($2, answers_enc) WHERE id = $3 AND status = 'draft'",
        )
        .bind(w.now_ms)
        .bind(w.answers)
        .bind(w.application_id)
        .execute(&mut **tx)
        .await?;
        if flipped.rows_affected() != 1 {
            return Ok(None);
        }
        // The materials become part of the submission: no more changes until a correction.
        crate::uploads::lock_uploads_in(tx, w.application_id, w.now_ms).await?;
        // One statement takes the day's next number (SQLite >= 3.35 and PostgreSQL).
        let seq = sqlx::query(
            "INSERT INTO case_counters (prefix, last_value) VALUES ($1, 1) \
             ON CONFLICT (prefix) DO UPDATE SET last_value = case_counters.last_value + 1 \
             RETURNING last_value",
        )
        .bind(w.prefix.clone())
        .fetch_one(&mut **tx)
        .await?;
        let number =
            CaseNumber::new(&w.prefix, get_i64(&seq, "last_value")?).map_err(StoreError::Domain)?;
        let [submitted_day, due_day] = w.days;
        let row = sqlx::query(
            "INSERT INTO cases (case_number, application_id, applicant_id, impl_code, item_name, \
               department_code, region_code, source, staff_id, workflow_key, workflow_version, \
               workflow_body, state, state_body, terminal, version, limit_unit, limit_amount, \
               submitted_at, accepted_day, due_day, paused_since_day, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $17, \
               $18, $19, $20, NULL, $18) RETURNING id",
        )
        .bind(number.as_str().to_string())
        .bind(w.application_id)
        .bind(w.applicant_id)
        .bind(w.impl_code)
        .bind(w.item_name)
        .bind(w.department.as_str().to_string())
        .bind(w.region_code)
        .bind(w.source)
        .bind(w.staff_id)
        .bind(w.def.key.clone())
        .bind(i64::from(w.def.version))
        .bind(w.workflow_body)
        .bind(w.state.clone())
        .bind(w.state_body)
        .bind(i64::from(w.terminal))
        .bind(w.limit_unit)
        .bind(w.limit_amount)
        .bind(w.now_ms)
        .bind(submitted_day)
        .bind(due_day)
        .fetch_one(&mut **tx)
        .await?;
        let case_id = get_i64(&row, "id")?;
        let events = vec![Event::Moved {
            from: String::new(),
            to: w.state.clone(),
            action: "submit".into(),
        }];
        insert_event(
            tx,
            case_id,
            w.now_ms,
            "submit",
            ("", &w.state),
            &w.actor,
            None,
            &events,
        )
        .await?;
        if !w.tasks.is_empty() {
            create_tasks(tx, case_id, &w.def, &w.state, &w.tasks, &w.department).await?;
        }
        notify_in(
            &w.store,
            tx,
            (w.applicant_id, w.phone.as_deref()),
            &number,
            "submit",
            &w.def,
            &w.state,
            w.now_ms,
        )
        .await?;
        let event = w.actor.audit.event(
            "case.submit",
            format!("case:{number}"),
            serde_json::json!({ "source": w.source, "application": w.application_id }).to_string(),
        );
        b.audit(w.now_ms, event);
        Ok(Some(number))
    }
}
