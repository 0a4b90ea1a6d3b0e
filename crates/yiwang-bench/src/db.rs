//! A fresh database for one benchmark: a temporary SQLite file, or a new PostgreSQL schema when
//! a `postgres://` URL is given. Both are removed again by [`BenchDb::close`].

use anyhow::{Context, bail};
use std::path::PathBuf;
use yiwang_store::{ConnectOptions, Store};

pub struct BenchDb {
    pub store: Store,
    /// `sqlite` or `postgres`, for the report.
    pub backend: &'static str,
    /// The URL the store was opened with (a second pool on the same database can use it).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Schema { url: String, schema: String },
}

fn unique(label: &str) -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "bench_{label}_{}_{:x}_{seq}",
        std::process::id(),
        crate::now_ms()
    )
}

/// Creates and migrates a new, empty database, opened exactly as `yiwang serve` opens it with
/// its default configuration ([`ConnectOptions::default`]: SQLite commits fsynced).
pub async fn fresh(database_url: Option<&str>, label: &str) -> anyhow::Result<BenchDb> {
    fresh_with(database_url, label, ConnectOptions::default().durable).await
}

/// [`fresh`], with SQLite commits fsynced (`synchronous = FULL`) only when `durable`.
pub async fn fresh_with(
    database_url: Option<&str>,
    label: &str,
    durable: bool,
) -> anyhow::Result<BenchDb> {
    match database_url {
        None => {
            let dir = std::env::temp_dir().join(unique(label));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            let store = Store::connect_with(
                &url,
                ConnectOptions {
                    durable,
                    ..Default::default()
                },
            )
            .await
            .context("opening SQLite")?;
            store.migrate().await.context("migrating SQLite")?;
            Ok(BenchDb {
                store,
                backend: "sqlite",
                url,
                cleanup: Cleanup::Dir(dir),
            })
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let schema = unique(label);
            let admin = Store::connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            // Test scaffolding only: a private schema per run, like the test kit does.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(admin.pool())
                .await
                .context("creating the benchmark schema")?;
            admin.close().await;
            let store = Store::connect_with(
                url,
                ConnectOptions {
                    schema: Some(schema.clone()),
                    max_connections: None,
                    durable,
                },
            )
            .await
            .context("connecting to the benchmark schema")?;
            store.migrate().await.context("migrating PostgreSQL")?;
            Ok(BenchDb {
                store,
                backend: "postgres",
                url: url.to_string(),
                cleanup: Cleanup::Schema {
                    url: url.to_string(),
                    schema,
                },
            })
        }
        Some(other) => {
            bail!("--database-url must be a postgres:// URL (got {other:?}); SQLite is the default")
        }
    }
}

impl BenchDb {
    /// Closes the pool and removes the database; problems are reported, not fatal.
    pub async fn close(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Dir(dir) => {
                if let Err(e) = std::fs::remove_dir_all(&dir) {
                    eprintln!("note: could not remove {}: {e}", dir.display());
                }
            }
            Cleanup::Schema { url, schema } => {
                let dropped = async {
                    let admin = Store::connect(&url).await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                        .execute(admin.pool())
                        .await?;
                    admin.close().await;
                    anyhow::Ok(())
                };
                if let Err(e) = dropped.await {
                    eprintln!("note: could not drop schema {schema}: {e}");
                }
            }
        }
    }
}
