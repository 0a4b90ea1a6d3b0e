//! The one web test harness: [`spawn_app`] serves the whole router over real HTTP on a free
//! port, on either database, with a [`FixedClock`] the test moves. The submodules add the steps
//! each area needs (signing in, the console, the JSON API, portal pages, applicants, hostile
//! inputs). The browser tests (their own binary) include this module too.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod api;
pub mod applicant;
pub mod auth;
pub mod console;
pub mod portal;
pub mod qr;
pub mod security;

use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Client, Response, redirect};
use std::sync::Arc;
use yiwang_app::clock::FixedClock;
use yiwang_store::Store;
use yiwang_testkit::{DEMO_NOW_MS, TestDb};
use yiwang_web::{AppState, WebConfig, router};

/// How [`spawn_app_with`] builds the server.
pub struct Options {
    /// Plain-HTTP cookies (no `Secure`) unless a test asks for HTTPS.
    pub config: WebConfig,
    /// Where the fixed clock starts.
    pub now_ms: i64,
    /// Hand handlers the peer address (sign-in throttling per address).
    pub peer_address: bool,
    /// Serve on the wall clock instead (browser tests: a real browser expires cookies and its
    /// pages' one-time codes on real time); the returned clock then moves nothing.
    pub wall_clock: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            config: WebConfig {
                secure_cookies: false,
                ..Default::default()
            },
            now_ms: DEMO_NOW_MS,
            peer_address: false,
            wall_clock: false,
        }
    }
}

/// A running server and what a test needs to talk to it and to move its time.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: Arc<FixedClock>,
    /// Follows no redirects: tests look at each 303 and its `Location`.
    pub client: Client,
    pub store: Store,
}

/// The server over `db` with the default [`Options`].
pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(db, Options::default(), |s| s).await
}

/// The server over `db`; `adapt` changes the state before it serves (files, search, keys).
pub async fn spawn_app_with(
    db: &TestDb,
    options: Options,
    adapt: impl FnOnce(AppState) -> AppState,
) -> TestApp {
    let clock = Arc::new(FixedClock::new(options.now_ms));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bound = listener.local_addr().unwrap();
    let base = format!("http://{bound}");
    // As `yiwang serve` does: notices link to the address really served unless one is set.
    let mut config = options.config;
    if config.public_url == yiwang_web::WebConfig::default().public_url {
        config.public_url = yiwang_web::serve_support::public_url(None, bound);
    }
    let mut state = adapt(AppState::new(db.store.clone(), config));
    if !options.wall_clock {
        state.clock = clock.clone();
    }
    let app = router(state.clone());
    if options.peer_address {
        tokio::spawn(yiwang_web::serve_support::serve(listener, app));
    } else {
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    TestApp {
        base,
        store: state.store.clone(),
        state,
        clock,
        client: client(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// A same-origin form post, as a browser sends it from one of the site's pages.
    pub async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header(ORIGIN, self.base.clone())
            .form(form);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }
}

/// A client that follows no redirects.
pub fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` pair of a non-empty Set-Cookie of `name`.
pub fn named_cookie(res: &Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix) && !v.starts_with(&format!("{name}=;")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// The whole Set-Cookie line of `name` (attributes included), cleared or not.
pub fn set_cookie_line(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The TOTP key shown on the enrolment page, if this is one.
pub fn enrol_secret(html: &str) -> Option<String> {
    let start = html.find(r#"id="totp-secret""#)?;
    let rest = &html[start..];
    let value = rest.split('>').nth(1)?.split('<').next()?;
    Some(value.trim().to_string())
}
