//! `audit [N]`: N valid chained audit entries bulk-loaded into a fresh database, then the whole
//! chain checked with `Store::audit_verify` (target: 1,000,000 entries in ≤ 5 s). Also the cost
//! of appending an audit entry to a small business write, with and without it.

use crate::db;
use crate::report::{Report, ms, secs};
use anyhow::{Context, bail};
use std::time::{Duration, Instant};
use yiwang_store::audit::{AUDIT_ALG, GENESIS_HASH, append_in, entry_hash};
use yiwang_store::{AuditEvent, Store};

const BENCH: &str = "audit";
const COLS: usize = 11;
/// Business writes per variant in the append-cost measurement.
const WRITES: usize = 2_000;

/// A plausible mix of events: logins, personal-data reads, case transitions, catalog changes.
fn synthetic(i: usize) -> AuditEvent {
    let user = (i % 500) as i64 + 1;
    let (action, object, detail) = match i % 5 {
        0 => ("login.success", format!("user:staff{user}"), String::new()),
        1 => (
            "pii.view",
            format!("person:{}", 100_000 + i % 90_000),
            format!("{{\"case\":\"2026{i:010}\",\"field\":\"id_number\"}}"),
        ),
        2 => (
            "case.transition",
            format!("case:2026{i:010}"),
            "{\"from\":\"accepted\",\"to\":\"reviewing\"}".to_string(),
        ),
        3 => (
            "login.failure",
            format!("user:staff{user}"),
            "{\"reason\":\"password\"}".to_string(),
        ),
        _ => (
            "catalog.draft",
            format!("implementation:11120112MB1W16732{:011}", i % 1000),
            "{\"count\":1}".to_string(),
        ),
    };
    AuditEvent {
        actor_id: Some(user),
        actor: format!("staff{user}"),
        action: action.to_string(),
        object,
        detail,
        client: format!("10.{}.{}.{}", i % 7, i % 251, i % 253),
    }
}

/// Writes entries 1..=n with hashes computed here, in multi-row INSERTs, and sets the head.
async fn bulk_load(store: &Store, n: usize, progress: &mut dyn FnMut(usize)) -> anyhow::Result<()> {
    // sqlx-sqlite looks `$N` parameters up by name (a linear scan each); plain `?` avoids it.
    let sqlite = store.backend() == yiwang_store::Backend::Sqlite;
    let rows_per = if sqlite { 900 / COLS } else { 60_000 / COLS };
    let sql_for = |rows: usize| {
        let groups: Vec<String> = (0..rows)
            .map(|r| {
                let ph: Vec<String> = (1..=COLS)
                    .map(|c| {
                        if sqlite {
                            "?".to_string()
                        } else {
                            format!("${}", r * COLS + c)
                        }
                    })
                    .collect();
                format!("({})", ph.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO audit_log (seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash) VALUES {}",
            groups.join(", ")
        )
    };
    let full_sql = sql_for(rows_per);
    let mut prev = GENESIS_HASH.to_string();
    let at0 = crate::now_ms() - n as i64;
    let mut seq = 0usize;
    while seq < n {
        let mut tx = store.pool().begin().await?;
        let tx_end = (seq + 50_000).min(n);
        while seq < tx_end {
            let rows = rows_per.min(tx_end - seq);
            let sql = if rows == rows_per {
                full_sql.clone()
            } else {
                sql_for(rows)
            };
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for _ in 0..rows {
                seq += 1;
                let e = synthetic(seq);
                let at = at0 + seq as i64;
                let hash = entry_hash(AUDIT_ALG, seq as i64, at, &e, &prev);
                q = q
                    .bind(seq as i64)
                    .bind(at)
                    .bind(e.actor_id)
                    .bind(e.actor)
                    .bind(e.action)
                    .bind(e.object)
                    .bind(e.detail)
                    .bind(e.client)
                    .bind(AUDIT_ALG)
                    .bind(std::mem::replace(&mut prev, hash.clone()))
                    .bind(hash);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        progress(seq);
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(n as i64)
        .bind(prev)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// One small business transaction (a department rename and the catalog generation bump, as in
/// `upsert_department`), optionally with an audit entry appended in the same transaction.
async fn small_write(store: &Store, i: usize, audited: bool) -> anyhow::Result<()> {
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE departments SET name = $1 WHERE credit_code = $2")
        .bind(format!("部门 {i}"))
        .bind(BENCH_DEPT)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    if audited {
        let e = AuditEvent {
            actor_id: None,
            actor: "system".into(),
            action: "department.upsert".into(),
            object: format!("department:{BENCH_DEPT}"),
            detail: format!("{{\"name\":\"部门 {i}\"}}"),
            client: "bench".into(),
        };
        append_in(&mut tx, crate::now_ms(), &e).await?;
    }
    tx.commit().await?;
    Ok(())
}

const BENCH_DEPT: &str = "11120112MB1W167324";

/// Sequential `WRITES` small writes; returns the elapsed time.
async fn writes(store: &Store, audited: bool) -> anyhow::Result<Duration> {
    let t = Instant::now();
    for i in 0..WRITES {
        small_write(store, i, audited).await?;
    }
    Ok(t.elapsed())
}

pub async fn run(database_url: Option<&str>, n: usize) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let bench_db = db::fresh(database_url, "audit").await?;
    report.info(BENCH, "database", bench_db.backend);
    let store = bench_db.store.clone();
    let result = async {
        eprintln!("audit: loading {n} chained entries…");
        let t = Instant::now();
        bulk_load(&store, n, &mut |k| {
            if k % 200_000 == 0 {
                eprintln!("audit: {k} entries loaded");
            }
        })
        .await
        .context("bulk load")?;
        report.info(
            BENCH,
            &format!("bulk load {n} entries (hash + insert)"),
            secs(t.elapsed()),
        );

        let t = Instant::now();
        let r = store.audit_verify(&mut |_| {}).await.context("verify")?;
        let took = t.elapsed();
        if let Some(p) = &r.problem {
            bail!("the freshly loaded chain failed verification: {p}");
        }
        if r.entries != n as u64 {
            bail!("verified {} entries, expected {n}", r.entries);
        }
        let target = Duration::from_secs_f64(5.0 * n as f64 / 1_000_000.0);
        report.check(
            BENCH,
            &format!("audit_verify {n} entries"),
            format!(
                "{} ({:.0} entries/s)",
                secs(took),
                n as f64 / took.as_secs_f64()
            ),
            &format!("<= {}", secs(target)),
            took <= target,
        );

        // Appending cost on a small write: demo departments give the row to update.
        yiwang_app::demo::load_demo(&store, crate::now_ms())
            .await
            .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
        writes(&store, false).await?; // warm-up
        let mut plain = Duration::ZERO;
        let mut audited = Duration::ZERO;
        for _ in 0..3 {
            plain += writes(&store, false).await?;
            audited += writes(&store, true).await?;
        }
        let per = |d: Duration| d / (3 * WRITES) as u32;
        report.info(BENCH, "small write, no audit (per write)", ms(per(plain)));
        report.info(
            BENCH,
            "small write + audit append (per write)",
            ms(per(audited)),
        );
        report.info(
            BENCH,
            "audit append overhead on a small write",
            format!(
                "{:+.1}%",
                (audited.as_secs_f64() / plain.as_secs_f64() - 1.0) * 100.0
            ),
        );

        // The real audited store paths, per call.
        let actor = yiwang_store::Actor::system("bench");
        let dept = yiwang_domain::catalog::Department {
            credit_code: yiwang_domain::CreditCode::parse(BENCH_DEPT)
                .map_err(|c| anyhow::anyhow!("{c}"))?,
            name: "天津市津南区行政审批局".into(),
            region: yiwang_domain::RegionCode::parse("120112")
                .map_err(|c| anyhow::anyhow!("{c}"))?,
        };
        let t = Instant::now();
        for _ in 0..WRITES {
            store
                .upsert_department(&dept, &actor, crate::now_ms())
                .await?;
        }
        report.info(
            BENCH,
            "upsert_department (audited, per call)",
            ms(t.elapsed() / WRITES as u32),
        );
        let one = store.published_all().await?.remove(0).entry();
        let code = [one.implementation.code.to_string()];
        let scope = yiwang_domain::policy::CatalogScope {
            all: true,
            grants: Vec::new(),
        };
        let t = Instant::now();
        for _ in 0..200 {
            store
                .save_drafts(
                    std::slice::from_ref(&one),
                    &actor,
                    crate::now_ms(),
                    &mut |_| {},
                )
                .await?;
            store
                .publish_drafts(&scope, Some(&code), &actor, crate::now_ms())
                .await?;
        }
        report.info(
            BENCH,
            "edit + publish one implementation (audited, per pair)",
            ms(t.elapsed() / 200),
        );
        let r = store.audit_verify(&mut |_| {}).await?;
        if let Some(p) = r.problem {
            bail!("chain broken after the append measurements: {p}");
        }
        report.info(
            BENCH,
            "entries after the append measurements",
            r.entries.to_string(),
        );
        anyhow::Ok(())
    }
    .await;
    bench_db.close().await;
    result?;
    Ok(report)
}
