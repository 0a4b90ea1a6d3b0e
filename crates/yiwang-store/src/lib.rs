//! One repository API over SQLite (embedded default) and PostgreSQL.
//!
//! All SQL lives in this crate. Shared tables use only BIGINT/INTEGER and TEXT so the same
//! statements (with `$1` placeholders) run unchanged on both backends through sqlx's `Any` driver.

mod accounts;
pub mod applicant_totp;
pub mod applicants;
pub mod applications;
pub mod audit;
mod audit_verify;
pub mod auth_cache;
pub mod auth_guard;
pub mod bundles;
pub mod calendar;
pub mod case_feed;
mod case_notify;
pub mod case_read;
pub mod cases;
mod catalog_cache;
mod catalog_read;
mod catalog_write;
pub mod corrections;
mod departments;
pub mod documents;
mod error;
pub mod exchange_log;
pub mod form_defs;
pub mod identity;
pub mod jobs;
pub mod login_steps;
pub mod messages;
pub mod mine;
pub mod outbox;
pub mod password_consts;
pub mod password_reset;
pub mod pii;
mod regions;
pub mod registers;
mod rows;
mod rowset;
pub mod search_data;
pub mod session_consts;
mod sessions;
pub mod staff_password;
pub mod tokens;
pub mod totp;
pub mod uploads;
pub mod workflows;

pub use accounts::{NewUser, dummy_hash, hash_password, password_acceptable, verify_password};
pub use audit::{Actor, AuditEntry, AuditEvent, AuditFilter};
pub use audit_verify::{Anchor, AnchorMismatch, AuditProblem, ProblemKind, VerifyReport};
pub use catalog_read::{
    HistoryEntry, ImplementationFilter, ImplementationSummary, PublishedImplementation,
};
pub use catalog_write::{ImportSummary, PublishSummary};
pub use error::StoreError;
pub use exchange_log::{ExchangeLogReport, LogVerifyOptions, PurgeSummary};
pub use form_defs::{FormSaved, FormScope, FormSource, FormVersion, InvalidForm, ResolvedForm};
pub use jobs::{Job, JobState};
pub use login_steps::{Challenge, ChallengeStage, StepOutcome};
pub use messages::{MessagePage, SiteMessage};
pub use outbox::{
    ChannelKind, ClaimedMessage, DeliveryAttempt, NewOutboxMessage, OutboxMessage, OutboxStatus,
};
pub use pii::{PiiColumn, RevealedPii, RotateSummary, Shown, StaffPii, UserPii};
pub use regions::{Region, RegionRow};
pub use search_data::{IndexedImplementation, LifeEventRow, SearchSeed, SearchTermRow};
pub use tokens::{ApiToken, NewApiToken, token_actor_name, token_of_entry};
pub use uploads::{NewUpload, Upload, UploadStatus};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Connection, Executor};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The repository. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Keys for personal data (see `pii.rs`); from configuration, never the database.
    keys: Option<std::sync::Arc<yiwang_crypto::KeyRing>>,
    /// Grouped business writes (one shared transaction and commit per batch).
    group: std::sync::Arc<cases::group_commit::GroupCommit>,
    /// Published implementations in memory (checked against the catalog generation).
    catalog_cache: std::sync::Arc<catalog_cache::CatalogCache>,
    /// API tokens and sessions read in the last second (see `auth_cache.rs`).
    auth_cache: std::sync::Arc<auth_cache::AuthCache>,
    /// What one applicant account may pile up (drafts, bytes of uploads).
    quotas: Quotas,
}

/// Limits on what one applicant account may pile up, so that no account can fill the disk or
/// the drafts table: open drafts, and bytes of uploaded files not yet part of a submission (per
/// draft, and over all the account's drafts). Refusals are `too_many_drafts` and
/// `upload_quota_exceeded`; nothing already stored is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Drafts (not yet submitted applications) of one applicant changed in the last
    /// [`DRAFT_QUOTA_WINDOW_MS`] (drafts left alone longer stop counting, so an account never
    /// stays blocked).
    pub open_drafts: i64,
    /// Bytes of one application's files not yet frozen by a submission (replaced and removed
    /// files count: they stay stored).
    pub draft_upload_bytes: i64,
    /// Bytes of the files in all of one applicant's drafts.
    pub account_upload_bytes: i64,
}

/// How far back [`Quotas::open_drafts`] looks: 30 days.
pub const DRAFT_QUOTA_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

impl Default for Quotas {
    fn default() -> Self {
        Self {
            open_drafts: 20,
            draft_upload_bytes: 200 * 1024 * 1024,
            account_upload_bytes: 1024 * 1024 * 1024,
        }
    }
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connection settings beyond the URL. The default is what `yiwang serve` uses with its
/// default configuration (and what the benchmark measures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// PostgreSQL schema to use (tests give each run its own).
    pub schema: Option<String>,
    pub max_connections: Option<u32>,
    /// SQLite: `synchronous = FULL` (the default), every commit fsynced before it returns, so an
    /// acknowledged business fact survives a power loss. `false` relaxes it to `NORMAL` (WAL:
    /// survives a crash of the process, a power loss may drop the last commits); only an
    /// explicit setting does that, with a warning at start-up. PostgreSQL: no effect (the
    /// server's `synchronous_commit` decides).
    pub durable: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            schema: None,
            max_connections: None,
            durable: true,
        }
    }
}

/// [`Store::begin_write`] on a pool (for code that holds the pool, e.g. the group-commit writer).
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

/// A PostgreSQL connection idle longer than this is pinged before use.
const IDLE_PING_AFTER: Duration = Duration::from_secs(30);

impl Store {
    /// Connects to `sqlite://path` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    pub async fn connect_with(url: &str, opts: ConnectOptions) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let schema = opts.schema.clone();
        let sqlite_pragmas = if opts.durable {
            "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;"
        } else {
            "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;"
        };
        if let Some(s) = &schema
            && !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(StoreError::UnsupportedUrl);
        }
        let max = opts.max_connections.unwrap_or(match backend {
            // Every SQLite connection is a thread each statement hops to and back; more of
            // them than cores mostly adds context switches (measured: 3 beat 8 and 16 by
            // 15-25 % on two cores), and writes go through one group-commit writer anyway.
            Backend::Sqlite => std::thread::available_parallelism()
                .map_or(3, |n| u32::try_from(n.get()).unwrap_or(8).saturating_add(1))
                .clamp(3, 8),
            Backend::Postgres => 16,
        });
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings every connection it hands out by default: a second round trip for
            // each read. SQLite is in-process (nothing to ping); a PostgreSQL connection is
            // pinged only after sitting idle, when the server may have dropped it.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres && meta.idle_for > IDLE_PING_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                let schema = schema.clone();
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            conn.execute(sqlite_pragmas).await?;
                        }
                        Backend::Postgres => {
                            if let Some(s) = schema {
                                let sql = format!("SET search_path TO {s}");
                                conn.execute(sqlx::AssertSqlSafe(sql)).await?;
                            }
                        }
                    }
                    Ok(())
                })
            })
            .connect(&Self::with_create_mode(url, backend))
            .await?;
        Ok(Self {
            pool,
            backend,
            keys: None,
            group: Default::default(),
            catalog_cache: Default::default(),
            auth_cache: Default::default(),
            quotas: Quotas::default(),
        })
    }

    /// SQLite URLs get `mode=rwc` so that a new data directory just works.
    fn with_create_mode(url: &str, backend: Backend) -> String {
        if backend == Backend::Sqlite && !url.contains("mode=") && !url.contains(":memory:") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_string()
        }
    }

    /// This store with other per-account limits (tests, bulk preparation).
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    pub fn quotas(&self) -> Quotas {
        self.quotas
    }

    /// The key ring, shared (for what else encrypts with it: stored files).
    pub fn key_ring(&self) -> Option<std::sync::Arc<yiwang_crypto::KeyRing>> {
        self.keys.clone()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction for work that writes (reading first is fine). On SQLite it is
    /// `BEGIN IMMEDIATE`: the write lock is taken at the start, so a transaction that reads and
    /// then writes never has to upgrade a read snapshot under WAL — an upgrade that fails with
    /// `database is locked` at once, whatever `busy_timeout` says. Waiting for the lock honours
    /// `busy_timeout`. PostgreSQL: an ordinary `BEGIN`.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(begin_write(&self.pool, self.backend).await?)
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATOR.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATOR.run(&self.pool).await?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Reads a pragma (SQLite) for health checks and tests.
    pub async fn sqlite_pragma(&self, name: &str) -> Result<Option<String>, StoreError> {
        if self.backend != Backend::Sqlite
            || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            return Ok(None);
        }
        let sql = format!("PRAGMA {name}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?;
        use sqlx::Row;
        let v: Result<String, _> = row.try_get(0);
        Ok(Some(match v {
            Ok(s) => s,
            Err(_) => row.try_get::<i64, _>(0)?.to_string(),
        }))
    }
}
