//! Shared helpers of the console tests: a real server over a demo database, staff accounts and a
//! plain HTTP client that handles the session cookie by hand.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::{Options, TestApp, spawn_app_with};
pub use super::{client, enrol_secret, location, named_cookie};
use reqwest::header::{COOKIE, ORIGIN};
use reqwest::{Client, Response, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use yiwang_app::clock::{Clock, FixedClock};
use yiwang_domain::CreditCode;
use yiwang_domain::RegionCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::NewUser;
use yiwang_testkit::{DEMO_NOW_MS, TestDb};
use yiwang_web::WebConfig;

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

/// Where the console tests' fixed clock starts: an hour after the demo data and accounts
/// were written, as a server started later would see them.
pub const NOW_MS: i64 = DEMO_NOW_MS + 3_600_000;

/// Serves the app over `db` with this configuration and a fixed clock at [`NOW_MS`].
pub async fn serve(db: &TestDb, config: WebConfig) -> TestApp {
    let options = Options {
        config,
        now_ms: NOW_MS,
        peer_address: false,
        wall_clock: false,
    };
    spawn_app_with(db, options, |s| s).await
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

pub struct Http {
    pub base: String,
    pub client: Client,
    /// The server's clock: sign-ins take their one-time codes from it.
    pub clock: Arc<FixedClock>,
    pub secrets: Mutex<HashMap<String, String>>,
    pub used_steps: Mutex<HashMap<String, i64>>,
}

impl Http {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            client: client(),
            clock: app.clock.clone(),
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

    /// A code for a time step this user has not used yet (each step is accepted once): when two
    /// sign-ins of the same account fall into one 30-second step, the clock moves on as far as
    /// a wall clock would have to.
    pub async fn next_code(&self, username: &str, secret: &str) -> String {
        let now = self.clock.now_ms();
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
            self.clock.set((step - 1) * 30_000 + 50);
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
