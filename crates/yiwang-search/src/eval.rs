//! The relevance evaluator: labelled queries over the demo catalog, nDCG@5 and MRR.
//!
//! File format (UTF-8, tab-separated, `#` comments):
//! `category<TAB>query<TAB>expected basic codes[<TAB>region]`. Expected codes are
//! space-separated, best first; `code:1` marks a partly relevant item (grade 1; default 2).
//! The category `exact` means the query is an item's exact name: its first expected item must
//! come first.

use crate::engine::{Engine, SearchError, SearchRequest};
use serde::Serialize;
use yiwang_domain::RegionCode;

/// The labelled queries shipped with the project (run in CI by `tests/relevance.rs`).
pub const SHIPPED_QUERIES: &str = include_str!("../data/eval/queries.tsv");

#[derive(Debug, Clone)]
pub struct EvalQuery {
    pub line: usize,
    pub category: String,
    pub query: String,
    pub region: Option<RegionCode>,
    pub expected: Vec<(String, u8)>,
}

pub fn parse_eval(text: &str) -> Result<Vec<EvalQuery>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 {
            return Err(format!(
                "line {}: needs category, query and expected codes",
                i + 1
            ));
        }
        let mut expected = Vec::new();
        for e in cols[2].split_whitespace() {
            let (code, grade) = match e.split_once(':') {
                Some((c, g)) => (
                    c,
                    g.parse::<u8>()
                        .map_err(|_| format!("line {}: bad grade in {e}", i + 1))?,
                ),
                None => (e, 2),
            };
            expected.push((code.to_string(), grade));
        }
        if expected.is_empty() {
            return Err(format!("line {}: no expected codes", i + 1));
        }
        let region = match cols.get(3).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(r) => {
                Some(RegionCode::parse(r).map_err(|_| format!("line {}: bad region {r}", i + 1))?)
            }
            None => None,
        };
        out.push(EvalQuery {
            line: i + 1,
            category: cols[0].trim().to_string(),
            query: cols[1].to_string(),
            region,
            expected,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub line: usize,
    pub category: String,
    pub query: String,
    pub expected: Vec<String>,
    pub got: Vec<String>,
    pub ndcg5: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryFigures {
    pub category: String,
    pub queries: usize,
    pub ndcg5: f64,
    pub mrr: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub queries: usize,
    pub ndcg5: f64,
    pub mrr: f64,
    pub exact_queries: usize,
    pub exact_at_1: usize,
    pub by_category: Vec<CategoryFigures>,
    /// Queries with nDCG@5 below 0.5, or exact names not at rank 1.
    pub failures: Vec<Failure>,
}

fn dcg(grades: &[u8]) -> f64 {
    grades
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, g)| (2f64.powi(i32::from(*g)) - 1.0) / ((i + 2) as f64).log2())
        .sum()
}

/// nDCG@5 and reciprocal rank of one ranking.
pub fn score(expected: &[(String, u8)], got: &[String]) -> (f64, f64) {
    let grade = |c: &str| {
        expected
            .iter()
            .find(|(e, _)| e == c)
            .map(|(_, g)| *g)
            .unwrap_or(0)
    };
    let grades: Vec<u8> = got.iter().map(|c| grade(c)).collect();
    let mut ideal: Vec<u8> = expected.iter().map(|(_, g)| *g).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg = dcg(&ideal);
    let ndcg = if idcg > 0.0 { dcg(&grades) / idcg } else { 0.0 };
    let rr = grades
        .iter()
        .take(10)
        .position(|g| *g > 0)
        .map(|p| 1.0 / (p + 1) as f64)
        .unwrap_or(0.0);
    (ndcg, rr)
}

pub fn evaluate(engine: &Engine, queries: &[EvalQuery]) -> Result<EvalReport, SearchError> {
    let mut total = (0.0, 0.0);
    let mut cats: Vec<(String, usize, f64, f64)> = Vec::new();
    let mut failures = Vec::new();
    let (mut exact_n, mut exact_ok) = (0, 0);
    for q in queries {
        let res = engine.search(&SearchRequest {
            q: q.query.clone(),
            region: q.region.clone(),
            limit: 10,
            ..Default::default()
        })?;
        let got: Vec<String> = res.hits.iter().map(|h| h.basic_code.clone()).collect();
        let (n, rr) = score(&q.expected, &got);
        total.0 += n;
        total.1 += rr;
        match cats.iter_mut().find(|c| c.0 == q.category) {
            Some(c) => {
                c.1 += 1;
                c.2 += n;
                c.3 += rr;
            }
            None => cats.push((q.category.clone(), 1, n, rr)),
        }
        let exact = q.category == "exact";
        let first_ok = got.first() == Some(&q.expected[0].0);
        if exact {
            exact_n += 1;
            if first_ok {
                exact_ok += 1;
            }
        }
        if n < 0.5 || (exact && !first_ok) {
            failures.push(Failure {
                line: q.line,
                category: q.category.clone(),
                query: q.query.clone(),
                expected: q.expected.iter().map(|(c, _)| c.clone()).collect(),
                got: got.into_iter().take(5).collect(),
                ndcg5: n,
            });
        }
    }
    let k = queries.len().max(1) as f64;
    Ok(EvalReport {
        queries: queries.len(),
        ndcg5: total.0 / k,
        mrr: total.1 / k,
        exact_queries: exact_n,
        exact_at_1: exact_ok,
        by_category: cats
            .into_iter()
            .map(|(category, n, nd, rr)| CategoryFigures {
                category,
                queries: n,
                ndcg5: nd / n as f64,
                mrr: rr / n as f64,
            })
            .collect(),
        failures,
    })
}

impl EvalReport {
    /// The report as text for the terminal.
    pub fn text(&self, names: &dyn Fn(&str) -> String) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "queries {}  nDCG@5 {:.3}  MRR {:.3}  exact names at rank 1: {}/{}",
            self.queries, self.ndcg5, self.mrr, self.exact_at_1, self.exact_queries
        );
        for c in &self.by_category {
            let _ = writeln!(
                s,
                "  {:<12} {:>4}  nDCG@5 {:.3}  MRR {:.3}",
                c.category, c.queries, c.ndcg5, c.mrr
            );
        }
        let _ = writeln!(s, "failures: {}", self.failures.len());
        for f in &self.failures {
            let got: Vec<String> = f.got.iter().map(|c| names(c)).collect();
            let exp: Vec<String> = f.expected.iter().map(|c| names(c)).collect();
            let _ = writeln!(
                s,
                "  line {} [{}] {:?}  nDCG@5 {:.2}\n    expected {}\n    got      {}",
                f.line,
                f.category,
                f.query,
                f.ndcg5,
                exp.join(" · "),
                got.join(" · ")
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics() {
        let e = vec![("a".to_string(), 2), ("b".to_string(), 1)];
        let (n, rr) = score(&e, &["a".into(), "b".into()]);
        assert!((n - 1.0).abs() < 1e-9);
        assert!((rr - 1.0).abs() < 1e-9);
        let (n, rr) = score(&e, &["x".into(), "a".into()]);
        assert!(n < 1.0 && n > 0.3);
        assert!((rr - 0.5).abs() < 1e-9);
        assert_eq!(score(&e, &[]), (0.0, 0.0));
        assert!(parse_eval("exact\tq").is_err());
        assert!(parse_eval("exact\tq\ta:x").is_err());
        assert!(parse_eval(SHIPPED_QUERIES).unwrap().len() >= 120);
    }
}
