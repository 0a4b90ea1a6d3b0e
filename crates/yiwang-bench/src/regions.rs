//! `regions DIR`: loading the national five-level region dataset into a fresh database, loading
//! it again (idempotence: the row count must not change), and the county subtree query.

use crate::db;
use crate::report::{Report, ms, secs};
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, Instant};
use yiwang_domain::{RegionCode, RegionLevel};

const BENCH: &str = "regions";

pub async fn run(database_url: Option<&str>, dir: &Path, runs: usize) -> anyhow::Result<Report> {
    let mut report = Report::default();
    eprintln!("regions: reading {}…", dir.display());
    let t = Instant::now();
    let rows = yiwang_app::regions::read_region_dir(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let read = t.elapsed();
    report.info(BENCH, "rows in files", rows.len().to_string());
    report.info(BENCH, "read + parse files", secs(read));

    let bench_db = db::fresh(database_url, "regions").await?;
    report.info(BENCH, "database", bench_db.backend);
    let store = bench_db.store.clone();
    let result = async {
        eprintln!("regions: first load…");
        let t = Instant::now();
        store
            .upsert_regions(&rows, &mut |_| {})
            .await
            .context("first load")?;
        let first = t.elapsed();
        let count1 = store.region_count().await?;
        report.info(BENCH, "upsert, first load", secs(first));
        report.check(
            BENCH,
            "national import (read + first load)",
            secs(read + first),
            "<= 15 s",
            (read + first) <= Duration::from_secs(15),
        );

        eprintln!("regions: second load…");
        let t = Instant::now();
        store
            .upsert_regions(&rows, &mut |_| {})
            .await
            .context("second load")?;
        let second = t.elapsed();
        let count2 = store.region_count().await?;
        report.info(BENCH, "upsert, second load (same rows)", secs(second));
        report.check(
            BENCH,
            "rows after first / second load",
            format!("{count1} / {count2}"),
            "unchanged",
            count1 == count2 && usize::try_from(count1).ok() == Some(rows.len()),
        );

        let county = RegionCode::parse("120112").map_err(|c| anyhow::anyhow!("{c}"))?;
        let sub = store.region_subtree(&county, RegionLevel::Village).await?;
        report.info(
            BENCH,
            "subtree(120112, village) rows",
            sub.len().to_string(),
        );
        for _ in 0..20 {
            store.region_subtree(&county, RegionLevel::Village).await?;
        }
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let v = store.region_subtree(&county, RegionLevel::Village).await?;
            times.push(t.elapsed());
            if v.len() != sub.len() {
                anyhow::bail!("subtree size changed between runs");
            }
        }
        times.sort_unstable();
        let avg = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(1);
        let p99 = times[((times.len() - 1) as f64 * 0.99).round() as usize];
        report.check(
            BENCH,
            &format!("county subtree query, mean of {}", times.len()),
            ms(avg),
            "<= 5 ms",
            avg <= Duration::from_millis(5),
        );
        report.info(BENCH, "county subtree query p99", ms(p99));
        anyhow::Ok(())
    }
    .await;
    bench_db.close().await;
    result?;
    Ok(report)
}
