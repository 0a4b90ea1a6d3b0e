//! Shared by the security and hostile-input tests: extra accounts without the needed
//! permission, sample values for route placeholders, write counters and a results log that
//! `docs/hostile-inputs.md` is written from.
//!
//! Builds on the console harness ([`super::console`]): its server, client and accounts.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use super::console::{APPROVAL_BUREAU, MARKET_BUREAU, NOW_MS, PASSWORD, config};
use reqwest::StatusCode;
use std::fmt::Write;
use yiwang_domain::CreditCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::NewUser;
use yiwang_testkit::{DEMO_NOW_MS, TestDb};

/// A signed-in account with no grant at all.
pub const NOBODY: &str = "nobody";
/// A catalog administrator of the market bureau (another department than the samples').
pub const MARKET: &str = "market";

/// Adds [`NOBODY`] and [`MARKET`] (call after `create_users`).
pub async fn create_outsiders(db: &TestDb) {
    let users = [
        (NOBODY, "No Grants", vec![]),
        (
            MARKET,
            "Market Ma",
            vec![Grant {
                role: Role::CatalogAdmin,
                region: None,
                department: Some(CreditCode::parse(MARKET_BUREAU).unwrap()),
            }],
        ),
    ];
    for (username, name, grants) in users {
        db.store
            .create_user(
                &NewUser {
                    username: username.into(),
                    display_name: name.into(),
                    password: PASSWORD.into(),
                    grants,
                },
                &yiwang_store::Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
    }
}

/// A session for `username` without the sign-in form (its password and TOTP steps are tested
/// by the login tests); returns the `yw_session=…` pair to send as a cookie.
pub async fn session_for(db: &TestDb, username: &str) -> String {
    let p = db
        .store
        .authenticate(username, PASSWORD)
        .await
        .unwrap()
        .expect("the account exists");
    // Started at the console server's time, as its own sign-in would be.
    let mut state = yiwang_web::AppState::new(db.store.clone(), config());
    state.clock = std::sync::Arc::new(yiwang_app::clock::FixedClock::new(NOW_MS));
    let set = yiwang_web::auth::start_session(&state, p.user_id, None)
        .await
        .unwrap();
    set.split(';').next().unwrap().to_string()
}

/// Real values for route placeholders, from the demo catalog.
pub struct Samples {
    /// A published implementation of the approval bureau (the `catalog` account's department).
    pub impl_code: String,
    pub version: i64,
    pub theme: String,
    /// The verification code of a document issued for the sample (public `/verify/{code}`).
    pub verify_code: String,
}

impl Samples {
    pub async fn of(db: &TestDb) -> Self {
        let published = db.store.published_all().await.unwrap();
        let mine = published
            .iter()
            .find(|p| p.implementation.department_code.as_str() == APPROVAL_BUREAU)
            .expect("a published implementation of the approval bureau");
        let themes = db.store.published_themes().await.unwrap();
        let code = yiwang_domain::document::VerifyCode::from_random([42; 13]);
        let issued = db.store.document_by_verify_code(&code).await.unwrap();
        if issued.is_none() {
            db.store
                .issue_document(&yiwang_store::documents::NewDocument {
                    verify_code: &code,
                    case_number: "sample-case",
                    kind: yiwang_domain::document::DocumentKind::Acceptance,
                    department_credit_code: APPROVAL_BUREAU,
                    department_name: "sample",
                    issued_at_ms: 0,
                    notice_json: "{}",
                    pdf: b"%PDF",
                    doc_number: None,
                    printed_digest: None,
                })
                .await
                .unwrap();
        }
        Self {
            impl_code: mine.implementation.code.to_string(),
            version: mine.version,
            theme: themes.first().expect("a theme").0.clone(),
            verify_code: code.to_string(),
        }
    }

    /// `pattern` (a route of `route_policies()`) with every `{param}` replaced by a real value.
    pub fn fill(&self, pattern: &str) -> String {
        let mut out = String::new();
        for seg in pattern.split('/').skip(1) {
            out.push('/');
            match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => out.push_str(&self.value(pattern, name)),
                None => out.push_str(seg),
            }
        }
        out
    }

    fn value(&self, pattern: &str, name: &str) -> String {
        match name {
            "code" if pattern.contains("/regions/") => "120112".into(),
            "code" if pattern.contains("/life-events/") => "open-restaurant".into(),
            "code" if pattern.starts_with("/departments/") => APPROVAL_BUREAU.into(),
            "code" if pattern.contains("/verify/") => self.verify_code.clone(),
            "credit_code" => APPROVAL_BUREAU.into(),
            "code" => self.impl_code.clone(),
            "version" => self.version.to_string(),
            "theme" => encode(&self.theme),
            "kind" => "person".into(),
            "upload" => "1".into(),
            // A well-formed case number no sample account may see.
            "number" => format!("{}-20261130-000001", self.impl_code),
            // Numeric ids of rows the sample accounts do not own (API tokens, ...).
            "id" => "1".into(),
            other => panic!(
                "no sample value for {{{other}}} in {pattern}: add one to tests/security_support"
            ),
        }
    }
}

/// Percent-encodes everything but unreserved ASCII.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// What a refused or hostile request may never change.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Counts {
    pub drafts: usize,
    pub published: usize,
    pub departments: usize,
}

pub async fn counts(db: &TestDb) -> Counts {
    Counts {
        drafts: db.store.drafts_all().await.unwrap().len(),
        published: db.store.published_all().await.unwrap().len(),
        departments: db.store.departments(None).await.unwrap().len(),
    }
}

/// Script and HTML payloads.
pub const MARKUP: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg/onload=alert(1)>",
    "<iframe src=//evil.example></iframe>",
    "javascript:alert(1)",
];
/// SQL-injection strings.
pub const SQL: &[&str] = &[
    "' OR '1'='1",
    "1; DROP TABLE implementations; --",
    "\" OR 1=1 --",
    "' UNION SELECT username, password_hash FROM users --",
    "%' AND 1=0 UNION SELECT NULL --",
];
/// Path-traversal strings (as one path segment or a file name).
pub const TRAVERSAL: &[&str] = &[
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "....//....//etc/passwd",
    "x.csv\u{0}.exe",
];
/// Percent-encoded bytes that are not UTF-8 (or are control characters), sent as they are.
pub const BAD_UTF8: &[&str] = &["%FF%FE", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%00%0A"];

/// Every hostile value with a short label: (label, value as text).
pub fn hostile_values() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for (kind, set) in [("markup", MARKUP), ("sql", SQL), ("traversal", TRAVERSAL)] {
        for p in set {
            let shown = p.replace('|', "\\|").replace('\u{0}', "\\0");
            v.push((format!("{kind} `{shown}`"), (*p).to_string()));
        }
    }
    v.push(("long value (100 KB)".into(), "x".repeat(100 * 1024)));
    v
}

/// No payload came back as markup: no raw `<script`, `<img`, `<svg`, `<iframe` tags, and no
/// `onerror=`/`onload=` or `javascript:` inside a tag (as escaped text they are harmless).
pub fn assert_escaped(body: &str, what: &str) {
    let lower = body.to_ascii_lowercase();
    for raw in ["<script", "<img src=x", "<svg/onload", "<iframe src=//evil"] {
        assert!(
            !lower.contains(raw),
            "{what}: the response contains raw `{raw}`"
        );
    }
    for attr in [
        "onerror=",
        "onload=",
        "href=\"javascript:",
        "src=\"javascript:",
    ] {
        for (i, _) in lower.match_indices(attr) {
            let open = lower[..i].rfind('<');
            let close = lower[..i].rfind('>');
            // Inside a tag and not inside a quoted attribute value (odd number of quotes before).
            let in_tag = matches!((open, close), (Some(o), c) if c.is_none_or(|c| o > c));
            let quoted = open.is_some_and(|o| lower[o..i].matches('"').count() % 2 == 1);
            assert!(
                !in_tag || quoted,
                "{what}: `{attr}` inside a tag: …{}…",
                &body[open.unwrap_or(0)..(i + 20).min(body.len())]
            );
        }
    }
}

/// One hostile request and what came back; collected into `docs/hostile-inputs.md`.
pub struct Log {
    area: &'static str,
    rows: Vec<(String, String, String, u16)>,
}

impl Log {
    pub fn new(area: &'static str) -> Self {
        Self {
            area,
            rows: Vec::new(),
        }
    }

    /// Records a result; fails on any 5xx.
    pub fn record(&mut self, target: &str, input: &str, status: StatusCode) {
        assert!(
            !status.is_server_error(),
            "{} {target} with {input}: {status}",
            self.area
        );
        self.rows.push((
            target.into(),
            input.into(),
            self.area.into(),
            status.as_u16(),
        ));
    }

    /// With `YIWANG_HOSTILE_REPORT=dir`, appends the table (one status set per target and
    /// input) to `dir/<area>.md`.
    pub fn finish(self, backend: &str) {
        let Ok(dir) = std::env::var("YIWANG_HOSTILE_REPORT") else {
            return;
        };
        let mut merged: Vec<(String, String, Vec<u16>)> = Vec::new();
        for (t, i, _, s) in &self.rows {
            match merged.iter_mut().find(|(mt, mi, _)| mt == t && mi == i) {
                Some((_, _, v)) if !v.contains(s) => v.push(*s),
                Some(_) => {}
                None => merged.push((t.clone(), i.clone(), vec![*s])),
            }
        }
        let mut out = format!(
            "\n### {} ({backend})\n\n| Target | Input | Status |\n| --- | --- | --- |\n",
            self.area
        );
        for (t, i, v) in merged {
            let v: Vec<String> = v.iter().map(u16::to_string).collect();
            let _ = writeln!(out, "| `{t}` | {i} | {} |", v.join(", "));
        }
        std::fs::create_dir_all(&dir).unwrap();
        let path = std::path::Path::new(&dir).join(format!("{}.md", self.area));
        let mut prev = std::fs::read_to_string(&path).unwrap_or_default();
        prev.push_str(&out);
        std::fs::write(path, prev).unwrap();
    }
}

/// Sends raw bytes as one HTTP/1.1 request (for what a client library refuses to send: URIs
/// over 64 KB, broken encodings); returns the status and the body.
pub async fn raw_request(base: &str, head_and_body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A server may answer and close before reading everything; that is fine.
    let _ = s.write_all(head_and_body).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A raw GET of `path` (sent as is) with `Connection: close`.
pub async fn raw_get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    raw_request(base, req.as_bytes()).await
}
