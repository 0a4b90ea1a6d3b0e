//! Submission: a draft becomes a case with its number, first event, tasks, notification and
//! audit entry, in one transaction; submitting again returns the same case.

use super::bulk::BulkWrite;
use super::{ActorFacts, CaseActor, CaseClock, Submitted, day_col, workflow_refusal};
use crate::rows::get_str;
use crate::{Store, StoreError};
use yiwang_domain::case::CaseNumber;
use yiwang_domain::case_clock;
use yiwang_domain::enums::CodeSet;
use yiwang_domain::workflow::{self, CaseState, Event, WorkflowDefinition};
use yiwang_domain::{CreditCode, ErrorCode, ImplCode, RegionCode};

impl Store {
    /// Submits a draft: creates the case with its number, first event, tasks, notification and
    /// audit entry in one transaction. Submitting an application again returns its case.
    pub async fn submit_application(
        &self,
        application_id: i64,
        actor: CaseActor<'_>,
        client: &str,
        clock: CaseClock<'_>,
    ) -> Result<Submitted, StoreError> {
        self.submit_with_answers(application_id, None, actor, client, clock)
            .await
    }

    /// [`Store::submit_application`], storing the final answers document in the same
    /// transaction (one commit for the whole submission).
    pub async fn submit_with_answers(
        &self,
        application_id: i64,
        answers: Option<&serde_json::Value>,
        actor: CaseActor<'_>,
        client: &str,
        clock: CaseClock<'_>,
    ) -> Result<Submitted, StoreError> {
        let owner = actor
            .draft_owner()
            .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        let app = self.application(application_id, owner).await?;
        self.submit_loaded(&app, answers, None, actor, client, clock)
            .await
    }

    /// [`Store::submit_with_answers`] for an application the caller has just read with
    /// [`Store::application`] (one read less), and with its applicant's phone when read with
    /// it ([`Store::application_with_uploads`]). The actor's ownership is checked again.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_loaded(
        &self,
        app: &crate::applications::Application,
        answers: Option<&serde_json::Value>,
        recipient: Option<&crate::applications::SmsRecipient>,
        actor: CaseActor<'_>,
        client: &str,
        clock: CaseClock<'_>,
    ) -> Result<Submitted, StoreError> {
        let write = match self
            .prepare_submission(app, answers, recipient, actor, client, clock)
            .await?
        {
            Prepared::Submitted(number) => {
                return Ok(Submitted {
                    number,
                    created: false,
                });
            }
            Prepared::Write(w) => w,
        };
        let application_id = app.id;
        match self.grouped(BulkWrite::Submit(write)).await? {
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

    /// Everything a submission checks and reads before its write: the owner, the identity an
    /// item may require, the workflow and the clock. A draft already submitted names its case.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn prepare_submission(
        &self,
        app: &crate::applications::Application,
        answers: Option<&serde_json::Value>,
        recipient: Option<&crate::applications::SmsRecipient>,
        actor: CaseActor<'_>,
        client: &str,
        clock: CaseClock<'_>,
    ) -> Result<Prepared, StoreError> {
        if !actor.draft_owner().is_some_and(|o| app.owned_by(o)) {
            return Err(ErrorCode::NotFound.into());
        }
        let application_id = app.id;
        if let Some(n) = &app.case_number {
            return Ok(Prepared::Submitted(
                CaseNumber::parse(n).map_err(|_| StoreError::Corrupt("case number".into()))?,
            ));
        }
        let published = self
            .published_implementation(&app.impl_code)
            .await?
            .ok_or(StoreError::Domain(ErrorCode::UnknownImplementation))?;
        let imp = &published.implementation;
        // 实名核验: an item that needs a verified identity takes no case from an unverified
        // account (the draft stays as it is).
        if imp.identity_required {
            let verified = match recipient {
                Some(r) => r.identity_verified,
                None => self.identity_verified(app.applicant_id).await?,
            };
            if !verified {
                return Err(ErrorCode::IdentityUnverified.into());
            }
        }
        let bindings = self
            .workflow_bindings_shared(&imp.code, &imp.basic_code)
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
        // Every case may be withdrawn by its applicant until it is accepted.
        let def = yiwang_domain::mine::with_withdrawal(def.into_owned());
        let case = CaseState::start(&def).map_err(|e| workflow_refusal(&e))?;
        let timing = case_clock::at_submission(&def, case, clock.today, clock.calendar)?;
        let progress = timing.progress;
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
            phone: match recipient {
                Some(r) => r.phone.clone(),
                None => crate::case_notify::recipient_phone(self, app.applicant_id).await?,
            },
            applicant_id: app.applicant_id,
            source: app.source.key(),
            staff_id: app.staff_id,
            prefix: CaseNumber::prefix(&imp.code, clock.today),
            impl_code: imp.code.clone(),
            item_name: published.standard.name.clone(),
            department: imp.department_code.clone(),
            region_code: imp.region.clone(),
            terminal: def.state(&progress.case.state).is_some_and(|s| s.terminal),
            workflow_body: body,
            state_body,
            limit_unit: imp.promised_limit.unit.key(),
            limit_amount: i64::from(imp.promised_limit.amount),
            days: [day_col(timing.base_day), day_col(timing.due_day)],
            tasks: progress.case.tasks.iter().map(|t| t.key.clone()).collect(),
            state: progress.case.state.clone(),
            def,
            actor: actor.facts(client),
            now_ms: clock.now_ms,
            events: vec![Event::Moved {
                from: String::new(),
                to: progress.case.state.clone(),
                action: "submit".into(),
            }],
        };
        Ok(Prepared::Write(Box::new(write)))
    }
}

/// A submission checked and ready to write, or the case the draft already became.
pub(crate) enum Prepared {
    Submitted(CaseNumber),
    Write(Box<SubmitWrite>),
}

/// Everything a submission writes, owned (written by `bulk`).
pub(crate) struct SubmitWrite {
    pub(super) store: Store,
    pub(super) application_id: i64,
    /// The final answers, already encrypted as stored.
    pub(super) answers: Option<String>,
    pub(super) applicant_id: i64,
    /// The applicant's phone for the SMS (read beforehand).
    pub(super) phone: Option<String>,
    pub(super) source: &'static str,
    pub(super) staff_id: Option<i64>,
    pub(super) prefix: String,
    pub(super) impl_code: ImplCode,
    pub(super) item_name: String,
    pub(super) department: CreditCode,
    pub(super) region_code: RegionCode,
    pub(super) def: WorkflowDefinition,
    pub(super) state: String,
    pub(super) terminal: bool,
    pub(super) workflow_body: String,
    pub(super) state_body: String,
    pub(super) limit_unit: &'static str,
    pub(super) limit_amount: i64,
    /// Submission day and due day, as stored.
    pub(super) days: [Option<i64>; 2],
    pub(super) tasks: Vec<String>,
    pub(super) actor: ActorFacts,
    pub(super) now_ms: i64,
    /// The first event's detail.
    pub(super) events: Vec<Event>,
}
