//! Reading cases: an applicant's own cases, a case's timeline, tasks and corrections, and the
//! staff worklist of exactly the cases a person may act on.

use crate::cases::{CASE_COLUMNS, CaseRecord, case_of, staff_sees_with};
use crate::rows::{get_i64, get_str, json_array, json_list, json_rows};
use crate::{Store, StoreError};
use serde::Serialize;
use yiwang_domain::calendar::{Calendar, CivilDate, DeadlineState};
use yiwang_domain::case::CorrectionItem;
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{Principal, Role, case_roles};
use yiwang_domain::workflow::{self, CaseRole};
use yiwang_domain::{CreditCode, ErrorCode};

/// One line of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseEventRow {
    pub seq: i64,
    pub at: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub actor_kind: String,
    pub actor_name: String,
    pub opinion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTaskRow {
    pub task_key: String,
    pub department_code: String,
    pub department_name: Option<String>,
    pub status: String,
    pub decided_at: Option<i64>,
    pub opinion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorrectionRow {
    pub round: i64,
    pub items: Vec<CorrectionItem>,
    pub requested_at: i64,
    pub resolved_at: Option<i64>,
}

/// A case with everything its page shows.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub case: CaseRecord,
    pub events: Vec<CaseEventRow>,
    pub tasks: Vec<CaseTaskRow>,
    pub corrections: Vec<CorrectionRow>,
}

impl CaseFile {
    /// The open correction request, if the case waits for the applicant.
    pub fn open_correction(&self) -> Option<&CorrectionRow> {
        self.corrections
            .iter()
            .rev()
            .find(|c| c.resolved_at.is_none())
    }
}

/// One row of a list of cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    pub case_number: String,
    pub item_name: String,
    pub state: String,
    pub applicant_status: String,
    pub submitted_at: i64,
    pub due_day: Option<CivilDate>,
    pub terminal: bool,
    pub source: String,
}

/// A worklist row: the case, the actions this person may take, the deadline colour, and whom
/// it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem {
    pub summary: CaseSummary,
    pub actions: Vec<String>,
    pub deadline: DeadlineState,
    /// The applicant as lists show them: a person's surname and stars, an organisation in
    /// full.
    pub applicant_name: String,
    /// The business the application is for (its form's `business_name`), if it names one.
    pub business_name: Option<String>,
    /// The applicant's full name, only to match a search (never shown on the list).
    #[serde(skip)]
    search_name: String,
}

impl WorkItem {
    /// Whether the row matches a clerk's search: part of the case number, of the business
    /// name or of the applicant's full name (case-insensitive for Latin letters).
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return true;
        }
        let has = |s: &str| s.to_lowercase().contains(&q);
        has(&self.summary.case_number)
            || has(&self.search_name)
            || self.business_name.as_deref().is_some_and(has)
    }
}

/// The form field that names the business an application is for.
pub const BUSINESS_NAME_FIELD: &str = "business_name";

/// One [`CaseEventRow`] as [`Store::case_file`] aggregates it: its columns in order.
type EventJson = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);
/// One [`CaseTaskRow`] as [`Store::case_file`] aggregates it.
type TaskJson = (
    String,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
);
/// One [`CorrectionRow`] as [`Store::case_file`] aggregates it (items still as JSON text).
type CorrectionJson = (i64, String, i64, Option<i64>);

/// The `business_name` posted value of an answers document (JSON text), if not empty.
fn business_name_of(answers: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(answers).ok()?;
    let pairs: Vec<(String, String)> = serde_json::from_value(doc.get("pairs")?.clone()).ok()?;
    pairs
        .into_iter()
        .find(|(k, v)| k == BUSINESS_NAME_FIELD && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
}

/// Most cases a worklist considers before filtering to those the person may act on.
pub const WORKLIST_SCAN: i64 = 2000;

pub(crate) fn summary_of(c: &CaseRecord) -> CaseSummary {
    CaseSummary {
        case_number: c.number.as_str().to_string(),
        item_name: c.item_name.clone(),
        state: c.state().to_string(),
        applicant_status: c.applicant_status(),
        submitted_at: c.submitted_at,
        due_day: c.due_day,
        terminal: c.terminal,
        source: c.source.key().to_string(),
    }
}

/// The actions a staff member may take on a case now, given its pending tasks as
/// `(task key, department code)`: ordinary actions for the roles the case's department gives,
/// task decisions for the roles each pending task's department gives.
fn staff_actions<'a>(
    p: &Principal,
    case: &CaseRecord,
    pending: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let state = &case.progress.case;
    for role in case_roles(p, &case.department, &case.region) {
        for a in workflow::available_actions(&case.workflow, state, role) {
            if workflow::parse_task_action(&a).is_none() && !out.contains(&a) {
                out.push(a);
            }
        }
    }
    if case.workflow.split_at(state.state.as_str()).is_none() {
        return out;
    }
    for (key, dept) in pending {
        let Ok(dept) = CreditCode::parse(dept) else {
            continue;
        };
        for role in case_roles(p, &dept, &case.region) {
            for a in workflow::available_actions(&case.workflow, state, role) {
                let mine = workflow::parse_task_action(&a).is_some_and(|(t, _)| t == key);
                if mine && !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

impl Store {
    /// Timeline, tasks and corrections of a loaded case, in one statement: each list is a
    /// JSON aggregate of its table (one hop to the database instead of three).
    pub async fn case_file(&self, case: CaseRecord) -> Result<CaseFile, StoreError> {
        let b = self.backend;
        let sql = format!(
            "SELECT \
             (SELECT {events} FROM case_events WHERE case_id = $1) AS events, \
             (SELECT {tasks} FROM case_tasks t \
              LEFT JOIN departments d ON d.credit_code = t.department_code \
              WHERE t.case_id = $1) AS tasks, \
             (SELECT {corrections} FROM corrections WHERE case_id = $1) AS corrections",
            events = json_list(
                b,
                &json_array(
                    b,
                    "seq, at, action, from_state, to_state, actor_kind, actor_name, opinion"
                ),
                " ORDER BY seq"
            ),
            tasks = json_list(
                b,
                &json_array(
                    b,
                    "t.task_key, t.department_code, d.name, t.status, t.decided_at, t.opinion"
                ),
                " ORDER BY t.task_key"
            ),
            corrections = json_list(
                b,
                &json_array(b, "round, items, requested_at, resolved_at"),
                " ORDER BY round"
            ),
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(case.id)
            .fetch_one(&self.pool)
            .await?;
        let events = json_rows::<EventJson>(&row, "events")?
            .into_iter()
            .map(
                |(seq, at, action, from_state, to_state, actor_kind, actor_name, opinion)| {
                    CaseEventRow {
                        seq,
                        at,
                        action,
                        from_state,
                        to_state,
                        actor_kind,
                        actor_name,
                        opinion,
                    }
                },
            )
            .collect();
        let tasks = json_rows::<TaskJson>(&row, "tasks")?
            .into_iter()
            .map(
                |(task_key, department_code, department_name, status, decided_at, opinion)| {
                    CaseTaskRow {
                        task_key,
                        department_code,
                        department_name,
                        status,
                        decided_at,
                        opinion,
                    }
                },
            )
            .collect();
        let corrections = json_rows::<CorrectionJson>(&row, "corrections")?
            .into_iter()
            .map(|(round, items, requested_at, resolved_at)| {
                Ok(CorrectionRow {
                    round,
                    // The items column is JSON text of its own, a string inside the list.
                    items: serde_json::from_str(&items)
                        .map_err(|_| StoreError::Corrupt("correction items".into()))?,
                    requested_at,
                    resolved_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(CaseFile {
            case,
            events,
            tasks,
            corrections,
        })
    }

    /// An applicant's cases, newest first.
    pub async fn cases_of_applicant(
        &self,
        applicant_id: i64,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE applicant_id = $1 \
             ORDER BY submitted_at DESC, id DESC LIMIT 200"
        )))
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| case_of(r).map(|c| summary_of(&c)))
            .collect()
    }

    /// The open cases `p` may act on now, soonest due first. Candidates are the cases of the
    /// departments and regions of the person's case-handling grants and those with a pending
    /// task for one of their departments; each is then asked of the workflow, so the list is
    /// exactly the cases with at least one action for this person.
    pub async fn worklist(
        &self,
        p: &Principal,
        calendar: &Calendar,
        today: CivilDate,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let grants: Vec<_> = p
            .grants
            .iter()
            .filter(|g| matches!(g.role, Role::Clerk | Role::Reviewer | Role::Approver))
            .collect();
        if grants.is_empty() {
            return Ok(Vec::new());
        }
        let mut depts: Vec<String> = grants
            .iter()
            .filter_map(|g| g.department.as_ref().map(|d| d.as_str().to_string()))
            .collect();
        depts.sort();
        depts.dedup();
        let mut ranges: Vec<(String, String)> = grants
            .iter()
            .filter(|g| g.department.is_none())
            .filter_map(|g| g.region.as_ref().map(|r| r.subtree_bounds()))
            .collect();
        ranges.sort();
        ranges.dedup();
        let mut ids: Vec<i64> = Vec::new();
        for d in &depts {
            for sql in [
                "SELECT id FROM cases WHERE department_code = $1 AND terminal = 0 ORDER BY due_day LIMIT $2",
                "SELECT c.id FROM case_tasks t JOIN cases c ON c.id = t.case_id \
                 WHERE t.department_code = $1 AND t.status = 'pending' AND c.terminal = 0 LIMIT $2",
            ] {
                let rows = sqlx::query(sql)
                    .bind(d.clone())
                    .bind(WORKLIST_SCAN)
                    .fetch_all(&self.pool)
                    .await?;
                for r in rows {
                    ids.push(get_i64(&r, "id")?);
                }
            }
        }
        for (lo, hi) in &ranges {
            let rows = sqlx::query(
                "SELECT id FROM cases WHERE region_code >= $1 AND region_code <= $2 AND terminal = 0 \
                 ORDER BY due_day LIMIT $3",
            )
            .bind(lo.clone())
            .bind(hi.clone())
            .bind(WORKLIST_SCAN)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                ids.push(get_i64(&r, "id")?);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        for chunk in ids.chunks(200) {
            let sql = format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE id IN ({})",
                crate::rows::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            let mut cases = Vec::new();
            for r in q.fetch_all(&self.pool).await? {
                let case = case_of(&r)?;
                let actions = self.actions_for_staff(p, &case).await?;
                if !actions.is_empty() {
                    cases.push((case, actions));
                }
            }
            let names = self
                .case_names(cases.iter().map(|(c, _)| c.application_id))
                .await?;
            for (case, actions) in cases {
                let (applicant_name, search_name, business_name) =
                    names.get(&case.application_id).cloned().unwrap_or_default();
                let deadline = case
                    .due_day
                    .filter(|_| case.paused_since.is_none())
                    .map(|d| calendar.deadline_state(today, d))
                    .unwrap_or(DeadlineState::Normal);
                out.push(WorkItem {
                    summary: summary_of(&case),
                    actions,
                    deadline,
                    applicant_name,
                    business_name,
                    search_name,
                });
            }
        }
        out.sort_by(|a, b| {
            a.summary
                .due_day
                .cmp(&b.summary.due_day)
                .then_with(|| a.summary.case_number.cmp(&b.summary.case_number))
        });
        Ok(out)
    }

    /// For each application: the applicant's name as lists show it, in full (for search),
    /// and the business it is for. The business name is read from the encrypted answers (a
    /// business name is public register data, not personal data).
    async fn case_names(
        &self,
        application_ids: impl Iterator<Item = i64>,
    ) -> Result<std::collections::HashMap<i64, (String, String, Option<String>)>, StoreError> {
        let ids: Vec<i64> = application_ids.collect();
        let mut out = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT a.id, a.answers_enc, p.display_name, p.kind FROM applications a \
             JOIN applicants p ON p.id = a.applicant_id WHERE a.id IN ({})",
            crate::rows::placeholders(1, ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&self.pool).await? {
            let id = get_i64(&r, "id")?;
            let full = get_str(&r, "display_name")?;
            let shown = if get_str(&r, "kind")? == "natural" {
                yiwang_domain::codes::mask_middle(&full, 1, 0)
            } else {
                full.clone()
            };
            let business = match crate::rows::get_opt_str(&r, "answers_enc")? {
                Some(stored) => {
                    let keys = self.keys().ok_or(StoreError::NoKeys)?;
                    let plain = crate::applications::APPLICATION_ANSWERS.open(keys, id, &stored)?;
                    business_name_of(&plain)
                }
                None => None,
            };
            out.insert(id, (shown, full, business));
        }
        Ok(out)
    }

    /// The actions a staff member may take on a case now: ordinary actions for the roles the
    /// case's department gives them, task decisions for the roles each task's department gives.
    pub async fn actions_for_staff(
        &self,
        p: &Principal,
        case: &CaseRecord,
    ) -> Result<Vec<String>, StoreError> {
        // Pending tasks only matter while the case waits at a parallel split.
        let pending = if case.workflow.split_at(case.state()).is_some() {
            sqlx::query(
                "SELECT task_key, department_code FROM case_tasks WHERE case_id = $1 AND status = 'pending'",
            )
            .bind(case.id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((get_str(r, "task_key")?, get_str(r, "department_code")?)))
            .collect::<Result<Vec<_>, StoreError>>()?
        } else {
            Vec::new()
        };
        Ok(staff_actions(
            p,
            case,
            pending.iter().map(|(k, d)| (k.as_str(), d.as_str())),
        ))
    }

    /// [`Self::actions_for_staff`] for a loaded case file, from its tasks (no statement).
    pub fn actions_for_staff_in(p: &Principal, file: &CaseFile) -> Vec<String> {
        let pending = file
            .tasks
            .iter()
            .filter(|t| t.status == "pending")
            .map(|t| (t.task_key.as_str(), t.department_code.as_str()));
        staff_actions(p, &file.case, pending)
    }

    /// The actions the applicant may take on their own case now (e.g. `resubmit`).
    pub fn actions_for_applicant(case: &CaseRecord) -> Vec<String> {
        workflow::available_actions(&case.workflow, &case.progress.case, CaseRole::Applicant)
    }

    /// A case for its applicant (`not_found` for anyone else's).
    pub async fn case_for_applicant(
        &self,
        number: &yiwang_domain::case::CaseNumber,
        applicant_id: i64,
    ) -> Result<CaseFile, StoreError> {
        let case = self.case_record(number).await?;
        if case.applicant_id != applicant_id {
            return Err(ErrorCode::NotFound.into());
        }
        self.case_file(case).await
    }

    /// A case for a staff member who may see it (`not_found` otherwise).
    pub async fn case_for_staff(
        &self,
        number: &yiwang_domain::case::CaseNumber,
        p: &Principal,
    ) -> Result<CaseFile, StoreError> {
        let case = self.case_record(number).await?;
        if !case_roles(p, &case.department, &case.region).is_empty() {
            return self.case_file(case).await;
        }
        // Only a task's department can let this person see it: the file's tasks say.
        let file = self.case_file(case).await?;
        if !staff_sees_with(
            p,
            &file.case,
            file.tasks.iter().map(|t| t.department_code.as_str()),
        ) {
            return Err(ErrorCode::NotFound.into());
        }
        Ok(file)
    }
}
