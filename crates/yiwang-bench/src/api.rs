//! `api`: requests per second of a bare axum JSON handler (the baseline) and of
//! `GET /api/v1/implementations/{code}` on the full yiwang router, with the same load generator;
//! then the latency of the portal guide page `GET /items/{code}`.

use crate::db;
use crate::load::{self, LoadConfig, LoadResult};
use crate::report::Report;
use anyhow::Context;
use axum::Json;
use axum::routing::get;
use std::time::Duration;
use yiwang_web::{AppState, WebConfig};

const BENCH: &str = "api";

#[derive(Debug, Clone, Copy)]
pub struct ApiOptions {
    pub connections: usize,
    pub seconds: f64,
    pub warmup: f64,
}

fn describe(report: &mut Report, name: &str, r: &LoadResult) {
    report.info(
        BENCH,
        &format!("{name}: requests/s"),
        format!("{:.0}", r.rps()),
    );
    report.info(
        BENCH,
        &format!("{name}: latency p50 / p99"),
        format!("{:.2} / {:.2} ms", r.quantile_ms(0.5), r.quantile_ms(0.99)),
    );
    report.info(BENCH, &format!("{name}: responses"), r.status_summary());
}

pub async fn run(database_url: Option<&str>, opts: ApiOptions) -> anyhow::Result<Report> {
    let mut report = Report::default();
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

    // Baseline: the smallest useful axum JSON handler.
    let bare = axum::Router::new().route(
        "/json",
        get(|| async { Json(serde_json::json!({"message": "Hello, World!", "ok": true})) }),
    );
    let (bare_addr, bare_task) = load::serve(bare).await?;
    eprintln!("api: bare axum baseline…");
    let baseline = load::run(bare_addr, &["/json".to_string()], cfg).await?;
    bare_task.abort();
    describe(&mut report, "bare axum GET /json", &baseline);

    // yiwang on a fresh database with the demo loaded.
    let bench_db = db::fresh(database_url, "api").await?;
    report.info(BENCH, "database", bench_db.backend);
    let store = bench_db.store.clone();
    yiwang_app::demo::load_demo(&store, crate::now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("loading the demo: {e}"))?;
    let codes: Vec<String> = store
        .published_all()
        .await
        .context("listing the demo implementations")?
        .into_iter()
        .map(|p| p.implementation.code.to_string())
        .collect();
    let state = AppState::new(
        store.clone(),
        WebConfig {
            secure_cookies: false,
            ..Default::default()
        },
    );
    let (addr, task) = load::serve(yiwang_web::router(state)).await?;

    let api_paths: Vec<String> = codes
        .iter()
        .map(|c| format!("/api/v1/implementations/{c}"))
        .collect();
    let (status, body) = load::probe(addr, &api_paths[0]).await?;
    if status != 200 {
        report.note(format!(
            "GET {} answered {status}: {body:.200}",
            api_paths[0]
        ));
    }
    eprintln!(
        "api: GET /api/v1/implementations/{{code}} over {} codes…",
        codes.len()
    );
    let api = load::run(addr, &api_paths, cfg).await?;
    describe(&mut report, "GET /api/v1/implementations/{code}", &api);
    let ratio = if baseline.rps() > 0.0 {
        api.rps() / baseline.rps()
    } else {
        0.0
    };
    report.check(
        BENCH,
        "implementation GET / bare axum",
        format!("{:.0} %", ratio * 100.0),
        ">= 60 %",
        ratio >= 0.60 && api.ok() == api.requests,
    );

    let guide_paths: Vec<String> = codes.iter().map(|c| format!("/items/{c}")).collect();
    let (status, body) = load::probe(addr, &guide_paths[0]).await?;
    if status != 200 {
        let title = body
            .split_once("<title>")
            .and_then(|(_, t)| t.split_once("</title>"))
            .map_or("", |(t, _)| t);
        report.note(format!(
            "the guide page GET {} answered {status} ({title}); measured anyway",
            guide_paths[0]
        ));
    }
    eprintln!("api: GET /items/{{code}}…");
    let guide = load::run(addr, &guide_paths, cfg).await?;
    describe(&mut report, "GET /items/{code}", &guide);
    let p99 = guide.quantile_ms(0.99);
    report.check(
        BENCH,
        &format!("guide page p99 at {} connections", cfg.connections),
        format!("{p99:.2} ms"),
        "<= 10 ms",
        p99 <= 10.0 && guide.ok() == guide.requests && guide.requests > 0,
    );

    task.abort();
    bench_db.close().await;
    Ok(report)
}
