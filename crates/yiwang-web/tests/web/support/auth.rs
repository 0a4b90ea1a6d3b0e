//! Shared helpers of the sign-in security tests: a server with a test clock (and, when asked,
//! the client address), staff accounts, and a plain HTTP client that passes cookies by hand.

use super::{Options, TestApp, spawn_app_with};
pub use super::{enrol_secret, location, named_cookie, set_cookie_line};
use reqwest::{Response, StatusCode};
use yiwang_app::clock::Clock;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::NewUser;
use yiwang_testkit::{DEMO_NOW_MS, TestDb};
use yiwang_web::{AppState, WebConfig};

pub const PASSWORD: &str = "Sign-In-Test-2026";
/// 天津市津南区行政审批局.
pub const APPROVAL_BUREAU: &str = "11120112MB1W167324";
/// 咸水沽镇 of 津南区.
pub const TOWNSHIP: &str = "120112100000";

/// The site under test ([`TestApp`]; the name the sign-in tests grew up with).
pub type Site = TestApp;

/// Serves the app over `db` with a fixed clock; `with_address` serves with connection info,
/// as the binary does (per-address throttling then sees 127.0.0.1).
pub async fn serve(db: &TestDb, with_address: bool) -> Site {
    serve_with(db, with_address, false, |s| s).await
}

/// [`serve`] with `Secure` cookies when `secure` (the site behind HTTPS) and the state changed
/// by `adapt` first (another identity verifier, …).
pub async fn serve_with(
    db: &TestDb,
    with_address: bool,
    secure: bool,
    adapt: impl FnOnce(AppState) -> AppState,
) -> Site {
    let options = Options {
        config: WebConfig {
            secure_cookies: secure,
            ..Default::default()
        },
        now_ms: DEMO_NOW_MS,
        peer_address: with_address,
        wall_clock: false,
    };
    spawn_app_with(db, options, adapt).await
}

/// `admin` (platform), `clerk` (catalog admin of one department), `township` (region admin of a
/// township). Returns their ids in that order.
pub async fn create_users(db: &TestDb) -> Vec<i64> {
    let users = [
        ("admin", Role::PlatformAdmin, None, None),
        (
            "clerk",
            Role::CatalogAdmin,
            None,
            Some(CreditCode::parse(APPROVAL_BUREAU).unwrap()),
        ),
        (
            "township",
            Role::RegionAdmin,
            Some(RegionCode::parse(TOWNSHIP).unwrap()),
            None,
        ),
    ];
    let mut ids = Vec::new();
    for (username, role, region, department) in users {
        let id = db
            .store
            .create_user(
                &NewUser {
                    username: username.into(),
                    display_name: format!("{username} (test)"),
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
        ids.push(id);
    }
    ids
}

impl TestApp {
    /// Registers an applicant over HTTP (asserting the one "registration received" answer,
    /// which signs nobody in), verifies the identity in person through the store as a counter
    /// clerk would (实名核验), and signs in: the applicant session cookie.
    pub async fn register_applicant(
        &self,
        name: &str,
        id: &str,
        phone: &str,
        password: &str,
    ) -> String {
        let res = self
            .post(
                "/register",
                None,
                &[
                    ("name", name),
                    ("id_number", id),
                    ("phone", phone),
                    ("password", password),
                    ("again", password),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "register {name}");
        assert!(
            named_cookie(&res, "yw_app").is_none(),
            "registration signs nobody in"
        );
        yiwang_testkit::verify_in_person(&self.store, id, name, phone, self.clock.now_ms()).await;
        let res = self
            .post("/login", None, &[("id_number", id), ("password", password)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in of {name}");
        named_cookie(&res, "yw_app").expect("applicant session")
    }

    pub async fn password(&self, username: &str, password: &str) -> Response {
        self.post(
            "/console/login",
            None,
            &[
                ("username", username),
                ("password", password),
                ("next", "/console"),
            ],
        )
        .await
    }

    /// The password step; returns the pending cookie (asserting it worked).
    pub async fn pending(&self, username: &str) -> String {
        let res = self.password(username, PASSWORD).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "password of {username}"
        );
        assert!(location(&res).starts_with("/console/login/totp"));
        named_cookie(&res, "yw_pending").expect("pending cookie")
    }

    pub async fn code(&self, cookies: &str, code: &str) -> Response {
        self.post(
            "/console/login/totp",
            Some(cookies),
            &[("code", code), ("next", "/console")],
        )
        .await
    }

    /// The key of `username`: the stored one, or (first sign-in) the one the page offers.
    pub async fn secret(&self, db: &TestDb, user_id: i64, pending: &str) -> String {
        if let Some(t) = db.store.user_totp(user_id).await.unwrap() {
            return t.secret;
        }
        let html = self
            .get("/console/login/totp", Some(pending))
            .await
            .text()
            .await
            .unwrap();
        enrol_secret(&html).expect("enrolment page shows the key")
    }

    /// A full sign-in (password, then a code computed from the key) in a fresh 30-second step;
    /// returns the session cookie pair.
    pub async fn sign_in(&self, db: &TestDb, username: &str) -> String {
        self.clock.advance(30_000);
        let id = db
            .store
            .user_id_by_username(username)
            .await
            .unwrap()
            .unwrap();
        let pending = self.pending(username).await;
        let secret = self.secret(db, id, &pending).await;
        let code = yiwang_store::totp::code_at(&secret, self.clock.now_ms()).unwrap();
        let res = self.code(&pending, &code).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "code of {username}");
        named_cookie(&res, "yw_session").expect("session cookie")
    }

    /// Whether the session cookie still opens the console home.
    pub async fn signed_in(&self, session: &str) -> bool {
        let res = self.get("/console/account", Some(session)).await;
        res.status() == StatusCode::OK
    }
}
