//! Shared by the API tests: a real server on a test database, JSON GETs, error checks and a
//! keyset-page walker.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use super::{Options, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use yiwang_app::clock::FixedClock;
use yiwang_domain::ErrorCode;
use yiwang_i18n::{Lang, error_message};
use yiwang_store::ImplementationFilter;
use yiwang_testkit::{DEMO_NOW_MS, TestDb};
use yiwang_web::AppState;

pub struct Server {
    pub base: String,
    pub state: AppState,
    /// Moved by hand, so cache expiry is deterministic.
    pub clock: Arc<FixedClock>,
    /// Follows redirects, as an API client would.
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(db: &TestDb) -> Self {
        let app = spawn_app_with(
            db,
            Options {
                now_ms: DEMO_NOW_MS + 60_000,
                ..Options::default()
            },
            |s| s,
        )
        .await;
        Self {
            base: app.base,
            state: app.state,
            clock: app.clock,
            http: reqwest::Client::new(),
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_with(path, None).await
    }

    /// GETs `path`; the answer must be JSON whatever the status.
    pub async fn get_with(&self, path: &str, accept_language: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(al) = accept_language {
            req = req.header("accept-language", al);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "{path}: content-type {ct:?}"
        );
        let body: Value = res.json().await.unwrap();
        (status, body)
    }

    /// Asserts a 4xx JSON error with `code`, its message in `lang`, and returns the body.
    pub async fn expect_error(
        &self,
        path: &str,
        status: StatusCode,
        code: ErrorCode,
        lang: Lang,
    ) -> Value {
        let (s, body) = self.get(path).await;
        assert_eq!(s, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code.key(), "{path}: {body}");
        assert_eq!(
            body["error"]["message"],
            error_message(lang, code),
            "{path}"
        );
        body
    }

    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }
}

pub fn strings(v: &Value, field: &str) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}

/// Follows `next` from the first page to the last; every page but the last is full.
pub async fn walk(s: &Server, path: &str, limit: usize, key: &str) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..1000 {
        let url = match &after {
            Some(a) => format!("{path}{sep}limit={limit}&after={a}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (status, page) = s.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        let keys = strings(&page, key);
        assert!(keys.len() <= limit, "{url}: page larger than limit");
        out.extend(keys.iter().cloned());
        match page["next"].as_str() {
            Some(n) => {
                assert_eq!(
                    keys.len(),
                    limit,
                    "{url}: a page before the last must be full"
                );
                after = Some(n.to_string());
            }
            None => {
                assert!(page["next"].is_null());
                return out;
            }
        }
    }
    panic!("{path}: paging did not end");
}

pub fn no_duplicates(v: &[String]) {
    let set: HashSet<&String> = v.iter().collect();
    assert_eq!(set.len(), v.len(), "duplicates in {v:?}");
}

pub async fn store_codes(db: &TestDb, f: &ImplementationFilter) -> Vec<String> {
    db.store
        .list_published(f, None, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code)
        .collect()
}
