//! `yiwang search`: rebuild the index, run the relevance evaluator, try a query.

use crate::config::Config;
use crate::env::now_ms;
use anyhow::{Context, anyhow};
use clap::Subcommand;
use std::collections::HashMap;
use std::path::PathBuf;
use yiwang_search::SearchService;
use yiwang_search::eval::{evaluate, parse_eval};
use yiwang_store::Store;

#[derive(Subcommand, Debug)]
pub enum SearchCommand {
    /// Rebuild the search index under the data directory from the published catalog.
    Reindex,
    /// Evaluate relevance on a labelled query file (see crates/yiwang-search/src/eval.rs):
    /// prints nDCG@5, MRR and the failures; fails below --min-ndcg.
    Eval {
        file: PathBuf,
        #[arg(long, default_value_t = 0.85)]
        min_ndcg: f64,
    },
    /// Run one query and print the hits (with --debug, the score explanation).
    Query {
        q: String,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        debug: bool,
    },
}

/// The index directory under the data directory.
pub fn index_dir(cfg: &Config) -> PathBuf {
    cfg.data_dir.join("search")
}

pub async fn run(store: &Store, cfg: &Config, command: &SearchCommand) -> anyhow::Result<()> {
    let svc = SearchService::on_disk(index_dir(cfg));
    match command {
        SearchCommand::Reindex => {
            let s = svc.reindex(store, now_ms()).await?;
            println!(
                "indexed {} implementation(s): load {:.2}s, index {:.2}s ({:.0} docs/s)",
                s.docs,
                s.load_secs,
                s.index_secs,
                s.docs_per_sec()
            );
            Ok(())
        }
        SearchCommand::Eval { file, min_ndcg } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let queries = parse_eval(&text).map_err(|e| anyhow!(e))?;
            let engine = svc.engine(store, now_ms()).await?;
            let report = evaluate(&engine, &queries)?;
            let names: HashMap<String, String> = store
                .published_all()
                .await?
                .into_iter()
                .map(|p| (p.standard.basic_code.as_str().to_string(), p.standard.name))
                .collect();
            print!(
                "{}",
                report.text(&|c| names.get(c).cloned().unwrap_or_else(|| c.to_string()))
            );
            if report.ndcg5 < *min_ndcg || report.exact_at_1 < report.exact_queries {
                return Err(anyhow!(
                    "below threshold: nDCG@5 {:.3} (min {min_ndcg}), exact names at rank 1 {}/{}",
                    report.ndcg5,
                    report.exact_at_1,
                    report.exact_queries
                ));
            }
            Ok(())
        }
        SearchCommand::Query { q, region, debug } => {
            let engine = svc.engine(store, now_ms()).await?;
            let region = region
                .as_deref()
                .map(yiwang_domain::RegionCode::parse)
                .transpose()
                .map_err(|c| anyhow!("region: {}", c.key()))?;
            let res = engine.search(&yiwang_search::SearchRequest {
                q: q.clone(),
                region,
                limit: 10,
                debug: *debug,
                ..Default::default()
            })?;
            println!("{}", serde_json::to_string_pretty(&res)?);
            Ok(())
        }
    }
}
