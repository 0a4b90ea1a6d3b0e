//! Database baselines of the case benchmark, measured on the same database in the same run:
//! the durability settings in force, and single-row INSERT+COMMIT loops.

use crate::post_load::Measured;
use anyhow::Context;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use yiwang_store::{Backend, Store};

/// The durability settings the figures were measured with.
pub(crate) async fn durability(store: &Store) -> anyhow::Result<String> {
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
pub(crate) async fn commit_loop(
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
