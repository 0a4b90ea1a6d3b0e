//! Test support: a fresh database on every backend. SQLite always; PostgreSQL when
//! `YIWANG_TEST_DATABASE_URL` is set. Under CI (`CI=true`) a missing PostgreSQL URL fails the
//! test run instead of silently testing one backend.

// Test support: failing loudly on a broken test database is the point.
#![allow(clippy::expect_used, clippy::panic)]

use rand::RngCore;
use yiwang_store::{Backend, ConnectOptions, Store};

pub const PG_ENV: &str = "YIWANG_TEST_DATABASE_URL";

/// A throwaway database: a temporary SQLite file or a private PostgreSQL schema.
pub struct TestDb {
    pub store: Store,
    pub backend: Backend,
    /// A URL another process (the CLI under test) can use to reach the same database.
    pub url: String,
    _dir: Option<TempDir>,
    _schema: Option<PgSchema>,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A test's PostgreSQL schema, dropped with the [`TestDb`] so runs leave nothing behind.
struct PgSchema {
    url: String,
    name: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on another future: the
        // statements run on their own thread and runtime, and the test waits for them. That
        // runtime is then stalled, so a connection of the test's pool left inside a transaction
        // (a server task mid-request) would hold its locks for ever: the schema is private to
        // this test, so whoever still holds a lock in it is ended first.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let Ok(admin) = Store::connect(&url).await else {
                    return;
                };
                let sql = format!(
                    "SET lock_timeout = '2s'; \
                     SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
                     JOIN pg_class c ON c.oid = l.relation \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = '{name}' AND l.pid <> pg_backend_pid(); \
                     DROP SCHEMA IF EXISTS {name} CASCADE"
                );
                for _ in 0..3 {
                    let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                        .execute(admin.pool())
                        .await;
                    if done.is_ok() {
                        break;
                    }
                }
                admin.close().await;
            });
        });
        let _ = dropped.join();
    }
}

fn suffix() -> String {
    let mut b = [0u8; 6];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("yiwang-test-{}", suffix()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}", dir.join("test.db").display());
    let store = Store::connect(&url).await.expect("sqlite connect");
    store.migrate().await.expect("sqlite migrate");
    TestDb {
        store,
        backend: Backend::Sqlite,
        url,
        _dir: Some(TempDir(dir)),
        _schema: None,
    }
}

/// `None` only outside CI when no PostgreSQL URL is configured.
pub async fn postgres() -> Option<TestDb> {
    let url = match std::env::var(PG_ENV) {
        Ok(u) if !u.is_empty() => u,
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("{PG_ENV} must be set under CI: store tests run on PostgreSQL too");
            }
            eprintln!("note: {PG_ENV} not set; this run covers SQLite only");
            return None;
        }
    };
    let schema = format!("t_{}", suffix());
    let admin = Store::connect(&url).await.expect("postgres connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(admin.pool())
        .await
        .expect("create schema");
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let child_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect_with(
        &url,
        ConnectOptions {
            schema: Some(schema.clone()),
            max_connections: Some(4),
            ..Default::default()
        },
    )
    .await
    .expect("postgres connect (schema)");
    store.migrate().await.expect("postgres migrate");
    Some(TestDb {
        store,
        backend: Backend::Postgres,
        url: child_url,
        _dir: None,
        _schema: Some(PgSchema { url, name: schema }),
    })
}

/// Every configured backend, SQLite first.
pub async fn backends() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

/// The demo data set, loaded and published (fixed clock).
pub const DEMO_NOW_MS: i64 = 1_795_968_000_000;

pub async fn with_demo(db: &TestDb) {
    yiwang_app::demo::load_demo(&db.store, DEMO_NOW_MS)
        .await
        .expect("demo loads");
}

/// `store` with a freshly generated key ring (SM4-GCM data key, HMAC-SM3 index key), for tests
/// that write personal data.
pub fn with_test_keys(store: Store) -> Store {
    let file = yiwang_crypto::KeyFile::generate(yiwang_crypto::Alg::Sm4Gcm);
    let ring = file
        .ring(yiwang_crypto::KeySource::Inline)
        .expect("generated keys make a ring");
    store.with_keys(std::sync::Arc::new(ring))
}

/// A database ready for case handling: the demo data, generated data keys (applicants' personal
/// data is encrypted) and the shipped official calendar.
pub async fn with_cases(db: &mut TestDb) {
    with_demo(db).await;
    db.store = with_test_keys(db.store.clone());
    yiwang_app::calendar::import_shipped_calendar(
        &db.store,
        &yiwang_store::Actor::system("test"),
        DEMO_NOW_MS,
    )
    .await
    .expect("calendar loads");
}

/// The password of applicants made by [`applicant`].
pub const APPLICANT_PASSWORD: &str = "Shenqing-2026!";

/// Verifies the identity (实名核验) of `resident_id` with this name and phone through the
/// store's in-person path, as a counter clerk would after checking the ID card: the account
/// holding the number with this name and phone becomes verified (or one is registered).
pub async fn verify_in_person(
    store: &Store,
    resident_id: &str,
    name: &str,
    phone: &str,
    now_ms: i64,
) -> yiwang_store::identity::Verified {
    use yiwang_store::identity::{IdentityClaim, VerificationRecord, VerificationSource};
    store
        .verify_identity(
            &IdentityClaim {
                id: yiwang_domain::case::ApplicantId::parse(resident_id).expect("resident id"),
                name: name.into(),
                legal_rep: None,
                phone: yiwang_domain::codes::Phone::parse(phone).expect("phone"),
            },
            &VerificationRecord {
                source: VerificationSource::InPerson,
                verifier: "testkit".into(),
                staff_id: None,
                place: "test counter".into(),
                document: "resident_id_card".into(),
            },
            &yiwang_store::Actor::system("test"),
            now_ms,
        )
        .await
        .expect("verifying an identity in person")
}

/// Registers a natural-person applicant 张三 with this resident ID and phone (password
/// [`APPLICANT_PASSWORD`]), identity verified in person ([`verify_in_person`]).
pub async fn applicant(
    store: &Store,
    resident_id: &str,
    phone: &str,
    now_ms: i64,
) -> yiwang_store::applicants::Applicant {
    let a = unverified_applicant(store, resident_id, phone, now_ms).await;
    verify_in_person(store, resident_id, "张三", phone, now_ms).await;
    a
}

/// [`applicant`] without the identity verification.
pub async fn unverified_applicant(
    store: &Store,
    resident_id: &str,
    phone: &str,
    now_ms: i64,
) -> yiwang_store::applicants::Applicant {
    store
        .register_applicant(
            &yiwang_store::applicants::NewApplicant {
                id: yiwang_domain::case::ApplicantId::parse(resident_id).expect("resident id"),
                display_name: "张三".into(),
                legal_rep: None,
                phone: yiwang_domain::codes::Phone::parse(phone).expect("phone"),
                password: APPLICANT_PASSWORD.into(),
            },
            "127.0.0.1",
            now_ms,
        )
        .await
        .expect("registering an applicant")
}
