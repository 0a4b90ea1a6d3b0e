//! `search`: national-scale search. N implementations (100,000 by default) are generated from
//! the demo's standard items × Tianjin's districts, townships and villages — each region with
//! its own department (`天津市津南区咸水沽镇便民服务中心`…), so the department text, the
//! catalog dictionary and jieba all see realistic, varied Chinese — imported and published
//! through the ordinary import path. Then:
//!
//! - a full reindex (`SearchService::reindex`: read the catalog, segment, index) in docs/s;
//! - server-side latency of 1–3-word queries with a region filter (`Engine::search`);
//! - `GET /api/v1/search` queries/s over HTTP on the full yiwang router, next to a bare axum
//!   JSON handler measured in the same run with the same load generator.

use crate::db;
use crate::load::{self, LoadConfig, LoadResult};
use crate::report::{Report, secs};
use anyhow::{Context, bail};
use axum::Json;
use axum::routing::get;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use yiwang_app::demo::{DEMO_ITEMS, DEMO_MATERIALS};
use yiwang_domain::catalog::{CatalogEntry, Department};
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::{CreditCode, ImplCode, RegionCode, RegionLevel};
use yiwang_search::{SearchRequest, SearchService};
use yiwang_store::{Actor, RegionRow};
use yiwang_web::{AppState, WebConfig};

const BENCH: &str = "search";

/// Queries of one to three words as citizens type them: exact names, colloquial phrasings,
/// pinyin, initials, traditional characters and a typo.
pub const QUERIES: &[&str] = &[
    "营业执照",
    "食品经营许可",
    "身份证 补领",
    "准生证",
    "开饭馆",
    "社保卡",
    "shebaoka",
    "sfz",
    "结婚 登记",
    "户口 迁移",
    "公共场所 卫生 许可",
    "退休 养老金",
    "失业 保险金",
    "營業執照",
    "低保",
    "个体户 注销",
    "公积金 提取",
    "护照",
    "残疾人证",
    "医保 异地 备案",
    "养狗",
    "居民身份证換領",
    "生育 登记",
    "临时 救助",
];

#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    /// Implementations to generate and index.
    pub n: usize,
    pub connections: usize,
    pub seconds: f64,
    pub warmup: f64,
    /// Server-side searches timed one by one.
    pub runs: usize,
}

/// One department per region, named as such offices are (`…行政审批局`, `…便民服务中心`,
/// `…便民服务站`), with a valid unified social credit code.
fn departments(regions: &[RegionRow], need: usize) -> anyhow::Result<Vec<Department>> {
    let names: HashMap<&RegionCode, &str> =
        regions.iter().map(|r| (&r.code, r.name.as_str())).collect();
    let name_of = |c: &RegionCode| names.get(c).copied().unwrap_or("");
    let mut out = Vec::with_capacity(need);
    // Districts first, then townships, then villages: the busiest offices first.
    for level in [
        RegionLevel::County,
        RegionLevel::Township,
        RegionLevel::Village,
    ] {
        for r in regions.iter().filter(|r| r.level == level) {
            if out.len() >= need {
                return Ok(out);
            }
            let parent = r.parent.as_ref().map(name_of).unwrap_or("");
            let name = match level {
                RegionLevel::County => format!("天津市{}行政审批局", r.name),
                RegionLevel::Township => format!("天津市{parent}{}便民服务中心", r.name),
                _ => format!("{parent}{}便民服务站", r.name),
            };
            let seq = out.len();
            let first17 = format!("12{}{seq:09}", &r.code.as_str()[..6]);
            let credit_code =
                CreditCode::with_check_char(&first17).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            out.push(Department {
                credit_code,
                name,
                region: r.code.clone(),
            });
        }
    }
    if out.len() < need {
        bail!("only {} regions for {need} departments", out.len());
    }
    Ok(out)
}

/// `n` implementations: every distinct standard item of the demo in every region, in turn.
pub fn generate(
    regions: &[RegionRow],
    n: usize,
) -> anyhow::Result<(Vec<Department>, Vec<CatalogEntry>)> {
    let mut seen = BTreeSet::new();
    let templates: Vec<CatalogEntry> = yiwang_interchange::parse_csv(DEMO_ITEMS, DEMO_MATERIALS)
        .batch
        .entries
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| seen.insert(e.standard.basic_code.clone()))
        .collect();
    if templates.is_empty() {
        bail!("the demo catalog is empty");
    }
    let depts = departments(regions, n.div_ceil(templates.len()))?;
    let mut out = Vec::with_capacity(n);
    'all: for d in &depts {
        for t in &templates {
            if out.len() >= n {
                break 'all;
            }
            let mut e = t.clone();
            let imp = &mut e.implementation;
            imp.code = ImplCode::parse(&format!("{}{}001", d.credit_code, e.standard.basic_code))
                .map_err(|c| anyhow::anyhow!("{c:?}"))?;
            imp.department_code = d.credit_code.clone();
            imp.department_name = d.name.clone();
            imp.region = d.region.clone();
            out.push(e);
        }
    }
    Ok((depts, out))
}

/// Percent-encodes a query-string value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let last = sorted.len() - 1;
    sorted[((last as f64 * q).round() as usize).min(last)]
}

fn describe(report: &mut Report, name: &str, r: &LoadResult) {
    report.info(
        BENCH,
        &format!("{name}: queries/s"),
        format!("{:.0}", r.rps()),
    );
    report.info(
        BENCH,
        &format!("{name}: latency p50 / p99"),
        format!("{:.2} / {:.2} ms", r.quantile_ms(0.5), r.quantile_ms(0.99)),
    );
    report.info(BENCH, &format!("{name}: responses"), r.status_summary());
}

pub async fn run(database_url: Option<&str>, opts: SearchOptions) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let regions = yiwang_app::regions::tianjin().map_err(|e| anyhow::anyhow!("{e}"))?;
    let (depts, entries) = generate(&regions, opts.n)?;
    let n = entries.len();
    report.info(
        BENCH,
        "implementations / departments (regions)",
        format!("{n} / {}", depts.len()),
    );
    let (items_csv, materials_csv) = yiwang_interchange::write_csv(&entries);
    drop(entries);

    let bench_db = db::fresh(database_url, "search").await?;
    report.info(BENCH, "database", bench_db.backend);
    let store = bench_db.store.clone();
    let dir = std::env::temp_dir().join(format!("yiwang_bench_search_{}", std::process::id()));
    let result = async {
        yiwang_app::demo::load_demo(&store, crate::now_ms())
            .await
            .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
        let actor = Actor::system("bench");
        eprintln!(
            "search: importing and publishing {n} implementations of {} departments…",
            depts.len()
        );
        let t = Instant::now();
        for d in &depts {
            store
                .upsert_department(d, &actor, crate::now_ms())
                .await
                .context("adding a department")?;
        }
        let parsed = yiwang_interchange::parse_csv(&items_csv, &materials_csv);
        if !parsed.is_clean() {
            bail!(
                "the generated catalog has {} problem(s), first: {:?}",
                parsed.issues.len(),
                parsed.issues.first()
            );
        }
        let scope = CatalogScope {
            all: true,
            grants: Vec::new(),
        };
        yiwang_app::import_catalog(&store, parsed, &scope, &actor, crate::now_ms(), &mut |_| {})
            .await
            .map_err(|e| anyhow::anyhow!("import: {e:?}"))?;
        store
            .publish_drafts(&scope, None, &actor, crate::now_ms())
            .await
            .context("publishing")?;
        report.info(BENCH, "setup: import + publish", secs(t.elapsed()));

        // Full reindex, twice (the first also seeds the search data); the better run counts.
        let service = Arc::new(SearchService::on_disk(&dir));
        let mut best: Option<yiwang_search::ReindexStats> = None;
        for _ in 0..2 {
            eprintln!("search: full reindex…");
            let s = service
                .reindex(&store, crate::now_ms())
                .await
                .context("reindex")?;
            if best.is_none_or(|b| s.docs_per_sec() > b.docs_per_sec()) {
                best = Some(s);
            }
        }
        let Some(stats) = best else {
            bail!("no reindex ran");
        };
        report.info(
            BENCH,
            "reindex: documents",
            format!("{} (demo + generated)", stats.docs),
        );
        report.info(
            BENCH,
            "reindex: read catalog / segment + index",
            format!("{:.2} s / {:.2} s", stats.load_secs, stats.index_secs),
        );
        report.info(
            BENCH,
            "reindex: segment + index only",
            format!(
                "{:.0} docs/s",
                stats.docs as f64 / stats.index_secs.max(1e-9)
            ),
        );
        let dps = stats.docs_per_sec();
        report.check(
            BENCH,
            "full reindex (read + segment + index)",
            format!("{dps:.0} docs/s"),
            ">= 20000 docs/s",
            dps >= 20_000.0 && stats.docs >= n,
        );

        // Server-side latency with a region filter: townships and districts of the generated set.
        let engine = service
            .engine(&store, crate::now_ms())
            .await
            .context("opening the index")?;
        let filter_regions: Vec<RegionCode> = depts
            .iter()
            .map(|d| d.region.clone())
            .filter(|r| r.level() != RegionLevel::Village)
            .collect();
        if filter_regions.is_empty() {
            bail!("no regions to filter by");
        }
        let request = |i: usize| SearchRequest {
            q: QUERIES[i % QUERIES.len()].to_string(),
            region: Some(filter_regions[(i * 7) % filter_regions.len()].clone()),
            limit: 10,
            ..Default::default()
        };
        let probe = engine.search(&request(0)).context("searching")?;
        if probe.hits.is_empty() {
            bail!("{:?} found nothing", QUERIES[0]);
        }
        let mut empty = 0usize;
        for i in 0..200 {
            engine.search(&request(i)).context("searching")?;
        }
        eprintln!("search: {} server-side searches…", opts.runs);
        let mut times: Vec<f64> = Vec::with_capacity(opts.runs);
        for i in 0..opts.runs {
            let req = request(i);
            let t = Instant::now();
            let r = engine.search(&req).context("searching")?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if r.hits.is_empty() {
                empty += 1;
            }
        }
        times.sort_by(f64::total_cmp);
        let (p50, p99) = (quantile(&times, 0.5), quantile(&times, 0.99));
        report.info(
            BENCH,
            "server-side searches (1-3 words, region filter)",
            format!(
                "{} runs, {} queries × {} regions, {empty} without hits",
                opts.runs,
                QUERIES.len(),
                filter_regions.len()
            ),
        );
        report.check(
            BENCH,
            "server-side p50",
            format!("{p50:.3} ms"),
            "<= 2 ms",
            p50 <= 2.0,
        );
        report.check(
            BENCH,
            "server-side p99",
            format!("{p99:.3} ms"),
            "<= 10 ms",
            p99 <= 10.0,
        );
        report.info(
            BENCH,
            "server-side max",
            format!("{:.3} ms", times.last().copied().unwrap_or(f64::NAN)),
        );
        drop(engine);

        // HTTP: bare axum first, then GET /api/v1/search on the full router.
        let cfg = LoadConfig {
            connections: opts.connections,
            warmup: Duration::from_secs_f64(opts.warmup),
            measure: Duration::from_secs_f64(opts.seconds),
        };
        report.info(
            BENCH,
            "load",
            format!(
                "{} connections, {:.0} s warm-up + {:.0} s each",
                cfg.connections, opts.warmup, opts.seconds
            ),
        );
        let bare = axum::Router::new().route(
            "/json",
            get(|| async { Json(serde_json::json!({"message": "Hello, World!", "ok": true})) }),
        );
        let (bare_addr, bare_task) = load::serve(bare).await?;
        eprintln!("search: bare axum baseline…");
        let baseline = load::run(bare_addr, &["/json".to_string()], cfg).await?;
        bare_task.abort();
        describe(&mut report, "bare axum GET /json", &baseline);

        let state = AppState::new(
            store.clone(),
            WebConfig {
                secure_cookies: false,
                ..Default::default()
            },
        )
        .with_search(service.clone());
        let (addr, task) = load::serve(yiwang_web::router(state)).await?;
        let paths: Vec<String> = (0..QUERIES.len() * 16)
            .map(|i| {
                let r = request(i);
                format!(
                    "/api/v1/search?q={}&region={}",
                    encode(&r.q),
                    r.region.as_ref().map(RegionCode::as_str).unwrap_or("")
                )
            })
            .collect();
        let (status, body) = load::probe(addr, &paths[0]).await?;
        if status != 200 || !body.contains("\"hits\":[{") {
            bail!("GET {} answered {status}: {body:.300}", paths[0]);
        }
        eprintln!("search: GET /api/v1/search over {} URLs…", paths.len());
        let http = load::run(addr, &paths, cfg).await?;
        task.abort();
        describe(&mut report, "GET /api/v1/search", &http);
        let ratio = if baseline.rps() > 0.0 {
            http.rps() / baseline.rps()
        } else {
            0.0
        };
        report.info(
            BENCH,
            "search over HTTP / bare axum",
            format!("{:.1} %", ratio * 100.0),
        );
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        report.check(
            BENCH,
            &format!(
                "GET /api/v1/search at {} connections ({cores} cores)",
                cfg.connections
            ),
            format!("{:.0} queries/s", http.rps()),
            ">= 2000 queries/s on 2 cores",
            http.rps() >= 2000.0 && http.ok() == http.requests && http.requests > 0,
        );
        anyhow::Ok(())
    }
    .await;
    bench_db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_catalog_is_clean_and_varied() {
        let regions = yiwang_app::regions::tianjin().unwrap();
        let (depts, entries) = super::generate(&regions, 3000).unwrap();
        assert_eq!(entries.len(), 3000);
        let codes: std::collections::HashSet<_> = entries
            .iter()
            .map(|e| e.implementation.code.clone())
            .collect();
        assert_eq!(codes.len(), 3000);
        let names: std::collections::HashSet<_> = depts.iter().map(|d| &d.name).collect();
        assert_eq!(names.len(), depts.len(), "one department name per region");
        assert!(depts.iter().any(|d| d.name.ends_with("便民服务中心")));
        let (items, materials) = yiwang_interchange::write_csv(&entries);
        let parsed = yiwang_interchange::parse_csv(&items, &materials);
        assert!(parsed.is_clean(), "{:?}", parsed.issues.first());
        assert_eq!(super::encode("身份 a"), "%E8%BA%AB%E4%BB%BD%20a");
    }
}
