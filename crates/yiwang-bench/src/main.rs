//! `yiwang-bench`: performance figures of yiwang, with their baselines, measured in one run.
//!
//! ```text
//! cargo run --release -p yiwang-bench -- all
//! cargo run --release -p yiwang-bench -- api [--connections 64] [--seconds 5]
//! cargo run --release -p yiwang-bench -- regions /work/shared/data/regions
//! cargo run --release -p yiwang-bench -- import 10000
//! cargo run --release -p yiwang-bench -- audit 1000000
//! cargo run --release -p yiwang-bench -- docs
//! cargo run --release -p yiwang-bench -- search [100000] [--connections 64] [--seconds 5]
//! cargo run --release -p yiwang-bench -- cases [--connections 64] [--cases 5000]
//! cargo run --release -p yiwang-bench -- --database-url postgres://postgres@127.0.0.1/test all
//! ```

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use yiwang_bench::api::ApiOptions;
use yiwang_bench::report::Report;

#[derive(Parser, Debug)]
#[command(name = "yiwang-bench", about = "Performance benchmarks of yiwang")]
struct Cli {
    /// Run against PostgreSQL (a fresh schema per benchmark) instead of a temporary SQLite file.
    #[arg(long, global = true, env = "YIWANG_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    what: What,
}

#[derive(Args, Debug, Clone, Copy)]
struct ApiArgs {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds per target.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Warm-up seconds per target (not measured).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
}

#[derive(Subcommand, Debug)]
enum What {
    /// API throughput against bare axum, and the guide page's latency.
    Api(ApiArgs),
    /// National region dataset: load twice, then the county subtree query.
    Regions {
        #[arg(default_value = "/work/shared/data/regions")]
        dir: PathBuf,
        /// Runs of the subtree query.
        #[arg(long, default_value_t = 1000)]
        runs: usize,
    },
    /// Catalog import of N synthetic implementations.
    Import {
        #[arg(default_value_t = 10_000)]
        n: usize,
    },
    /// Audit chain: bulk-load N chained entries, verify them all; cost of an audit append.
    Audit {
        #[arg(default_value_t = 1_000_000)]
        n: usize,
    },
    /// Personal-data protection: AEAD encrypt/decrypt and blind-index throughput (no database).
    Crypto {
        /// Measured seconds in all.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// PDF notices rendered per second (one core and all cores) and their size (no database).
    Docs {
        /// Measured seconds in all.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Search at national scale: N generated implementations; reindex docs/s, server-side
    /// latency with a region filter, `GET /api/v1/search` queries/s next to bare axum.
    Search {
        #[arg(default_value_t = 100_000)]
        n: usize,
        #[command(flatten)]
        api: ApiArgs,
        /// Server-side searches timed one by one.
        #[arg(long, default_value_t = 5000)]
        runs: usize,
    },
    /// Full online handling under HTTP load with durable commits: case submissions/s and
    /// parallel-task completions/s (5-step template with a parallel pair), p50/p99, each phase
    /// verified against the database; bare axum POST and INSERT+COMMIT baselines; statements
    /// per request.
    Cases {
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Measured requests per phase, each on a different prepared draft or case.
        #[arg(long, default_value_t = 5000)]
        cases: usize,
        /// A phase stops after this many seconds even with requests left.
        #[arg(long, default_value_t = 60.0)]
        max_seconds: f64,
        /// Seconds of each baseline.
        #[arg(long, default_value_t = 3.0)]
        baseline_seconds: f64,
    },
    /// Everything above with default settings.
    All {
        #[command(flatten)]
        api: ApiArgs,
        #[arg(long, default_value = "/work/shared/data/regions")]
        regions_dir: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        n: usize,
    },
}

fn api_options(a: ApiArgs) -> ApiOptions {
    ApiOptions {
        connections: a.connections.clamp(1, 4096),
        seconds: a.seconds.clamp(0.1, 600.0),
        warmup: a.warmup.clamp(0.0, 60.0),
    }
}

fn cases_options(
    connections: usize,
    cases: usize,
    max_seconds: f64,
    baseline_seconds: f64,
) -> yiwang_bench::cases::CasesOptions {
    yiwang_bench::cases::CasesOptions {
        connections: connections.clamp(1, 4096),
        cases: cases.clamp(1, 10_000_000),
        max_seconds: max_seconds.clamp(0.1, 3600.0),
        baseline_seconds: baseline_seconds.clamp(0.1, 600.0),
    }
}

async fn run(cli: Cli) -> anyhow::Result<Report> {
    let url = cli.database_url.as_deref();
    let mut report = Report::default();
    match cli.what {
        What::Api(a) => report.extend(yiwang_bench::api::run(url, api_options(a)).await?),
        What::Regions { dir, runs } => {
            report.extend(yiwang_bench::regions::run(url, &dir, runs).await?)
        }
        What::Import { n } => report.extend(yiwang_bench::import::run(url, n).await?),
        What::Audit { n } => report.extend(yiwang_bench::audit::run(url, n).await?),
        What::Crypto { seconds } => report.extend(yiwang_bench::crypto::run(seconds)?),
        What::Docs { seconds } => report.extend(yiwang_bench::docs::run(seconds)?),
        What::Search { n, api, runs } => {
            let a = api_options(api);
            let opts = yiwang_bench::search::SearchOptions {
                n: n.clamp(1, 2_000_000),
                connections: a.connections,
                seconds: a.seconds,
                warmup: a.warmup,
                runs: runs.clamp(1, 10_000_000),
            };
            report.extend(yiwang_bench::search::run(url, opts).await?)
        }
        What::Cases {
            connections,
            cases,
            max_seconds,
            baseline_seconds,
        } => report.extend(
            yiwang_bench::cases::run(
                url,
                cases_options(connections, cases, max_seconds, baseline_seconds),
            )
            .await?,
        ),
        What::All {
            api,
            regions_dir,
            n,
        } => {
            // One failing part does not hide the figures of the others.
            match yiwang_bench::api::run(url, api_options(api)).await {
                Ok(r) => report.extend(r),
                Err(e) => report.note(format!("api failed: {e:#}")),
            }
            if regions_dir.is_dir() {
                match yiwang_bench::regions::run(url, &regions_dir, 1000).await {
                    Ok(r) => report.extend(r),
                    Err(e) => report.note(format!("regions failed: {e:#}")),
                }
            } else {
                report.note(format!(
                    "regions skipped: {} is not a directory",
                    regions_dir.display()
                ));
            }
            match yiwang_bench::import::run(url, n).await {
                Ok(r) => report.extend(r),
                Err(e) => report.note(format!("import failed: {e:#}")),
            }
            match yiwang_bench::crypto::run(2.0) {
                Ok(r) => report.extend(r),
                Err(e) => report.note(format!("encryption failed: {e:#}")),
            }
            match yiwang_bench::docs::run(3.0) {
                Ok(r) => report.extend(r),
                Err(e) => report.note(format!("documents failed: {e:#}")),
            }
            let cases = cases_options(api.connections, 5000, 60.0, 3.0);
            match yiwang_bench::cases::run(url, cases).await {
                Ok(r) => report.extend(r),
                Err(e) => report.note(format!("cases failed: {e:#}")),
            }
        }
    }
    Ok(report)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(report) => {
            println!("{}", report.render());
            let missed = report.missed();
            if missed > 0 {
                println!("{missed} target(s) missed");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
