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

use crate::db;
use crate::report::{Report, secs};
use anyhow::{Context, bail};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yiwang_domain::ImplCode;
use yiwang_domain::calendar::{Calendar, CivilDate};
use yiwang_domain::case::{ApplicantId, CaseNumber, CaseSource};
use yiwang_domain::codes::{Phone, ResidentId};
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::applicants::{Applicant, NewApplicant};
use yiwang_store::applications::DraftOwner;
use yiwang_store::cases::{ActionRequest, CaseActor, CaseClock};
use yiwang_store::{Actor, Backend, ConnectOptions, NewApiToken, NewUser, Store};
use yiwang_web::{AppState, WebConfig};

const BENCH: &str = "cases";
const FOOD: &str = yiwang_app::demo::DEMO_FOOD_LICENCE;
const MARKET: &str = yiwang_app::demo::DEMO_MARKET;
const REGION: &str = "120112";
const PASSWORD: &str = "Bench-Shenqing-2026!";
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
// The POST load generator.

/// One request: a path, its credential, a JSON body.
#[derive(Debug, Clone)]
struct Post {
    path: String,
    cookie: Option<HeaderValue>,
    bearer: Option<HeaderValue>,
    body: &'static str,
}

/// What a run measured.
#[derive(Debug, Default)]
struct Measured {
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    elapsed: Duration,
    /// Latencies in microseconds, sorted.
    latencies_us: Vec<u32>,
    /// The first few non-2xx answers, for the notes.
    samples: Vec<String>,
}

impl Measured {
    fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.requests as f64 / s
        } else {
            0.0
        }
    }
    fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }
    fn ok(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }
    fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.transport_errors
    }
    fn status_summary(&self) -> String {
        let mut parts: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}x{n}"))
            .collect();
        if self.transport_errors > 0 {
            parts.push(format!("errors x{}", self.transport_errors));
        }
        parts.join(" ")
    }
}

fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let last = sorted_us.len() - 1;
    let i = ((last as f64) * q).round() as usize;
    f64::from(sorted_us[i.min(last)]) / 1000.0
}

/// Sends `total` requests (`posts[i % len]`, each taken once by whichever connection is free)
/// over `connections` keep-alive connections; stops early after `max`.
async fn drive(
    addr: SocketAddr,
    posts: Arc<Vec<Post>>,
    total: usize,
    connections: usize,
    max: Duration,
) -> anyhow::Result<Measured> {
    if posts.is_empty() || total == 0 {
        bail!("no requests to send");
    }
    if !addr.ip().is_loopback() {
        bail!("the load generator only targets loopback addresses");
    }
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + max;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections.max(1) {
        let (posts, next) = (posts.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            post_worker(addr, &posts, &next, total, deadline).await
        }));
    }
    let mut out = Measured::default();
    for t in tasks {
        let r = t.await.context("load worker")?;
        out.requests += r.requests;
        out.transport_errors += r.transport_errors;
        for (s, n) in r.statuses {
            *out.statuses.entry(s).or_default() += n;
        }
        out.latencies_us.extend(r.latencies_us);
        for s in r.samples {
            if out.samples.len() < 3 {
                out.samples.push(s);
            }
        }
    }
    out.elapsed = start.elapsed();
    out.latencies_us.sort_unstable();
    Ok(out)
}

async fn post_worker(
    addr: SocketAddr,
    posts: &[Post],
    next: &AtomicUsize,
    total: usize,
    deadline: Instant,
) -> Measured {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1)
        .build(connector);
    let mut out = Measured {
        latencies_us: Vec::with_capacity(4096),
        ..Default::default()
    };
    loop {
        let t0 = Instant::now();
        if t0 >= deadline {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            break;
        }
        let p = &posts[i % posts.len()];
        let Ok(req) = build(addr, p) else {
            out.transport_errors += 1;
            continue;
        };
        let outcome = match client.request(req).await {
            Ok(res) => {
                let status = res.status().as_u16();
                match axum::body::to_bytes(Body::new(res.into_body()), 4 * 1024 * 1024).await {
                    Ok(b) => Ok((status, b)),
                    Err(_) => Err(()),
                }
            }
            Err(_) => Err(()),
        };
        let us = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
        match outcome {
            Ok((status, body)) => {
                out.requests += 1;
                *out.statuses.entry(status).or_default() += 1;
                out.latencies_us.push(us);
                if !(200..300).contains(&status) && out.samples.len() < 3 {
                    out.samples.push(format!(
                        "{status} {}: {:.300}",
                        p.path,
                        String::from_utf8_lossy(&body)
                    ));
                }
            }
            Err(()) => {
                out.transport_errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    out
}

fn build(addr: SocketAddr, p: &Post) -> anyhow::Result<Request<Body>> {
    let uri: Uri = format!("http://{addr}{}", p.path).parse()?;
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = &p.cookie {
        req = req.header(header::COOKIE, c.clone());
    }
    if let Some(b) = &p.bearer {
        req = req.header(header::AUTHORIZATION, b.clone());
    }
    Ok(req.body(Body::from(Bytes::from_static(p.body.as_bytes())))?)
}

/// Serves `app` as the binary does (peer addresses available to handlers).
async fn serve(app: axum::Router) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = yiwang_web::serve_support::serve(listener, app).await {
            eprintln!("server stopped: {e}");
        }
    });
    Ok((addr, handle))
}

// ---------------------------------------------------------------------------------------------
// Counting SQL statements (sqlx reports each as a `sqlx::query` tracing event).

static PROFILING: AtomicBool = AtomicBool::new(false);
static STATEMENTS: Mutex<BTreeMap<String, (u64, f64)>> = Mutex::new(BTreeMap::new());

static REPORTED: Mutex<std::collections::BTreeSet<String>> =
    Mutex::new(std::collections::BTreeSet::new());

struct StatementCounter;

struct Printer<'a>(&'a mut String);

impl tracing::field::Visit for Printer<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

#[derive(Default)]
struct StatementFields {
    summary: String,
    statement: String,
    elapsed_secs: f64,
}

impl tracing::field::Visit for StatementFields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.statement = value.to_string(),
            _ => {}
        }
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }
    fn record_debug(&mut self, _field: &tracing::field::Field, _value: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for StatementCounter {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.target() == "sqlx::query" {
            tracing::subscriber::Interest::sometimes()
        } else if *meta.level() <= tracing::Level::WARN {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }
    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        if meta.target() == "sqlx::query" {
            PROFILING.load(Ordering::Relaxed)
        } else {
            *meta.level() <= tracing::Level::WARN
        }
    }
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() != "sqlx::query" {
            // Server-side warnings and errors (a 500's cause), once per distinct text.
            let mut text = String::new();
            event.record(&mut Printer(&mut text));
            if let Ok(mut seen) = REPORTED.lock()
                && seen.len() < 20
                && seen.insert(text.clone())
            {
                eprintln!(
                    "{} {}: {text}",
                    event.metadata().level(),
                    event.metadata().target()
                );
            }
            return;
        }
        let mut f = StatementFields::default();
        event.record(&mut f);
        let text = if f.statement.trim().is_empty() {
            f.summary
        } else {
            f.statement
        };
        let key: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(90)
            .collect();
        if let Ok(mut m) = STATEMENTS.lock() {
            let e = m.entry(key).or_default();
            e.0 += 1;
            e.1 += f.elapsed_secs;
        }
    }
}

/// Installs the statement counter (idle until [`PROFILING`] is set); false if another
/// subscriber is already installed.
fn install_counter() -> bool {
    use tracing_subscriber::layer::SubscriberExt;
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(StatementCounter))
        .is_ok()
}

fn take_statements() -> BTreeMap<String, (u64, f64)> {
    STATEMENTS
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Preparing applicants, drafts and accepted cases.

fn resident_id(i: usize) -> anyhow::Result<ResidentId> {
    // Born 1960-01-01 + i days spread over months and days; sequence 100..999.
    let year = 1960 + (i / 336) % 40;
    let month = 1 + (i / 28) % 12;
    let day = 1 + i % 28;
    let first17 = format!("{REGION}{year:04}{month:02}{day:02}{:03}", 100 + i % 900);
    ResidentId::with_check_char(&first17).map_err(|c| anyhow::anyhow!("resident id: {c:?}"))
}

/// The demo food-licence form, filled in completely (as `PUT …/answers` stores it).
fn answers(i: usize) -> anyhow::Result<serde_json::Value> {
    let rep = resident_id(i)?;
    let manager = resident_id(i + 7)?;
    let pairs: Vec<(String, String)> = [
        ("business_name", format!("津南区小王餐馆第{i}分店")),
        ("credit_code", "91120112MA05T8XK4U".to_string()),
        ("legal_rep", "王小明".to_string()),
        ("legal_rep_id", rep.reveal().to_string()),
        ("phone", "13800138000".to_string()),
        ("address.region", "120112100000".to_string()),
        ("address.detail", format!("咸水沽镇津沽路 {} 号", i + 1)),
        ("business_types", "hot_food".to_string()),
        ("business_types", "prepackaged".to_string()),
        ("area", "120.5".to_string()),
        ("online", "no".to_string()),
        ("managers[0].name", "李四".to_string()),
        ("managers[0].id_number", manager.reveal().to_string()),
        ("managers[0].phone", "13900139000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(serde_json::json!({ "pairs": pairs }))
}

struct Person {
    applicant: Applicant,
    cookie: HeaderValue,
}

async fn applicants(store: &Store, n: usize, now: i64) -> anyhow::Result<Vec<Person>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let new = NewApplicant {
            id: ApplicantId::Person(resident_id(10_000 + i)?),
            display_name: format!("申请人{i}"),
            legal_rep: None,
            phone: Phone::parse(&format!("138{:08}", i))
                .map_err(|c| anyhow::anyhow!("phone: {c:?}"))?,
            password: PASSWORD.into(),
        };
        let applicant = store
            .register_applicant(&new, "127.0.0.1", now)
            .await
            .context("registering an applicant")?;
        let token = yiwang_web::auth::new_token();
        store
            .create_applicant_session(
                &yiwang_web::hash_token(&token),
                applicant.id,
                now,
                8 * 3600 * 1000,
            )
            .await
            .context("starting an applicant session")?;
        let cookie =
            HeaderValue::from_str(&format!("{}={token}", yiwang_web::me::APPLICANT_COOKIE))
                .context("cookie header")?;
        out.push(Person { applicant, cookie });
    }
    Ok(out)
}

async fn staff(
    store: &Store,
    name: &str,
    role: Role,
    dept: Option<&CreditCode>,
    region: Option<&RegionCode>,
    now: i64,
) -> anyhow::Result<Principal> {
    let id = store
        .create_user(
            &NewUser {
                username: name.into(),
                display_name: name.into(),
                password: "Bench-Staff-Password-2026".into(),
                grants: vec![Grant {
                    role,
                    region: region.cloned(),
                    department: dept.cloned(),
                }],
            },
            &Actor::system("bench"),
            now,
        )
        .await
        .with_context(|| format!("creating staff user {name}"))?;
    store
        .principal(id)
        .await?
        .with_context(|| format!("staff user {name} not found"))
}

fn clock<'a>(calendar: &'a Calendar) -> CaseClock<'a> {
    let now_ms = crate::now_ms();
    CaseClock {
        now_ms,
        today: CivilDate::from_unix_ms(now_ms, 8 * 3600),
        calendar,
        docs: None,
    }
}

/// A small, valid PDF for every mandatory material of a draft.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn upload_materials(
    store: &Store,
    files: &dyn yiwang_app::files::FileStore,
    materials: &[String],
    applicant_id: i64,
    application_id: i64,
) -> anyhow::Result<()> {
    let policy = yiwang_domain::upload::UploadPolicy::default();
    let pdf = yiwang_app::files::CheckedUpload::check(PDF.to_vec(), "材料.pdf", &policy)
        .map_err(|c| anyhow::anyhow!("the baseline PDF is refused: {c:?}"))?;
    for m in materials {
        yiwang_app::files::save_upload(
            store,
            files,
            &yiwang_app::files::UploadTarget {
                owner_applicant_id: applicant_id,
                application_id,
                material_key: m,
                replaces: None,
            },
            &pdf,
            crate::now_ms(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("uploading {m}: {e}"))?;
    }
    Ok(())
}

/// What one preparation worker made.
#[derive(Default)]
struct Prepared {
    /// (application id, applicant index)
    drafts: Vec<(i64, usize)>,
    accepted: Vec<CaseNumber>,
}

/// Makes `drafts` saved drafts and `accepted` accepted cases, round-robin over the applicants,
/// with `par` concurrent workers.
async fn prepare(
    store: &Store,
    people: Arc<Vec<Applicant>>,
    clerk: &Principal,
    files: Arc<yiwang_app::files::MemoryFileStore>,
    drafts: usize,
    accepted: usize,
    par: usize,
) -> anyhow::Result<Prepared> {
    let materials: Arc<Vec<String>> = Arc::new(
        store
            .published_implementation(&ImplCode::parse(FOOD).map_err(|c| anyhow::anyhow!("{c:?}"))?)
            .await?
            .context("the demo food licence is not published")?
            .implementation
            .materials
            .into_iter()
            .filter(|m| m.mandatory)
            .map(|m| m.name)
            .collect(),
    );
    let code = ImplCode::parse(FOOD).map_err(|c| anyhow::anyhow!("impl code: {c:?}"))?;
    let calendar = Arc::new(store.calendar().await?);
    let done = Arc::new(AtomicUsize::new(0));
    let total = drafts + accepted;
    let mut set = tokio::task::JoinSet::new();
    for w in 0..par.max(1) {
        let (store, people, code, calendar, clerk, done, files, materials) = (
            store.clone(),
            people.clone(),
            code.clone(),
            calendar.clone(),
            clerk.clone(),
            done.clone(),
            files.clone(),
            materials.clone(),
        );
        set.spawn(async move {
            let mut out = Prepared::default();
            for i in (w..total).step_by(par.max(1)) {
                let who = i % people.len();
                let a = &people[who];
                let app = store
                    .create_application(a.id, &code, CaseSource::Online, None, crate::now_ms())
                    .await?;
                store
                    .save_answers(
                        app.id,
                        DraftOwner::Applicant(a.id),
                        &answers(i)?,
                        crate::now_ms(),
                    )
                    .await?;
                if i < drafts {
                    upload_materials(&store, files.as_ref(), &materials, a.id, app.id).await?;
                    out.drafts.push((app.id, who));
                } else {
                    let s = store
                        .submit_application(
                            app.id,
                            DraftOwner::Applicant(a.id),
                            CaseActor::Applicant(a),
                            "127.0.0.1",
                            clock(&calendar),
                        )
                        .await?;
                    let req = ActionRequest {
                        action: "accept".into(),
                        ..Default::default()
                    };
                    store
                        .act_on_case(
                            &s.number,
                            &req,
                            CaseActor::Staff(&clerk),
                            "127.0.0.1",
                            clock(&calendar),
                        )
                        .await?;
                    out.accepted.push(s.number);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 1000 == 0 {
                    eprintln!("cases: prepared {n}/{total}");
                }
            }
            anyhow::Ok(out)
        });
    }
    let mut all = Prepared::default();
    while let Some(r) = set.join_next().await {
        let r = r.context("preparation worker")??;
        all.drafts.extend(r.drafts);
        all.accepted.extend(r.accepted);
    }
    Ok(all)
}

/// `health.approve` on each case through `Store::act_on_case`, by `workers` concurrent tasks.
async fn store_completions(
    store: &Store,
    cases: &[CaseNumber],
    reviewer: &Principal,
    workers: usize,
    max: Duration,
) -> anyhow::Result<Measured> {
    let cases = Arc::new(cases.to_vec());
    let calendar = Arc::new(store.calendar().await?);
    let issuer = Arc::new(yiwang_app::notices::PdfIssuer::new("http://127.0.0.1:8080"));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + max;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers.max(1) {
        let (store, cases, calendar, issuer, next, reviewer) = (
            store.clone(),
            cases.clone(),
            calendar.clone(),
            issuer.clone(),
            next.clone(),
            reviewer.clone(),
        );
        set.spawn(async move {
            let mut out = Measured::default();
            let req = ActionRequest {
                action: "health.approve".into(),
                opinion: Some("卫生条件符合要求，同意。".into()),
                ..Default::default()
            };
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(n) = cases.get(i) else { break };
                let t0 = Instant::now();
                let mut c = clock(&calendar);
                c.docs = Some(issuer.as_ref());
                let r = store
                    .act_on_case(n, &req, CaseActor::Staff(&reviewer), "127.0.0.1", c)
                    .await;
                out.requests += 1;
                out.latencies_us
                    .push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                match r {
                    Ok(_) => *out.statuses.entry(200).or_default() += 1,
                    Err(e) => {
                        *out.statuses.entry(500).or_default() += 1;
                        if out.samples.len() < 3 {
                            out.samples.push(format!("{n}: {e}"));
                        }
                    }
                }
            }
            out
        });
    }
    let mut out = Measured::default();
    while let Some(r) = set.join_next().await {
        let r = r.context("store worker")?;
        out.requests += r.requests;
        for (s, n) in r.statuses {
            *out.statuses.entry(s).or_default() += n;
        }
        out.latencies_us.extend(r.latencies_us);
        out.samples.extend(r.samples.into_iter().take(3));
    }
    out.elapsed = start.elapsed();
    out.latencies_us.sort_unstable();
    Ok(out)
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
    let run = async {
        let w = drive(addr, Arc::new(warm.to_vec()), warm.len(), conns, phase_max).await?;
        let m = drive(
            addr,
            Arc::new(measured.to_vec()),
            measured.len(),
            conns,
            phase_max,
        )
        .await?;
        anyhow::Ok((w, m))
    }
    .await;
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

async fn durability(store: &Store) -> anyhow::Result<String> {
    use sqlx::Row;
    match store.backend() {
        Backend::Sqlite => {
            let v = store
                .sqlite_pragma("synchronous")
                .await?
                .unwrap_or_default();
            let name = match v.as_str() {
                "0" => "OFF",
                "1" => "NORMAL",
                "2" => "FULL",
                "3" => "EXTRA",
                other => other,
            };
            let journal = store
                .sqlite_pragma("journal_mode")
                .await?
                .unwrap_or_default();
            Ok(format!("synchronous={name}, journal_mode={journal}"))
        }
        Backend::Postgres => {
            let mut parts = Vec::new();
            for setting in [
                "synchronous_commit",
                "fsync",
                "wal_sync_method",
                "commit_delay",
            ] {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SHOW {setting}")))
                    .fetch_one(store.pool())
                    .await?;
                parts.push(format!("{setting}={}", row.try_get::<String, _>(0)?));
            }
            Ok(parts.join(", "))
        }
    }
}

/// Single-row INSERT + COMMIT, back to back, by `writers` concurrent writers for `seconds`.
async fn commit_loop(
    store: &Store,
    writers: usize,
    seconds: f64,
    first_id: i64,
) -> anyhow::Result<Measured> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..writers.max(1) {
        let (store, next) = (store.clone(), next.clone());
        set.spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            while Instant::now() < end {
                let id = first_id + next.fetch_add(1, Ordering::Relaxed) as i64;
                let t0 = Instant::now();
                let mut tx = store.pool().begin().await?;
                sqlx::query("INSERT INTO bench_commit (id, v) VALUES ($1, $2)")
                    .bind(id)
                    .bind("一个办件事件的大小相近的文本 payload of about one hundred bytes, for the baseline")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            anyhow::Ok(lat)
        });
    }
    let mut out = Measured::default();
    while let Some(r) = set.join_next().await {
        out.latencies_us.extend(r.context("commit worker")??);
    }
    out.elapsed = start.elapsed();
    out.requests = out.latencies_us.len() as u64;
    out.statuses.insert(200, out.requests);
    out.latencies_us.sort_unstable();
    Ok(out)
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

    // A fresh database with durable commits; preparation through a second, non-durable pool on
    // the same SQLite file (the measured pool is the durable one).
    let bench_db = db::fresh_with(database_url, "cases", true).await?;
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
            Store::connect_with(&bench_db.url, ConnectOptions::default())
                .await
                .context("opening the preparation pool")?
                .with_keys(keys.clone()),
            1,
        ),
        Backend::Postgres => (store.clone(), 8),
    };

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
    let admin = staff(&prep, "bench_admin", Role::PlatformAdmin, None, None, now).await?;
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
            &admin,
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
    let w = drive(addr, Arc::new(warm.to_vec()), warm.len(), conns, phase_max).await?;
    let sub = drive(
        addr,
        Arc::new(measured.to_vec()),
        measured.len(),
        conns,
        phase_max,
    )
    .await?;
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
    let w = drive(addr, Arc::new(warm.to_vec()), warm.len(), conns, phase_max).await?;
    let tasks = drive(
        addr,
        Arc::new(measured.to_vec()),
        measured.len(),
        conns,
        phase_max,
    )
    .await?;
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
