//! Preparing the case benchmark: applicants with sessions, staff, drafts with answers and
//! materials, accepted cases; and the store-only task completions.

use crate::cases::{FOOD, PASSWORD, REGION};
use crate::post_load::Measured;
use anyhow::Context;
use axum::http::HeaderValue;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
use yiwang_store::{Actor, NewUser, Store};

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

pub(crate) struct Person {
    pub(crate) applicant: Applicant,
    pub(crate) cookie: HeaderValue,
}

pub(crate) async fn applicants(store: &Store, n: usize, now: i64) -> anyhow::Result<Vec<Person>> {
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
        // Verified in person (实名核验), as every applicant who submits must be.
        store
            .verify_identity(
                &yiwang_store::identity::IdentityClaim {
                    id: new.id.clone(),
                    name: new.display_name.clone(),
                    legal_rep: None,
                    phone: new.phone.clone(),
                },
                &yiwang_store::identity::VerificationRecord {
                    source: yiwang_store::identity::VerificationSource::InPerson,
                    verifier: "bench".into(),
                    staff_id: None,
                    place: "bench".into(),
                    document: "resident_id_card".into(),
                },
                &yiwang_store::Actor::system("bench"),
                now,
            )
            .await
            .context("verifying an applicant")?;
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

pub(crate) async fn staff(
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

pub(crate) fn clock<'a>(calendar: &'a Calendar) -> CaseClock<'a> {
    let now_ms = crate::now_ms();
    CaseClock {
        now_ms,
        today: CivilDate::from_unix_ms(now_ms, 8 * 3600),
        calendar,
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
pub(crate) struct Prepared {
    /// (application id, applicant index)
    pub(crate) drafts: Vec<(i64, usize)>,
    pub(crate) accepted: Vec<CaseNumber>,
}

/// Makes `drafts` saved drafts and `accepted` accepted cases, round-robin over the applicants,
/// with `par` concurrent workers.
pub(crate) async fn prepare(
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
                            None,
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
pub(crate) async fn store_completions(
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
                let c = clock(&calendar);
                let r = store
                    .act_on_case(
                        n,
                        &req,
                        CaseActor::Staff(&reviewer),
                        "127.0.0.1",
                        c,
                        Some(issuer.as_ref()),
                    )
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
