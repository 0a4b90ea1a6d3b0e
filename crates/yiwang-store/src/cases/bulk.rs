//! Set-based case writes. The submissions and steps of a group-commit batch are written
//! together: one multi-row statement per table for the whole batch (draft flips, upload locks,
//! case rows, events, tasks, messages, outbox), so the writer's cost per case falls with the
//! batch size instead of staying at a dozen round trips. The rarer writes of a step
//! (correction notice, end of a pause, documents) go row by row (`StepWrite::extras`).
//!
//! Each write still stands alone in what it decides: a draft already submitted flips nothing
//! and answers `None`; a step whose case moved meanwhile matches no row and answers
//! `case_changed`, and neither writes anything else. A second write on the same draft or case
//! in one batch is left to run alone after the others (it must see the first one's effect). If
//! a statement fails, the batch runner rolls the set back and runs every write alone, each in
//! its own savepoint, so one bad write cannot take others with it.

use super::group_commit::{Batch, Output};
use super::step::StepWrite;
use super::submit::SubmitWrite;
use super::{ActorFacts, task_rows};
use crate::case_notify::{Notice, notify_many_in};
use crate::rows::{get_i64, get_str};
use crate::rowset::{Arg, RowSet};
use crate::{Store, StoreError};
use std::collections::{HashMap, HashSet};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::CaseNumber;
use yiwang_domain::workflow::Event;

/// A case write the batch runner can combine with others.
pub(crate) enum BulkWrite {
    Submit(Box<SubmitWrite>),
    Step(Box<StepWrite>),
    /// Every part of a bundle and the bundle's mark: all or nothing, always run alone.
    Bundle(Box<BundleWrite>),
}

/// A bundle submitted together (一次提交): its ready parts, then the bundle marked with an
/// audit entry naming the parts' cases.
pub(crate) struct BundleWrite {
    pub store: Store,
    pub bundle_id: i64,
    pub applicant_id: i64,
    pub parts: Vec<SubmitWrite>,
    pub audit: crate::audit::Actor,
    pub now_ms: i64,
}

/// The answer of each write of a batch, by position; `None`: not written here, run it alone.
pub(crate) type Answers = Vec<Option<Result<Output, StoreError>>>;

/// One event row.
pub(super) struct NewEvent<'a> {
    pub case_id: i64,
    pub at: i64,
    pub action: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub actor: &'a ActorFacts,
    pub opinion: Option<&'a str>,
    pub events: &'a [Event],
}

/// A task decided by a step.
struct Decided {
    case_id: i64,
    task: String,
    status: &'static str,
    by: Option<i64>,
    at: i64,
    opinion: Option<String>,
}

/// Everything a batch adds besides the case rows, collected write by write.
#[derive(Default)]
struct Rest<'a> {
    events: Vec<NewEvent<'a>>,
    /// `(case, task, department)` of tasks to (re)open.
    opened: Vec<(i64, String, String)>,
    decided: Vec<Decided>,
    /// `(case, task, at)` of cancelled tasks.
    cancelled: Vec<(i64, String, i64)>,
    notices: Vec<Notice>,
}

/// Writes `writes` set-based in the batch's transaction.
pub(crate) async fn run(b: &mut Batch, writes: &[BulkWrite]) -> Result<Answers, StoreError> {
    let mut out: Answers = writes.iter().map(|_| None).collect();
    let Some(store) = writes.first().map(|w| match w {
        BulkWrite::Submit(s) => s.store.clone(),
        BulkWrite::Step(s) => s.store.clone(),
        BulkWrite::Bundle(w) => w.store.clone(),
    }) else {
        return Ok(out);
    };
    if let [BulkWrite::Bundle(w)] = writes {
        // Alone in its savepoint: a failing part rolls back the others and the mark.
        out = vec![Some(Ok(bundle_write(b, w).await?))];
        return Ok(out);
    }
    let (mut drafts, mut cases) = (HashSet::new(), HashSet::new());
    let (mut subs, mut steps) = (Vec::new(), Vec::new());
    for (i, w) in writes.iter().enumerate() {
        match w {
            BulkWrite::Submit(s) if drafts.insert(s.application_id) => subs.push((i, &**s)),
            BulkWrite::Step(s) if cases.insert(s.case.id) => steps.push((i, &**s)),
            // Left to run alone after the others.
            BulkWrite::Bundle(_) | BulkWrite::Submit(_) | BulkWrite::Step(_) => {}
        }
    }
    let mut rest = Rest::default();
    submissions(b, &subs, &mut rest, &mut out).await?;
    step_writes(b, &steps, &mut rest, &mut out).await?;
    write_rest(&store, b, rest).await?;
    Ok(out)
}

async fn submissions<'a>(
    b: &mut Batch,
    subs: &[(usize, &'a SubmitWrite)],
    rest: &mut Rest<'a>,
    out: &mut Answers,
) -> Result<(), StoreError> {
    if subs.is_empty() {
        return Ok(());
    }
    // The final answers go in with the status; a draft already submitted flips nothing.
    let mut flips = RowSet::new(3);
    for (_, s) in subs {
        flips.push(vec![
            s.application_id.into(),
            s.answers.clone().into(),
            s.now_ms.into(),
        ])?;
    }
    let flipped = ids(&flips
        .fetch(
            &mut b.tx,
            "WITH v(id, answers, t) AS (VALUES {values}) \
                 UPDATE applications SET status = 'submitted', updated_at = v.t, \
                   answers_enc = COALESCE(v.answers, applications.answers_enc) \
                 FROM v WHERE applications.id = v.id AND applications.status = 'draft' \
                 RETURNING applications.id",
        )
        .await?)?;
    let mut live = Vec::new();
    for (i, s) in subs {
        if flipped.contains(&s.application_id) {
            live.push((*i, *s));
        } else {
            out[*i] = Some(Ok(None));
        }
    }
    if live.is_empty() {
        return Ok(());
    }
    // The materials become part of the submission: no more changes until a correction.
    let locks: Vec<(i64, i64)> = live
        .iter()
        .map(|(_, s)| (s.application_id, s.now_ms))
        .collect();
    crate::uploads::lock_many_in(&mut b.tx, &locks).await?;
    let numbers = take_numbers(b, live.iter().map(|(_, s)| s.prefix.as_str())).await?;

    let mut rows = RowSet::new(22);
    for ((_, s), number) in live.iter().zip(&numbers) {
        let [submitted_day, due_day] = s.days;
        rows.push(vec![
            number.as_str().into(),
            s.application_id.into(),
            s.applicant_id.into(),
            s.impl_code.as_str().into(),
            s.item_name.as_str().into(),
            s.department.as_str().into(),
            s.region_code.as_str().into(),
            s.source.into(),
            s.staff_id.into(),
            s.def.key.as_str().into(),
            i64::from(s.def.version).into(),
            s.workflow_body.as_str().into(),
            s.state.as_str().into(),
            s.state_body.as_str().into(),
            i64::from(s.terminal).into(),
            1.into(),
            s.limit_unit.into(),
            s.limit_amount.into(),
            s.now_ms.into(),
            submitted_day.into(),
            due_day.into(),
            s.now_ms.into(),
        ])?;
    }
    let inserted = rows
        .fetch(
            &mut b.tx,
            "INSERT INTO cases (case_number, application_id, applicant_id, impl_code, item_name, \
               department_code, region_code, source, staff_id, workflow_key, workflow_version, \
               workflow_body, state, state_body, terminal, version, limit_unit, limit_amount, \
               submitted_at, accepted_day, due_day, updated_at) \
             VALUES {values} RETURNING id, case_number",
        )
        .await?;
    let mut case_ids = HashMap::new();
    for r in &inserted {
        case_ids.insert(get_str(r, "case_number")?, get_i64(r, "id")?);
    }
    for ((i, s), number) in live.into_iter().zip(numbers) {
        let case_id = *case_ids
            .get(number.as_str())
            .ok_or_else(|| StoreError::Corrupt("case id".into()))?;
        rest.events.push(NewEvent {
            case_id,
            at: s.now_ms,
            action: "submit",
            from: "",
            to: &s.state,
            actor: &s.actor,
            opinion: None,
            events: &s.events,
        });
        for (key, dept) in task_rows(&s.def, &s.state, &s.tasks, &s.department) {
            rest.opened.push((case_id, key, dept));
        }
        rest.notices.push(Notice {
            applicant_id: s.applicant_id,
            phone: s.phone.clone(),
            number: number.clone(),
            action: "submit".into(),
            status_key: s.def.applicant_status(&s.state),
            now_ms: s.now_ms,
        });
        b.audit(
            s.now_ms,
            s.actor.audit.event(
                "case.submit",
                format!("case:{number}"),
                serde_json::json!({ "source": s.source, "application": s.application_id })
                    .to_string(),
            ),
        );
        out[i] = Some(Ok(Some(number)));
    }
    Ok(())
}

/// Writes a bundle's parts with the same statements as submissions, then marks the bundle.
/// A part submitted meanwhile keeps its case; a bundle marked before is not marked again.
async fn bundle_write(b: &mut Batch, w: &BundleWrite) -> Result<Output, StoreError> {
    for s in &w.parts {
        let of_bundle = sqlx::query("SELECT id FROM applications WHERE id = $1 AND bundle_id = $2")
            .bind(s.application_id)
            .bind(w.bundle_id)
            .fetch_optional(&mut *b.tx)
            .await?;
        if of_bundle.is_none() {
            return Err(ErrorCode::NotFound.into());
        }
    }
    let subs: Vec<(usize, &SubmitWrite)> = w.parts.iter().enumerate().collect();
    let mut answers: Answers = w.parts.iter().map(|_| None).collect();
    let mut rest = Rest::default();
    submissions(b, &subs, &mut rest, &mut answers).await?;
    write_rest(&w.store, b, rest).await?;
    let mut numbers = Vec::with_capacity(w.parts.len());
    for (s, answer) in w.parts.iter().zip(answers) {
        match answer {
            Some(Ok(Some(number))) => numbers.push(number.to_string()),
            Some(Err(e)) => return Err(e),
            // Submitted meanwhile (or by an earlier try of this bundle): its case.
            _ => {
                let row = sqlx::query("SELECT case_number FROM cases WHERE application_id = $1")
                    .bind(s.application_id)
                    .fetch_optional(&mut *b.tx)
                    .await?
                    .ok_or(StoreError::Domain(ErrorCode::NotEditable))?;
                numbers.push(get_str(&row, "case_number")?);
            }
        }
    }
    let marked = sqlx::query(
        "UPDATE bundles SET submitted_at = $1 WHERE id = $2 AND applicant_id = $3 AND submitted_at IS NULL",
    )
    .bind(w.now_ms)
    .bind(w.bundle_id)
    .bind(w.applicant_id)
    .execute(&mut *b.tx)
    .await?;
    if marked.rows_affected() == 1 {
        b.audit(
            w.now_ms,
            w.audit.event(
                "bundle.submit",
                format!("bundle:{}", w.bundle_id),
                numbers.join(","),
            ),
        );
    }
    Ok(None)
}

/// The next case numbers, one per prefix given, in order: one counter statement per distinct
/// prefix (a batch on one item and day takes a range at once).
async fn take_numbers<'p>(
    b: &mut Batch,
    prefixes: impl Iterator<Item = &'p str>,
) -> Result<Vec<CaseNumber>, StoreError> {
    let prefixes: Vec<&str> = prefixes.collect();
    let mut wanted: Vec<(&str, i64)> = Vec::new();
    for p in &prefixes {
        match wanted.iter_mut().find(|(q, _)| q == p) {
            Some((_, n)) => *n += 1,
            None => wanted.push((p, 1)),
        }
    }
    let mut next: HashMap<&str, i64> = HashMap::new();
    for (prefix, n) in wanted {
        // One statement takes the range (SQLite >= 3.35 and PostgreSQL).
        let row = sqlx::query(
            "INSERT INTO case_counters (prefix, last_value) VALUES ($1, $2) \
             ON CONFLICT (prefix) DO UPDATE SET last_value = case_counters.last_value + $2 \
             RETURNING last_value",
        )
        .bind(prefix.to_string())
        .bind(n)
        .fetch_one(&mut *b.tx)
        .await?;
        next.insert(prefix, get_i64(&row, "last_value")? - n + 1);
    }
    prefixes
        .iter()
        .map(|p| {
            let seq = next
                .get_mut(p)
                .ok_or_else(|| StoreError::Corrupt("case counter".into()))?;
            let number = CaseNumber::new(p, *seq).map_err(StoreError::Domain)?;
            *seq += 1;
            Ok(number)
        })
        .collect()
}

async fn step_writes<'a>(
    b: &mut Batch,
    steps: &[(usize, &'a StepWrite)],
    rest: &mut Rest<'a>,
    out: &mut Answers,
) -> Result<(), StoreError> {
    if steps.is_empty() {
        return Ok(());
    }
    let mut rows = RowSet::new(9);
    for (_, s) in steps {
        let [accepted, due, paused] = s.days;
        rows.push(vec![
            s.case.id.into(),
            s.case.version.into(),
            s.transition.to.as_str().into(),
            s.state_body.as_str().into(),
            i64::from(s.to_terminal).into(),
            accepted.into(),
            due.into(),
            paused.into(),
            s.now_ms.into(),
        ])?;
    }
    // Version-checked: a case that moved since the step was decided matches no row.
    let moved = ids(&rows
        .fetch(
            &mut b.tx,
            "WITH v(id, version, state, state_body, terminal, accepted_day, due_day, \
                   paused_since_day, t) AS (VALUES {values}) \
                 UPDATE cases SET state = v.state, state_body = v.state_body, \
                   terminal = v.terminal, version = cases.version + 1, \
                   accepted_day = v.accepted_day, due_day = v.due_day, \
                   paused_since_day = v.paused_since_day, updated_at = v.t \
                 FROM v WHERE cases.id = v.id AND cases.version = v.version \
                 RETURNING cases.id",
        )
        .await?)?;
    for (i, s) in steps {
        if !moved.contains(&s.case.id) {
            out[*i] = Some(Err(ErrorCode::CaseChanged.into()));
            continue;
        }
        s.extras(&mut b.tx).await?;
        s.rows_into(rest);
        b.audit(s.now_ms, s.audit_event());
        out[*i] = Some(Ok(None));
    }
    Ok(())
}

impl StepWrite {
    /// The step's event, task changes and notice.
    fn rows_into<'a>(&'a self, rest: &mut Rest<'a>) {
        let t = &self.transition;
        rest.events.push(NewEvent {
            case_id: self.case.id,
            at: self.now_ms,
            action: &self.action,
            from: &t.from,
            to: &t.to,
            actor: &self.actor,
            opinion: self.opinion.as_deref(),
            events: &t.events,
        });
        for e in &t.events {
            match e {
                Event::TasksCreated { tasks } => {
                    for (key, dept) in
                        task_rows(&self.case.workflow, &t.to, tasks, &self.case.department)
                    {
                        rest.opened.push((self.case.id, key, dept));
                    }
                }
                Event::TaskApproved { task } | Event::TaskRefused { task } => {
                    let status = if matches!(e, Event::TaskApproved { .. }) {
                        "approved"
                    } else {
                        "refused"
                    };
                    rest.decided.push(Decided {
                        case_id: self.case.id,
                        task: task.clone(),
                        status,
                        by: self.actor.staff_account,
                        at: self.now_ms,
                        opinion: self.opinion.clone(),
                    });
                }
                Event::TasksCancelled { tasks } => {
                    for task in tasks {
                        rest.cancelled
                            .push((self.case.id, task.clone(), self.now_ms));
                    }
                }
                _ => {}
            }
        }
        if t.from != t.to {
            rest.notices.push(Notice {
                applicant_id: self.case.applicant_id,
                phone: self.phone.clone(),
                number: self.number.clone(),
                action: self.action.clone(),
                status_key: self.case.workflow.applicant_status(&t.to),
                now_ms: self.now_ms,
            });
        }
    }
}

/// Events, task changes and notices of the batch: a statement per table.
async fn write_rest(store: &Store, b: &mut Batch, rest: Rest<'_>) -> Result<(), StoreError> {
    insert_events(&mut b.tx, &rest.events).await?;
    let mut opened = RowSet::new(4);
    for (case_id, key, dept) in rest.opened {
        opened.push(vec![
            case_id.into(),
            key.into(),
            dept.into(),
            "pending".into(),
        ])?;
    }
    opened
        .execute(
            &mut b.tx,
            "INSERT INTO case_tasks (case_id, task_key, department_code, status) VALUES {values} \
             ON CONFLICT (case_id, task_key) DO UPDATE SET status = excluded.status, \
               decided_by = NULL, decided_at = NULL, opinion = NULL",
        )
        .await?;
    let mut decided = RowSet::new(6);
    for d in rest.decided {
        decided.push(vec![
            d.case_id.into(),
            d.task.into(),
            d.status.into(),
            d.by.into(),
            d.at.into(),
            d.opinion.into(),
        ])?;
    }
    decided
        .execute(
            &mut b.tx,
            "WITH v(case_id, task_key, status, decided_by, decided_at, opinion) AS (VALUES {values}) \
             UPDATE case_tasks SET status = v.status, decided_by = v.decided_by, \
               decided_at = v.decided_at, opinion = v.opinion \
             FROM v WHERE case_tasks.case_id = v.case_id AND case_tasks.task_key = v.task_key",
        )
        .await?;
    let mut cancelled = RowSet::new(3);
    for (case_id, key, at) in rest.cancelled {
        cancelled.push(vec![case_id.into(), key.into(), at.into()])?;
    }
    cancelled
        .execute(
            &mut b.tx,
            "WITH v(case_id, task_key, t) AS (VALUES {values}) \
             UPDATE case_tasks SET status = 'cancelled', decided_at = v.t FROM v \
             WHERE case_tasks.case_id = v.case_id AND case_tasks.task_key = v.task_key \
               AND case_tasks.status = 'pending'",
        )
        .await?;
    notify_many_in(store, &mut b.tx, &rest.notices).await
}

/// Inserts events, each with the next sequence number of its case (at most one event per case
/// in one call: the number is read before the statement's own rows).
pub(super) async fn insert_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    events: &[NewEvent<'_>],
) -> Result<(), StoreError> {
    let mut rows = RowSet::new(10);
    for e in events {
        let detail =
            serde_json::to_string(e.events).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        rows.push(vec![
            e.case_id.into(),
            e.at.into(),
            e.action.into(),
            e.from.into(),
            e.to.into(),
            e.actor.kind.into(),
            e.actor.id.into(),
            e.actor.name.as_str().into(),
            e.opinion.map(str::to_string).into(),
            Arg::from(detail),
        ])?;
    }
    rows.execute(
        tx,
        "WITH v(case_id, t, action, from_state, to_state, actor_kind, actor_id, actor_name, \
           opinion, detail) AS (VALUES {values}) \
         INSERT INTO case_events (case_id, seq, at, action, from_state, to_state, actor_kind, \
           actor_id, actor_name, opinion, detail) \
         SELECT v.case_id, \
           (SELECT COALESCE(MAX(e.seq), 0) + 1 FROM case_events e WHERE e.case_id = v.case_id), \
           v.t, v.action, v.from_state, v.to_state, v.actor_kind, v.actor_id, v.actor_name, \
           v.opinion, v.detail \
         FROM v",
    )
    .await
}

fn ids(rows: &[sqlx::any::AnyRow]) -> Result<HashSet<i64>, StoreError> {
    rows.iter().map(|r| get_i64(r, "id")).collect()
}
