//! Shared by the portal tests: a real server over the demo catalog and page checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::StatusCode;
use yiwang_store::{ImplementationFilter, Store};
use yiwang_testkit::TestDb;

/// A food-business licence at the district's approval bureau: 承诺件, one visit, materials with
/// e-licences.
pub const FOOD_LICENCE: &str = "11120112MB1W167324000123001001";
/// 生育登记 at the district health commission: 即办件, no visit.
pub const BIRTH_REGISTRATION: &str = "11120112MB1M05719N002012001001";
pub const HEALTH_COMMISSION: &str = "11120112MB1M05719N";

pub struct Portal {
    pub base: String,
    pub http: reqwest::Client,
}

pub async fn serve(db: &TestDb) -> Portal {
    let app = super::spawn_app(db).await;
    Portal {
        base: app.base,
        http: reqwest::Client::new(),
    }
}

impl Portal {
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let ctype = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = res.text().await.unwrap();
        assert!(
            ctype.starts_with("text/html"),
            "{path}: content type {ctype}"
        );
        check_page(path, &body);
        (status, body)
    }

    /// A page that must be 200.
    pub async fn ok(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    pub async fn search(&self, q: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}/search?q={}", self.base, percent(q)))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        check_page("/search", &body);
        (status, body)
    }
}

/// Every portal page: light, without script, one h1, breadcrumbs or not, a language.
pub fn check_page(path: &str, body: &str) {
    assert!(body.len() < 60 * 1024, "{path} weighs {} bytes", body.len());
    assert!(
        !body.to_ascii_lowercase().contains("<script"),
        "{path} has a script"
    );
    assert_eq!(body.matches("<h1").count(), 1, "{path}: exactly one h1");
    assert!(
        ["<html lang=\"zh-CN\"", "<html lang=\"en\""]
            .iter()
            .any(|l| body.contains(&format!("{l}>"))
                || body.contains(&format!("{l} class=\"elder\">"))),
        "{path}: lang"
    );
}

/// A query value, percent-encoded as a browser would send it.
pub fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// HTML text as askama escapes it.
pub fn esc(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Paths of the item links on a page, in page order.
pub fn item_links(body: &str) -> Vec<String> {
    body.split("href=\"/items/")
        .skip(1)
        .map(|rest| format!("/items/{}", &rest[..rest.find('"').unwrap()]))
        .collect()
}

/// The "next page" link of a list, unescaped.
pub fn next_link(body: &str) -> Option<String> {
    let at = body.find("rel=\"next\"")?;
    let before = &body[..at];
    let start = before.rfind("href=\"")? + 6;
    let end = start + before[start..].find('"')?;
    Some(before[start..end].replace("&#38;", "&"))
}

pub async fn codes(store: &Store, f: ImplementationFilter) -> Vec<String> {
    store
        .list_published(&f, None, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code)
        .collect()
}
