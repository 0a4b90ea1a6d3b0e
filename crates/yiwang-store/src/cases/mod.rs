//! Cases (办件): submission and every later action, each one transaction with its events,
//! tasks, corrections, notifications and audit entry.
//!
//! Concurrency: the case row carries a `version`; an action loads the case, asks the pure
//! workflow engine, and writes with `UPDATE … WHERE version = <loaded>`. Of two concurrent
//! actions exactly one matches; the other gets `case_changed`. Submission is idempotent per
//! application: the draft flips to `submitted` with a conditional update in the same
//! transaction that creates the case, so a double click or a retried request finds the case
//! the first one made.
//!
//! Time limits are the domain's (`yiwang_domain::case_clock`): an action asks it for the new
//! progress and due date and writes what it answers.

use crate::applicants::Applicant;
use crate::applications::DraftOwner;
use crate::audit::Actor;
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use yiwang_domain::calendar::{Calendar, CivilDate};
use yiwang_domain::case::{CaseNumber, CaseSource, CorrectionItem, check_correction};
use yiwang_domain::case_clock::{self, CaseTiming, ClockStep, PauseChange};
use yiwang_domain::catalog::TimeLimit;
use yiwang_domain::enums::{CodeSet, TimeUnit};
use yiwang_domain::policy::{Principal, case_roles};
use yiwang_domain::workflow::{
    self, CaseRole, DepartmentSelector, Event, Transition, WorkflowDefinition, WorkflowError,
};

pub use yiwang_domain::case_clock::Progress;
use yiwang_domain::{CreditCode, ErrorCode, ImplCode, RegionCode};

pub(crate) mod bulk;
mod escalate;
pub(crate) mod group_commit;
mod notices;
mod step;
pub(crate) mod submit;

pub use escalate::ESCALATION_BATCH;
pub use notices::{DocumentFacts, DocumentIssuer, PreparedDocument, PreparedStep, RenderStep};
use yiwang_domain::forms::{
    Answers, CertificateFacts, Mode, RawAnswers, certificate_facts, validate,
};

/// When an operation runs, passed in so tests control it: the time and the official calendar.
/// (Who renders the notices a step issues is a separate argument of [`Store::act_on_case`].)
#[derive(Debug, Clone, Copy)]
pub struct CaseClock<'a> {
    pub now_ms: i64,
    pub today: CivilDate,
    pub calendar: &'a Calendar,
}

/// Who takes an action.
#[derive(Debug, Clone, Copy)]
pub enum CaseActor<'a> {
    Staff(&'a Principal),
    Applicant(&'a Applicant),
    /// The platform (e.g. the overdue escalation job).
    System,
}

impl CaseActor<'_> {
    /// The drafts this actor may see and submit as its own: an applicant's own drafts, a
    /// clerk's intake drafts; the platform owns none.
    pub fn draft_owner(&self) -> Option<DraftOwner> {
        match self {
            CaseActor::Staff(p) => Some(DraftOwner::Staff(p.user_id)),
            CaseActor::Applicant(a) => Some(DraftOwner::Applicant(a.id)),
            CaseActor::System => None,
        }
    }

    /// What the writes of a step record of the actor, owned (a grouped write outlives the
    /// borrow).
    fn facts(&self, client: &str) -> ActorFacts {
        let (kind, id, staff_account, name) = match self {
            CaseActor::Staff(p) => (
                "staff",
                Some(p.user_id),
                // Another system acting with an API token has no account (its principal's id
                // is 0) and is named in the audit entry instead.
                Some(p.user_id).filter(|id| *id > 0),
                p.display_name.clone(),
            ),
            CaseActor::Applicant(a) => ("applicant", Some(a.id), None, a.masked_name()),
            CaseActor::System => ("system", None, None, "system".to_string()),
        };
        let audit = match self {
            CaseActor::Staff(p) => Actor::principal(p, client),
            CaseActor::Applicant(a) => a.actor(client),
            CaseActor::System => Actor::system(client),
        };
        ActorFacts {
            kind,
            id,
            staff_account,
            name,
            audit,
        }
    }
}

/// The actor of a step as its writes record it: event columns, decider, audit actor.
#[derive(Debug, Clone)]
pub(crate) struct ActorFacts {
    kind: &'static str,
    id: Option<i64>,
    /// The staff account to record as decider, if any.
    staff_account: Option<i64>,
    name: String,
    audit: Actor,
}

/// A stored case, as loaded for an action or a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub id: i64,
    pub number: CaseNumber,
    pub application_id: i64,
    pub applicant_id: i64,
    pub impl_code: ImplCode,
    pub item_name: String,
    pub department: CreditCode,
    pub region: RegionCode,
    pub source: CaseSource,
    pub staff_id: Option<i64>,
    pub workflow: WorkflowDefinition,
    pub progress: Progress,
    pub terminal: bool,
    pub version: i64,
    pub submitted_at: i64,
    /// The day the running limit counts from.
    pub base_day: Option<CivilDate>,
    pub due_day: Option<CivilDate>,
    pub paused_since: Option<CivilDate>,
    pub updated_at: i64,
    /// The implementation's promised limit, fixed at submission; it runs from acceptance.
    pub promised_limit: TimeLimit,
}

impl CaseRecord {
    pub fn state(&self) -> &str {
        &self.progress.case.state
    }
    /// The status key the applicant sees (message group `case_status`).
    pub fn applicant_status(&self) -> String {
        self.workflow.applicant_status(self.state())
    }
    /// The case's clock as the domain computes with it.
    pub fn timing(&self) -> CaseTiming {
        CaseTiming {
            progress: self.progress.clone(),
            base_day: self.base_day,
            due_day: self.due_day,
            paused_since: self.paused_since,
        }
    }
    /// The case as a step's write leaves it.
    fn after_step(&self, step: &ClockStep, now_ms: i64) -> CaseRecord {
        let t = step.timing.clone();
        CaseRecord {
            progress: t.progress,
            terminal: step.to_terminal,
            version: self.version + 1,
            base_day: t.base_day,
            due_day: t.due_day,
            paused_since: t.paused_since,
            updated_at: now_ms,
            ..self.clone()
        }
    }
}

/// What submitting returned: the case, and whether this call created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub number: CaseNumber,
    pub created: bool,
}

/// An action on a case, as asked.
#[derive(Debug, Clone, Default)]
pub struct ActionRequest {
    pub action: String,
    pub opinion: Option<String>,
    /// The correction list, for actions entering a correction (补正) state.
    pub correction: Vec<CorrectionItem>,
    /// The version the actor saw; a later version means someone else acted first.
    pub expected_version: Option<i64>,
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    pub from: String,
    pub to: String,
    pub version: i64,
    pub events: Vec<Event>,
    /// The case as the action's write left it, so the caller can answer without reading it
    /// again.
    pub case: CaseRecord,
}

/// A parallel task of a case as the access checks need it: which task, for which department.
#[derive(Debug, Clone)]
struct TaskDept {
    key: String,
    department_code: String,
}

/// Longest written opinion.
pub const OPINION_MAX_CHARS: usize = 2000;

pub(crate) const CASE_COLUMNS: &str = "id, case_number, application_id, applicant_id, impl_code, \
    item_name, department_code, region_code, source, staff_id, workflow_body, state_body, terminal, \
    version, submitted_at, accepted_day, due_day, paused_since_day, updated_at, limit_unit, \
    limit_amount";

fn day_of(v: Option<i64>) -> Option<CivilDate> {
    v.and_then(|d| i32::try_from(d).ok())
        .map(CivilDate::from_days_since_epoch)
}

fn day_col(d: Option<CivilDate>) -> Option<i64> {
    d.map(|d| i64::from(d.days_since_epoch()))
}

pub(crate) fn case_of(r: &AnyRow) -> Result<CaseRecord, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(what.to_string());
    let number = get_str(r, "case_number")?;
    let progress: Progress = serde_json::from_str(&get_str(r, "state_body")?)
        .map_err(|_| corrupt(&format!("case state of {number}")))?;
    let unit = get_str(r, "limit_unit")?;
    let promised_limit = TimeLimit {
        unit: TimeUnit::from_key(&unit).ok_or_else(|| corrupt(&format!("limit unit {unit}")))?,
        amount: u32::try_from(get_i64(r, "limit_amount")?).map_err(|_| corrupt("limit amount"))?,
    };
    Ok(CaseRecord {
        id: get_i64(r, "id")?,
        number: CaseNumber::parse(&number).map_err(|_| corrupt("case number"))?,
        application_id: get_i64(r, "application_id")?,
        applicant_id: get_i64(r, "applicant_id")?,
        impl_code: ImplCode::parse(&get_str(r, "impl_code")?)
            .map_err(|_| corrupt("case implementation"))?,
        item_name: get_str(r, "item_name")?,
        department: CreditCode::parse(&get_str(r, "department_code")?)
            .map_err(|_| corrupt("case department"))?,
        region: RegionCode::parse(&get_str(r, "region_code")?)
            .map_err(|_| corrupt("case region"))?,
        source: CaseSource::from_key(&get_str(r, "source")?)
            .ok_or_else(|| corrupt("case source"))?,
        staff_id: get_opt_i64(r, "staff_id")?,
        workflow: crate::workflows::load_stored(&get_str(r, "workflow_body")?)?,
        progress,
        terminal: get_i64(r, "terminal")? != 0,
        version: get_i64(r, "version")?,
        submitted_at: get_i64(r, "submitted_at")?,
        base_day: day_of(get_opt_i64(r, "accepted_day")?),
        due_day: day_of(get_opt_i64(r, "due_day")?),
        paused_since: day_of(get_opt_i64(r, "paused_since_day")?),
        updated_at: get_i64(r, "updated_at")?,
        promised_limit,
    })
}

/// Whether a staff member may see a case, given the departments of its tasks: a case role for
/// its department, or for the department of one of its tasks.
pub(crate) fn staff_sees_with<'a>(
    p: &Principal,
    case: &CaseRecord,
    task_departments: impl IntoIterator<Item = &'a str>,
) -> bool {
    !case_roles(p, &case.department, &case.region).is_empty()
        || task_departments.into_iter().any(|d| {
            CreditCode::parse(d).is_ok_and(|d| !case_roles(p, &d, &case.region).is_empty())
        })
}

fn workflow_refusal(e: &WorkflowError) -> StoreError {
    match e {
        WorkflowError::OpinionRequired { .. } => ErrorCode::Required.into(),
        _ => ErrorCode::TransitionNotAllowed.into(),
    }
}

fn clean_opinion(o: Option<&str>) -> Result<Option<String>, StoreError> {
    match o.map(str::trim).filter(|o| !o.is_empty()) {
        None => Ok(None),
        Some(o) if o.chars().count() > OPINION_MAX_CHARS => Err(ErrorCode::TooLong.into()),
        Some(o)
            if o.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') =>
        {
            Err(ErrorCode::InvalidInput.into())
        }
        Some(o) => Ok(Some(o.to_string())),
    }
}

/// The transition the first of the actor's roles that may take `action` gets; otherwise the
/// refusal of the last role tried.
fn first_allowed(
    case: &CaseRecord,
    action: &str,
    roles: &[CaseRole],
    opinion: Option<&str>,
) -> Result<Transition, StoreError> {
    let mut last_err = None;
    for role in roles {
        match workflow::apply(&case.workflow, &case.progress.case, action, *role, opinion) {
            Ok(t) => return Ok(t),
            Err(e) => last_err = Some(e),
        }
    }
    Err(match last_err {
        Some(e) => workflow_refusal(&e),
        None => ErrorCode::TransitionNotAllowed.into(),
    })
}

/// A correction list goes with entering a correction (补正) state, and only with that.
fn check_correction_for(pause: PauseChange, items: &[CorrectionItem]) -> Result<(), StoreError> {
    if pause.entering {
        check_correction(items).map_err(StoreError::Domain)
    } else if !items.is_empty() {
        Err(ErrorCode::InvalidInput.into())
    } else {
        Ok(())
    }
}

impl Store {
    /// Loads one case by number.
    pub async fn case_record(&self, number: &CaseNumber) -> Result<CaseRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE case_number = $1"
        )))
        .bind(number.as_str().to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        case_of(&row)
    }

    /// One case by number with its tasks, in one statement (a row per task).
    async fn case_record_with_tasks(
        &self,
        number: &CaseNumber,
    ) -> Result<(CaseRecord, Vec<TaskDept>), StoreError> {
        // The task columns are renamed so the case columns stay unambiguous.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS}, t.t_key, t.t_dept FROM cases \
             LEFT JOIN (SELECT case_id AS t_case, task_key AS t_key, department_code AS t_dept \
                        FROM case_tasks) t ON t.t_case = cases.id \
             WHERE case_number = $1"
        )))
        .bind(number.as_str().to_string())
        .fetch_all(&self.pool)
        .await?;
        let first = rows
            .first()
            .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        let case = case_of(first)?;
        let mut tasks = Vec::new();
        for r in &rows {
            if let (Some(key), Some(department_code)) =
                (get_opt_str(r, "t_key")?, get_opt_str(r, "t_dept")?)
            {
                tasks.push(TaskDept {
                    key,
                    department_code,
                });
            }
        }
        Ok((case, tasks))
    }

    async fn task_departments(&self, case_id: i64) -> Result<Vec<TaskDept>, StoreError> {
        sqlx::query("SELECT task_key, department_code FROM case_tasks WHERE case_id = $1")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(TaskDept {
                    key: get_str(r, "task_key")?,
                    department_code: get_str(r, "department_code")?,
                })
            })
            .collect()
    }

    /// The workflow roles `actor` holds for `action` on this case. Applicants hold the
    /// applicant role on their own cases only; staff the roles their grants give for the
    /// case's department (or, for a parallel task, the task's department) and region. A
    /// person with no relation to the case gets `not_found`, so case numbers cannot be probed.
    pub async fn roles_for_action(
        &self,
        case: &CaseRecord,
        actor: CaseActor<'_>,
        action: &str,
    ) -> Result<Vec<CaseRole>, StoreError> {
        self.roles_with(case, actor, action, None).await
    }

    /// [`Self::roles_for_action`] with the case's tasks if the caller has them; otherwise they
    /// are read once, and only when the answer depends on them.
    async fn roles_with(
        &self,
        case: &CaseRecord,
        actor: CaseActor<'_>,
        action: &str,
        tasks: Option<&[TaskDept]>,
    ) -> Result<Vec<CaseRole>, StoreError> {
        let p = match actor {
            CaseActor::Applicant(a) if a.id == case.applicant_id => {
                return Ok(vec![CaseRole::Applicant]);
            }
            CaseActor::Applicant(_) => return Err(ErrorCode::NotFound.into()),
            CaseActor::System => return Ok(Vec::new()),
            CaseActor::Staff(p) => p,
        };
        let mut roles = case_roles(p, &case.department, &case.region);
        let task = workflow::parse_task_action(action).map(|(t, _)| t);
        let loaded;
        let tasks = match tasks {
            Some(t) => t,
            None if task.is_some() || roles.is_empty() => {
                loaded = self.task_departments(case.id).await?;
                loaded.as_slice()
            }
            None => &[],
        };
        if let Some(t) = task.and_then(|task| tasks.iter().find(|t| t.key == task)) {
            let dept = CreditCode::parse(&t.department_code)
                .map_err(|_| StoreError::Corrupt("task department".into()))?;
            roles = case_roles(p, &dept, &case.region);
        }
        if roles.is_empty()
            && !staff_sees_with(p, case, tasks.iter().map(|t| t.department_code.as_str()))
        {
            return Err(ErrorCode::NotFound.into());
        }
        Ok(roles)
    }

    /// Whether a staff member may see a case at all: a case role for its department, or for the
    /// department of one of its tasks.
    pub async fn staff_sees_case(
        &self,
        p: &Principal,
        case: &CaseRecord,
    ) -> Result<bool, StoreError> {
        if !case_roles(p, &case.department, &case.region).is_empty() {
            return Ok(true);
        }
        let tasks = self.task_departments(case.id).await?;
        Ok(staff_sees_with(
            p,
            case,
            tasks.iter().map(|t| t.department_code.as_str()),
        ))
    }

    /// Takes an action on a case: checks it against the definition and the actor's roles,
    /// then writes the new state (version-checked), events, tasks, correction, notification
    /// and audit entry in one transaction.
    pub async fn act_on_case(
        &self,
        number: &CaseNumber,
        req: &ActionRequest,
        actor: CaseActor<'_>,
        client: &str,
        clock: CaseClock<'_>,
        docs: Option<&dyn DocumentIssuer>,
    ) -> Result<ActionOutcome, StoreError> {
        let (case, tasks) = self.case_for_action(number, actor, &req.action).await?;
        let roles = self
            .roles_with(&case, actor, &req.action, tasks.as_deref())
            .await?;
        if let Some(v) = req.expected_version
            && v != case.version
        {
            return Err(ErrorCode::CaseChanged.into());
        }
        let opinion = clean_opinion(req.opinion.as_deref())?;
        let t = first_allowed(&case, &req.action, &roles, opinion.as_deref())?;
        let pause = case_clock::pause_change(&case.workflow, &t.from, &t.to);
        check_correction_for(pause, &req.correction)?;
        if pause.entering {
            crate::corrections::check_items(self, &case, &req.correction).await?;
        }
        // The applicant leaves a correction only with every line answered (a clerk may still
        // end the case from there, e.g. not accepting it).
        if pause.leaving && matches!(actor, CaseActor::Applicant(_)) {
            crate::corrections::check_answered(self, case.id).await?;
        }
        let clocked = case_clock::step(
            &case.workflow,
            &case.timing(),
            &t,
            case.promised_limit,
            clock.today,
            clock.calendar,
        )?;
        let (documents, dept_name) = self
            .step_documents(&case, req, opinion.as_deref(), &clocked.timing, clock, docs)
            .await?;
        // What the write below stores (see `step::StepWrite::write`).
        let after = case.after_step(&clocked, clock.now_ms);
        let phone = if t.from != t.to {
            crate::case_notify::recipient_phone(self, case.applicant_id).await?
        } else {
            None
        };
        let outcome = ActionOutcome {
            from: t.from.clone(),
            to: t.to.clone(),
            version: after.version,
            events: t.events.clone(),
            case: after,
        };
        let timing = &outcome.case;
        let write = step::StepWrite {
            store: self.clone(),
            number: number.clone(),
            action: req.action.clone(),
            opinion,
            correction: req.correction.clone(),
            transition: t,
            state_body: serde_json::to_string(&timing.progress)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            to_terminal: clocked.to_terminal,
            days: [timing.base_day, timing.due_day, timing.paused_since].map(day_col),
            entering_pause: pause.entering,
            leaving_pause: pause.leaving,
            documents,
            dept_name,
            actor: actor.facts(client),
            phone,
            now_ms: clock.now_ms,
            case,
        };
        self.grouped(bulk::BulkWrite::Step(Box::new(write))).await?;
        Ok(outcome)
    }

    /// The case an action is asked on. A staff member's task decision needs the task's
    /// department: it is read with the case.
    async fn case_for_action(
        &self,
        number: &CaseNumber,
        actor: CaseActor<'_>,
        action: &str,
    ) -> Result<(CaseRecord, Option<Vec<TaskDept>>), StoreError> {
        match actor {
            CaseActor::Staff(_) if workflow::parse_task_action(action).is_some() => {
                let (case, tasks) = self.case_record_with_tasks(number).await?;
                Ok((case, Some(tasks)))
            }
            _ => Ok((self.case_record(number).await?, None)),
        }
    }

    /// The notices a step issues, prepared beforehand (numbers are drawn and the PDFs rendered
    /// in the write, see [`PreparedStep`]), with the department's name they print (empty when
    /// none is issued).
    async fn step_documents(
        &self,
        case: &CaseRecord,
        req: &ActionRequest,
        opinion: Option<&str>,
        timing: &CaseTiming,
        clock: CaseClock<'_>,
        docs: Option<&dyn DocumentIssuer>,
    ) -> Result<(Option<PreparedStep>, String), StoreError> {
        let Some(issuer) = docs.filter(|d| d.issues_for(&req.action)) else {
            return Ok((None, String::new()));
        };
        let (dept_name, applicant_name, result_name) = self.document_names(case).await?;
        let certificate = if issuer.issues_certificate(&req.action) {
            self.certificate_facts(case).await?
        } else {
            None
        };
        let step = issuer.prepare(&DocumentFacts {
            action: &req.action,
            case_number: &case.number,
            item_name: &case.item_name,
            result_name: &result_name,
            department_code: case.department.as_str(),
            department_name: &dept_name,
            applicant_name: &applicant_name,
            today: clock.today,
            accepted_on: timing.base_day.filter(|_| timing.progress.accepted),
            due_on: timing.due_day,
            opinion,
            correction: &req.correction,
            region: case.region.as_str(),
            certificate: certificate.as_ref(),
        })?;
        Ok((Some(step), dept_name))
    }

    /// What the case's certificate states according to its form (holder, code, lines), read
    /// from the application's answers; `None` when the form maps no certificate.
    async fn certificate_facts(
        &self,
        case: &CaseRecord,
    ) -> Result<Option<CertificateFacts>, StoreError> {
        let Some(published) = self.published_implementation(&case.impl_code).await? else {
            return Ok(None);
        };
        let form = self
            .form_definition_for(&case.impl_code, &published.standard.basic_code)
            .await?;
        if form.definition.certificate.is_none() {
            return Ok(None);
        }
        let doc = self.application_answers(case.application_id).await?;
        // The checked answers stored with the submission; else the posted values checked now.
        let checked = doc
            .get("answers")
            .and_then(|a| Answers::from_json(&a.to_string()).ok())
            .or_else(|| {
                let pairs: Vec<(String, String)> = doc
                    .get("pairs")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())?;
                let raw = RawAnswers::from_pairs(&form.definition, pairs).ok()?;
                validate(&form.definition, &raw, Mode::Submit).ok()
            });
        let Some(answers) = checked else {
            return Ok(None);
        };
        let mut names = std::collections::BTreeMap::new();
        for code in answers.regions() {
            let path = self.region_path(code).await?;
            // 天津市津南区咸水沽镇: the placeholder levels (市辖区, 县) are not part of an address.
            let name: String = path
                .iter()
                .map(|r| r.name.as_str())
                .filter(|n| !matches!(*n, "市辖区" | "县" | "省直辖县级行政区划"))
                .collect();
            names.insert(code.clone(), name);
        }
        Ok(certificate_facts(&form.definition, &answers, &|c| {
            names.get(c).cloned()
        }))
    }

    /// The department's name, the applicant's name and the result's name, as notices print them.
    async fn document_names(
        &self,
        case: &CaseRecord,
    ) -> Result<(String, String, String), StoreError> {
        let dept = self
            .department(&case.department)
            .await?
            .map(|d| d.name)
            .unwrap_or_else(|| case.department.to_string());
        let applicant = self
            .applicant(case.applicant_id)
            .await?
            .map(|a| a.display_name)
            .unwrap_or_default();
        let result = self
            .published_implementation(&case.impl_code)
            .await?
            .map(|p| p.implementation.result_name)
            .unwrap_or_default();
        Ok((dept, applicant, result))
    }
}

/// The tasks of a parallel split to open, each with the department it goes to.
fn task_rows(
    def: &WorkflowDefinition,
    state: &str,
    tasks: &[String],
    implementing: &CreditCode,
) -> Vec<(String, String)> {
    let Some(split) = def.split_at(state) else {
        return Vec::new();
    };
    tasks
        .iter()
        .filter_map(|key| {
            let task = split.tasks.iter().find(|t| &t.key == key)?;
            // A function-based selector needs a function registry the catalog does not have
            // yet; such tasks go to the implementing department.
            let dept = match &task.department {
                DepartmentSelector::Department { credit_code } => credit_code.clone(),
                DepartmentSelector::Implementing | DepartmentSelector::Function { .. } => {
                    implementing.clone()
                }
            };
            Some((key.clone(), dept.as_str().to_string()))
        })
        .collect()
}
