//! `cases`: full online handling under HTTP load, on a database with durable commits (SQLite
//! `synchronous = FULL`; PostgreSQL as configured, `synchronous_commit` reported).
//!
//! The demo's 食品经营许可 (津南区) follows the 5-step 承诺件 template with a parallel pair
//! (`market` ∥ `health`). Before measuring, drafts (form answers saved) and accepted cases are
//! prepared through the store; then, over N keep-alive connections:
//!
//! - **submissions**: `POST /api/v1/applications/{id}/submit` with the applicant's session
//!   cookie, each request a different draft;
//! - **task completions**: `POST /api/v1/cases/{number}/actions` `market.approve` with a
//!   reviewer's API token, each request a different accepted case.
//!
//! Each phase is checked afterwards: cases, events and tasks in the database equal the requests
//! that answered 200, no 5xx, the audit chain verifies. Baselines measured in the same run: bare
//! axum answering a trivial POST with the same load generator, and single-row INSERT+COMMIT on
//! the same database with the same durability (one writer, then N). Last, a few requests one
//! at a time with every SQL statement counted and timed (sqlx's `sqlx::query` events).

use crate::case_baselines::{commit_loop, durability};
use crate::case_prep::{Person, Prepared, applicants, prepare, staff, store_completions};
use crate::db;
use crate::post_load::{Measured, Post, drive, serve, warm_then_measure};
use crate::report::{Report, secs};
use crate::statements::{PROFILING, install_counter, take_statements};
use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::http::HeaderValue;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use yiwang_domain::ImplCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::applicants::Applicant;
use yiwang_store::{Actor, Backend, ConnectOptions, NewApiToken, Store};
use yiwang_web::{AppState, WebConfig};

const BENCH: &str = "cases";
pub(crate) const FOOD: &str = yiwang_app::demo::DEMO_FOOD_LICENCE;
const MARKET: &str = yiwang_app::demo::DEMO_MARKET;
pub(crate) const REGION: &str = "120112";
pub(crate) const PASSWORD: &str = "Bench-Shenqing-2026!";
const SUBMIT_BODY: &str = r#"{"declaration":true}"#;
const APPROVE_BODY: &str = r#"{"action":"market.approve","opinion":"经营场所符合要求，同意。"}"#;
/// Requests of each kind sent one at a time with every statement counted.
const PROFILED: usize = 20;

#[derive(Debug, Clone, Copy)]
pub struct CasesOptions {
    pub connections: usize,
    /// Measured requests per phase (each a different draft / case).
    pub cases: usize,
    /// A phase stops after this long even when requests are left.
    pub max_seconds: f64,
    /// Length of each database baseline and of the bare axum baseline.
    pub baseline_seconds: f64,
}

// ---------------------------------------------------------------------------------------------
// Database checks and baselines.

/// One submission request per prepared draft, with its applicant's session.
fn submit_posts(drafts: &Prepared, people: &[Person]) -> Vec<Post> {
    drafts
        .drafts
        .iter()
        .map(|(id, who)| Post {
            path: format!("/api/v1/applications/{id}/submit"),
            cookie: Some(people[*who].cookie.clone()),
            bearer: None,
            body: SUBMIT_BODY,
        })
        .collect()
}

/// The submissions load again, on other drafts: with audit entries and encryption (`protected`),
/// or with both switched off (benchmark-only switches; then no audit entry is written).
async fn submission_load(
    store: &Store,
    addr: SocketAddr,
    drafts: &Prepared,
    people: &[Person],
    (warmup, conns, phase_max): (usize, usize, Duration),
    protected: bool,
) -> anyhow::Result<Measured> {
    let posts = submit_posts(drafts, people);
    let (warm, measured) = posts.split_at(warmup.min(posts.len()));
    let entries = count(store, "SELECT COUNT(*) FROM audit_log").await?;
    yiwang_crypto::baseline::set_plaintext(!protected);
    yiwang_store::audit::baseline::set_unaudited(!protected);
    let run = warm_then_measure(addr, (warm, measured), conns, phase_max).await;
    yiwang_store::audit::baseline::set_unaudited(false);
    yiwang_crypto::baseline::set_plaintext(false);
    let (w, m) = run?;
    let written = count(store, "SELECT COUNT(*) FROM audit_log").await? - entries;
    let expected = if protected {
        (w.ok() + m.ok()) as i64
    } else {
        0
    };
    if written != expected {
        bail!("{written} audit entries written for {expected} submissions");
    }
    Ok(m)
}

async fn count(store: &Store, sql: &'static str) -> anyhow::Result<i64> {
    use sqlx::Row;
    let row = sqlx::query(sql).fetch_one(store.pool()).await?;
    Ok(row.try_get::<i64, _>(0)?)
}

fn describe(report: &mut Report, name: &str, unit: &str, m: &Measured) {
    report.info(BENCH, &format!("{name}: {unit}"), format!("{:.0}", m.rps()));
    report.info(
        BENCH,
        &format!("{name}: latency p50 / p99"),
        format!("{:.2} / {:.2} ms", m.quantile_ms(0.5), m.quantile_ms(0.99)),
    );
}

// ---------------------------------------------------------------------------------------------

pub async fn run(database_url: Option<&str>, opts: CasesOptions) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let conns = opts.connections.max(1);
    let phase_max = Duration::from_secs_f64(opts.max_seconds);
    let warmup = (opts.cases / 10).clamp(conns, 1000);
    report.info(
        BENCH,
        "load",
        format!(
            "{conns} connections; {} measured requests per phase after {warmup} warm-up (at most {:.0} s)",
            opts.cases, opts.max_seconds
        ),
    );
    let counting = install_counter();

    // Baseline: bare axum answering a trivial JSON POST.
    let bare = axum::Router::new().route(
        "/post",
        axum::routing::post(|body: Bytes| async move {
            axum::Json(serde_json::json!({"ok": true, "bytes": body.len()}))
        }),
    );
    let (bare_addr, bare_task) = serve(bare).await?;
    let bare_posts = Arc::new(vec![Post {
        path: "/post".into(),
        cookie: None,
        bearer: None,
        body: SUBMIT_BODY,
    }]);
    eprintln!("cases: bare axum POST baseline…");
    drive(
        bare_addr,
        bare_posts.clone(),
        usize::MAX,
        conns,
        Duration::from_secs_f64(0.5),
    )
    .await?;
    let baseline = drive(
        bare_addr,
        bare_posts,
        usize::MAX,
        conns,
        Duration::from_secs_f64(opts.baseline_seconds),
    )
    .await?;
    bare_task.abort();
    describe(
        &mut report,
        "baseline: bare axum POST",
        "requests/s",
        &baseline,
    );

    // A fresh database opened as `serve` opens it (durable commits); preparation through a
    // second, non-durable pool on the same SQLite file (the measured pool is serve's).
    let bench_db = db::fresh(database_url, "cases").await?;
    let backend = bench_db.backend;
    let keys = {
        let file = yiwang_crypto::KeyFile::generate(yiwang_crypto::Alg::Sm4Gcm);
        Arc::new(
            file.ring(yiwang_crypto::KeySource::Inline)
                .map_err(|e| anyhow::anyhow!("generating data keys: {e}"))?,
        )
    };
    let store = bench_db.store.clone().with_keys(keys.clone());
    let durable = durability(&store).await?;
    report.info(BENCH, &format!("{backend}: durability"), durable.clone());
    let (prep, par) = match store.backend() {
        Backend::Sqlite => (
            Store::connect_with(
                &bench_db.url,
                ConnectOptions {
                    durable: false,
                    ..Default::default()
                },
            )
            .await
            .context("opening the preparation pool")?
            .with_keys(keys.clone()),
            1,
        ),
        Backend::Postgres => (store.clone(), 8),
    };
    // Preparation makes many drafts per applicant: beyond the per-account limit of the server.
    let prep = prep.with_quotas(yiwang_store::Quotas {
        open_drafts: i64::MAX,
        ..Default::default()
    });

    let now = crate::now_ms();
    eprintln!("cases: demo, calendar, staff, applicants…");
    yiwang_app::demo::load_demo(&prep, now)
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
    yiwang_app::calendar::import_shipped_calendar(&prep, &Actor::system("bench"), now)
        .await
        .map_err(|e| anyhow::anyhow!("loading the calendar: {e}"))?;
    let food = prep
        .published_implementation(&ImplCode::parse(FOOD).map_err(|c| anyhow::anyhow!("{c:?}"))?)
        .await?
        .context("the demo food licence is not published")?;
    let region = RegionCode::parse(REGION).map_err(|c| anyhow::anyhow!("{c:?}"))?;
    let approvals = food.implementation.department_code.clone();
    let market = CreditCode::parse(MARKET).map_err(|c| anyhow::anyhow!("{c:?}"))?;
    // A token carries only power its creator holds: the market bureau's reviewer issues it.
    let market_reviewer = staff(
        &prep,
        "bench_market_reviewer",
        Role::Reviewer,
        Some(&market),
        Some(&region),
        now,
    )
    .await?;
    let clerk = staff(
        &prep,
        "bench_clerk",
        Role::Clerk,
        Some(&approvals),
        Some(&region),
        now,
    )
    .await?;
    let (_, reviewer_token) = prep
        .create_api_token(
            &NewApiToken {
                name: "market review system".into(),
                grant: Grant {
                    role: Role::Reviewer,
                    region: Some(region.clone()),
                    department: Some(market.clone()),
                },
                expires_at: now + 86_400_000,
            },
            &market_reviewer,
            "127.0.0.1",
            now,
        )
        .await?;
    let bearer = HeaderValue::from_str(&format!("Bearer {reviewer_token}"))?;
    let people = applicants(&prep, conns.min(64), now).await?;
    let plain: Arc<Vec<Applicant>> = Arc::new(people.iter().map(|p| p.applicant.clone()).collect());

    let per_phase = warmup + opts.cases + PROFILED;
    eprintln!("cases: preparing {per_phase} drafts and {per_phase} accepted cases…");
    let t = Instant::now();
    let files = Arc::new(yiwang_app::files::MemoryFileStore::default());
    let prepared = prepare(
        &prep,
        plain,
        &clerk,
        files.clone(),
        per_phase,
        per_phase,
        par,
    )
    .await?;
    report.info(
        BENCH,
        &format!(
            "{backend}: preparation ({} drafts + {} accepted cases)",
            prepared.drafts.len(),
            prepared.accepted.len()
        ),
        secs(t.elapsed()),
    );
    // Drafts for the same load without audit entries and encryption (the cost of both is the
    // difference), saved unencrypted as that run would have saved them.
    let baseline_drafts = warmup + opts.cases;
    yiwang_crypto::baseline::set_plaintext(true);
    let unprotected = prepare(
        &prep,
        Arc::new(people.iter().map(|p| p.applicant.clone()).collect()),
        &clerk,
        files.clone(),
        baseline_drafts,
        0,
        par,
    )
    .await;
    yiwang_crypto::baseline::set_plaintext(false);
    let unprotected = unprotected?;
    // And as many again with both, measured after the run without them, so that the
    // comparison is not skewed by the database growing during the run.
    let protected_after = prepare(
        &prep,
        Arc::new(people.iter().map(|p| p.applicant.clone()).collect()),
        &clerk,
        files.clone(),
        baseline_drafts,
        0,
        par,
    )
    .await?;
    if !matches!(store.backend(), Backend::Postgres) {
        prep.close().await;
    }
    let cases_before = count(&store, "SELECT COUNT(*) FROM cases").await?;

    let state = AppState::new(
        store.clone(),
        WebConfig {
            secure_cookies: false,
            ..Default::default()
        },
    )
    .with_files(files);
    let (addr, server) = serve(yiwang_web::router(state)).await?;

    // Submissions.
    let submits = submit_posts(&prepared, &people);
    let (warm, rest) = submits.split_at(warmup.min(submits.len()));
    let (measured, profiled) = rest.split_at(opts.cases.min(rest.len()));
    eprintln!("cases: {backend}: submissions…");
    let (w, sub) = warm_then_measure(addr, (warm, measured), conns, phase_max).await?;
    describe(
        &mut report,
        &format!("{backend}: submissions"),
        "submissions/s",
        &sub,
    );
    report.info(
        BENCH,
        &format!("{backend}: submissions: responses"),
        sub.status_summary(),
    );
    let rps = sub.rps();
    report.check(
        BENCH,
        &format!("{backend}: submissions/s"),
        format!("{rps:.0}"),
        ">= 5000",
        rps >= 5000.0,
    );
    let p99 = sub.quantile_ms(0.99);
    report.check(
        BENCH,
        &format!("{backend}: submission p99"),
        format!("{p99:.2} ms"),
        "<= 20 ms",
        p99 <= 20.0,
    );
    let submitted_ok = (w.ok() + sub.ok()) as i64;
    let cases_after = count(&store, "SELECT COUNT(*) FROM cases").await?;
    let submit_events = count(
        &store,
        "SELECT COUNT(*) FROM case_events WHERE action = 'submit'",
    )
    .await?;
    let apps_submitted = count(
        &store,
        "SELECT COUNT(*) FROM applications WHERE status = 'submitted'",
    )
    .await?;
    let expect_events = prepared.accepted.len() as i64 + submitted_ok;
    let sub_ok = cases_after - cases_before == submitted_ok
        && submit_events == expect_events
        && apps_submitted == expect_events
        && w.server_errors() + sub.server_errors() == 0
        && sub.ok() == sub.requests;
    report.check(
        BENCH,
        &format!("{backend}: submissions verified"),
        format!(
            "{} new cases, {submit_events} submit events, for {submitted_ok} answers 200",
            cases_after - cases_before
        ),
        "equal, no 5xx",
        sub_ok,
    );
    for s in w.samples.iter().chain(&sub.samples) {
        report.note(format!("{backend} submission answered {s}"));
    }
    let load = (warmup, conns, phase_max);
    let bare = submission_load(&store, addr, &unprotected, &people, load, false).await?;
    describe(
        &mut report,
        &format!("{backend}: submissions without audit entries and encryption"),
        "submissions/s",
        &bare,
    );
    let again = submission_load(&store, addr, &protected_after, &people, load, true).await?;
    describe(
        &mut report,
        &format!("{backend}: submissions with both, again after"),
        "submissions/s",
        &again,
    );
    let with = (rps + again.rps()) / 2.0;
    let overhead = 1.0 - with / bare.rps().max(f64::MIN_POSITIVE);
    report.check(
        BENCH,
        &format!("{backend}: audit + encryption cost on submissions"),
        format!(
            "{:.1} % (with: {with:.0}/s, mean of before and after; without: {:.0}/s)",
            overhead * 100.0,
            bare.rps()
        ),
        "<= 10 %",
        overhead <= 0.10 && bare.ok() == bare.requests && again.ok() == again.requests,
    );

    // Task completions in the store, in process (no HTTP): `health.approve` by a reviewer of
    // 卫健委 on each case, `connections` at a time, notices issued as the server would.
    let health =
        CreditCode::parse(yiwang_app::demo::DEMO_HEALTH).map_err(|c| anyhow::anyhow!("{c:?}"))?;
    let health_reviewer = staff(
        &store,
        "bench_health",
        Role::Reviewer,
        Some(&health),
        Some(&region),
        now,
    )
    .await?;
    eprintln!("cases: {backend}: task completions in the store…");
    let direct = store_completions(
        &store,
        &prepared.accepted,
        &health_reviewer,
        conns,
        phase_max,
    )
    .await?;
    describe(
        &mut report,
        &format!("{backend}: task completions, store only (no HTTP)"),
        "completions/s",
        &direct,
    );
    let health_done = count(
        &store,
        "SELECT COUNT(*) FROM case_tasks WHERE task_key = 'health' AND status = 'approved'",
    )
    .await?;
    report.check(
        BENCH,
        &format!("{backend}: store task completions verified"),
        format!("{health_done} tasks approved for {} successes", direct.ok()),
        "equal, no errors",
        health_done == direct.ok() as i64 && direct.ok() == direct.requests,
    );
    for s in &direct.samples {
        report.note(format!("{backend} store task completion failed: {s}"));
    }

    // Task completions over HTTP: one parallel-task approval per accepted case.
    let approves: Vec<Post> = prepared
        .accepted
        .iter()
        .map(|n| Post {
            path: format!("/api/v1/cases/{n}/actions"),
            cookie: None,
            bearer: Some(bearer.clone()),
            body: APPROVE_BODY,
        })
        .collect();
    let (warm, rest) = approves.split_at(warmup.min(approves.len()));
    let (measured, profiled_tasks) = rest.split_at(opts.cases.min(rest.len()));
    eprintln!("cases: {backend}: task completions…");
    let (w, tasks) = warm_then_measure(addr, (warm, measured), conns, phase_max).await?;
    describe(
        &mut report,
        &format!("{backend}: task completions"),
        "completions/s",
        &tasks,
    );
    report.info(
        BENCH,
        &format!("{backend}: task completions: responses"),
        tasks.status_summary(),
    );
    let rps = tasks.rps();
    report.check(
        BENCH,
        &format!("{backend}: task completions/s"),
        format!("{rps:.0}"),
        ">= 5000",
        rps >= 5000.0,
    );
    let p99 = tasks.quantile_ms(0.99);
    report.check(
        BENCH,
        &format!("{backend}: task completion p99"),
        format!("{p99:.2} ms"),
        "<= 20 ms",
        p99 <= 20.0,
    );
    let approved_ok = (w.ok() + tasks.ok()) as i64;
    let task_events = count(
        &store,
        "SELECT COUNT(*) FROM case_events WHERE action = 'market.approve'",
    )
    .await?;
    let tasks_done = count(
        &store,
        "SELECT COUNT(*) FROM case_tasks WHERE task_key = 'market' AND status = 'approved'",
    )
    .await?;
    report.check(
        BENCH,
        &format!("{backend}: task completions verified"),
        format!("{task_events} events, {tasks_done} tasks approved, for {approved_ok} answers 200"),
        "equal, no 5xx",
        task_events == approved_ok
            && tasks_done == approved_ok
            && w.server_errors() + tasks.server_errors() == 0
            && tasks.ok() == tasks.requests,
    );
    for s in w.samples.iter().chain(&tasks.samples) {
        report.note(format!("{backend} task completion answered {s}"));
    }

    // Profile: requests one at a time, every statement counted and timed.
    if counting {
        for (label, posts) in [
            ("submission", profiled),
            ("task completion", profiled_tasks),
        ] {
            if posts.is_empty() {
                continue;
            }
            take_statements();
            PROFILING.store(true, Ordering::Relaxed);
            let one = drive(addr, Arc::new(posts.to_vec()), posts.len(), 1, phase_max).await;
            PROFILING.store(false, Ordering::Relaxed);
            let one = one?;
            let stats = take_statements();
            let n = one.requests.max(1) as f64;
            let statements: u64 = stats.values().map(|(c, _)| c).sum();
            let sql_ms: f64 = stats.values().map(|(_, s)| s).sum::<f64>() * 1000.0 / n;
            report.info(
                BENCH,
                &format!("{backend}: one {label} at a time"),
                format!(
                    "{:.2} ms wall, {:.1} statements, {sql_ms:.2} ms in statements",
                    one.quantile_ms(0.5),
                    statements as f64 / n
                ),
            );
            let mut by_time: Vec<(&String, &(u64, f64))> = stats.iter().collect();
            by_time.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
            for (sql, (c, s)) in by_time.iter().take(40) {
                report.note(format!(
                    "{backend} {label}: {:.1}x {:.3} ms  {sql}",
                    *c as f64 / n,
                    s * 1000.0 / n
                ));
            }
        }
    } else {
        report.note("statement counts skipped: a tracing subscriber was already installed");
    }

    server.abort();
    let verify = store
        .audit_verify(&mut |_| {})
        .await
        .context("verifying the audit chain")?;
    report.check(
        BENCH,
        &format!("{backend}: audit chain after the run"),
        format!("{} entries", verify.entries),
        "intact",
        verify.ok(),
    );

    // Baseline: single-row INSERT + COMMIT on the same database, same durability.
    sqlx::query("CREATE TABLE bench_commit (id BIGINT PRIMARY KEY, v TEXT NOT NULL)")
        .execute(store.pool())
        .await
        .context("creating the baseline table")?;
    eprintln!("cases: {backend}: INSERT+COMMIT baselines…");
    let one = commit_loop(&store, 1, opts.baseline_seconds, 0).await?;
    describe(
        &mut report,
        &format!("baseline: {backend} INSERT+COMMIT, 1 writer"),
        "commits/s",
        &one,
    );
    let many = commit_loop(&store, conns, opts.baseline_seconds, 1 << 40).await?;
    describe(
        &mut report,
        &format!("baseline: {backend} INSERT+COMMIT, {conns} writers"),
        "commits/s",
        &many,
    );

    bench_db.close().await;
    Ok(report)
}
