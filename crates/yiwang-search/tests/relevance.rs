//! The relevance test set runs in CI: nDCG@5 of the shipped queries over the demo catalog
//! must stay at or above 0.85 and every exact item name must come first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use yiwang_search::SearchService;
use yiwang_search::eval::{SHIPPED_QUERIES, evaluate, parse_eval};
use yiwang_testkit::{DEMO_NOW_MS, sqlite, with_demo};

pub const NDCG_THRESHOLD: f64 = 0.85;

#[tokio::test]
async fn shipped_queries_meet_the_threshold() {
    let db = sqlite().await;
    with_demo(&db).await;
    let svc = SearchService::in_memory();
    let engine = svc.engine(&db.store, DEMO_NOW_MS).await.unwrap();
    let queries = parse_eval(SHIPPED_QUERIES).unwrap();
    assert!(queries.len() >= 120, "{}", queries.len());
    let report = evaluate(&engine, &queries).unwrap();
    let names: HashMap<String, String> = db
        .store
        .published_all()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.standard.basic_code.as_str().to_string(), p.standard.name))
        .collect();
    let text = report.text(&|c| names.get(c).cloned().unwrap_or_else(|| c.to_string()));
    println!("{text}");
    assert!(
        report.ndcg5 >= NDCG_THRESHOLD,
        "nDCG@5 below threshold\n{text}"
    );
    assert_eq!(report.exact_at_1, report.exact_queries, "{text}");
}
