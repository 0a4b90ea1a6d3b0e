//! Shared helpers of the console tests: a real server over a demo database, staff accounts and a
//! plain HTTP client that handles the session cookie by hand.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Client, Response, StatusCode, redirect};
use std::collections::HashMap;
use std::sync::Mutex;
use yiwang_domain::CreditCode;
use yiwang_domain::RegionCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::NewUser;
use yiwang_testkit::{DEMO_NOW_MS, TestDb};
use yiwang_web::{AppState, WebConfig, router};

pub const PASSWORD: &str = "Console-Test-2026";
/// 天津市津南区行政审批局: the catalog administrator's department.
pub const APPROVAL_BUREAU: &str = "11120112MB1W167324";
/// 天津市津南区市场监督管理局: another department of the same district.
pub const MARKET_BUREAU: &str = "11120112MB1L902463";
/// 咸水沽镇: the region administrator's township.
pub const TOWNSHIP: &str = "120112100000";

pub fn config() -> WebConfig {
    WebConfig {
        secure_cookies: false,
        ..Default::default()
    }
}

/// Serves the app over `db` on a free port; returns the base URL.
pub async fn serve(db: &TestDb, config: WebConfig) -> String {
    let state = AppState::new(db.store.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    base
}

/// Three accounts: a platform admin, a catalog admin of one department, a township's region admin.
pub async fn create_users(db: &TestDb) {
    let users = [
        ("platform", "Platform Pat", Role::PlatformAdmin, None, None),
        (
            "catalog",
            "Catalog Chen",
            Role::CatalogAdmin,
            None,
            Some(CreditCode::parse(APPROVAL_BUREAU).unwrap()),
        ),
        (
            "township",
            "Township Tao",
            Role::RegionAdmin,
            Some(RegionCode::parse(TOWNSHIP).unwrap()),
            None,
        ),
    ];
    for (username, name, role, region, department) in users {
        db.store
            .create_user(
                &NewUser {
                    username: username.into(),
                    display_name: name.into(),
                    password: PASSWORD.into(),
                    grants: vec![Grant {
                        role,
                        region,
                        department,
                    }],
                },
                &yiwang_store::Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
    }
}

/// A client that follows no redirects and keeps no cookies (the tests pass them explicitly).
pub fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

pub struct Http {
    pub base: String,
    pub client: Client,
    /// TOTP keys learned at enrolment, by username.
    pub secrets: Mutex<HashMap<String, String>>,
    /// The last time step used by each username.
    pub used_steps: Mutex<HashMap<String, i64>>,
}

impl Http {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            client: client(),
            secrets: Mutex::default(),
            used_steps: Mutex::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The `yw_session=…` pair of a successful sign-in: password, then the one-time code (the
    /// first sign-in enrols, reading the key from the page as a person would type it).
    pub async fn login(&self, username: &str) -> String {
        let res = self.post_login(username, PASSWORD, "/console").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
        assert!(
            location(&res).starts_with("/console/login/totp"),
            "{}",
            location(&res)
        );
        let pending = named_cookie(&res, "yw_pending").expect("pending cookie");
        let page = self.get("/console/login/totp", Some(&pending)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        let secret = {
            let mut known = self.secrets.lock().unwrap();
            if let Some(s) = enrol_secret(&html) {
                known.insert(username.to_string(), s);
            }
            known.get(username).cloned().expect("TOTP key known")
        };
        let code = self.next_code(username, &secret).await;
        let res = self.post_totp(&pending, &code, "/console").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "code of {username}");
        session_cookie(&res).expect("session cookie")
    }

    /// A code for a time step this user has not used yet (waits when two sign-ins of the same
    /// account fall into one 30-second step: each step is accepted once).
    pub async fn next_code(&self, username: &str, secret: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let current = yiwang_store::totp::step_of(now);
        let step = {
            let mut used = self.used_steps.lock().unwrap();
            let step = used
                .get(username)
                .map_or(current, |last| current.max(last + 1));
            used.insert(username.to_string(), step);
            step
        };
        if step > current + 1 {
            let wait = (step - 1) * 30_000 - now + 50;
            tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64)).await;
        }
        yiwang_store::totp::code_at(secret, step * 30_000).unwrap()
    }

    /// The second sign-in step, as the one-time-code form posts it.
    pub async fn post_totp(&self, pending: &str, code: &str, next: &str) -> Response {
        self.client
            .post(self.url("/console/login/totp"))
            .header(COOKIE, pending)
            .form(&[("code", code), ("next", next)])
            .send()
            .await
            .unwrap()
    }

    pub async fn post_login(&self, username: &str, password: &str, next: &str) -> Response {
        self.client
            .post(self.url("/console/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("next", next),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    pub async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let res = self.get(path, Some(cookie)).await;
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    /// A same-origin form post, as a browser sends it from one of the console's pages.
    pub async fn post_form(&self, path: &str, cookie: &str, form: &[(String, String)]) -> Response {
        self.client
            .post(self.url(path))
            .header(COOKIE, cookie)
            .header(ORIGIN, self.base.clone())
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        form: reqwest::multipart::Form,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header(COOKIE, cookie)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

pub fn session_cookie(res: &Response) -> Option<String> {
    named_cookie(res, "yw_session")
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

/// The TOTP key shown on the enrolment page, if this is one.
pub fn enrol_secret(html: &str) -> Option<String> {
    let start = html.find(r#"id="totp-secret""#)?;
    let rest = &html[start..];
    let value = rest.split('>').nth(1)?.split('<').next()?;
    Some(value.trim().to_string())
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

pub fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Two CSV files as the import form's two file inputs.
pub fn csv_upload(items: Vec<u8>, materials: Vec<u8>) -> reqwest::multipart::Form {
    use reqwest::multipart::{Form, Part};
    Form::new()
        .part("file", Part::bytes(items).file_name("items.csv"))
        .part(
            "materials",
            Part::bytes(materials).file_name("materials.csv"),
        )
}

/// Rows of the import problems table.
pub fn issue_rows(html: &str) -> usize {
    html.split("<tbody>")
        .nth(1)
        .map(|t| {
            t.split("</tbody>")
                .next()
                .unwrap_or("")
                .matches("<tr>")
                .count()
        })
        .unwrap_or(0)
}
