//! Applicants may turn on a one-time code, on every backend: enrolment needs a correct code
//! from the offered key (stored encrypted), sign-in then needs the code after the password
//! (a wrong one counts as a failure, a used one is refused), and turning it off needs a code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth_support;

use auth_support::{location, named_cookie, serve};
use reqwest::StatusCode;
use yiwang_testkit::{backends, with_demo, with_test_keys};

const ID: &str = "11010519491231002X";
const PASSWORD: &str = "Shenqing-2026!";

/// Demo data, data keys, a server, and the applicant `ID` registered: the site and the session.
async fn registered(db: &mut yiwang_testkit::TestDb) -> (auth_support::Site, String) {
    with_demo(db).await;
    db.store = with_test_keys(db.store.clone());
    let site = serve(db, true).await;
    let session = site
        .register_applicant("张三", ID, "13800138000", PASSWORD)
        .await;
    (site, session)
}

fn secret_of(html: &str) -> String {
    html.split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn applicants_may_turn_on_one_time_codes_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, me) = registered(&mut db).await;

        let html = site
            .get("/me/security", Some(&me))
            .await
            .text()
            .await
            .unwrap();
        let secret = secret_of(&html);
        let res = site
            .post(
                "/me/security/totp",
                Some(&me),
                &[("secret", secret.as_str()), ("code", "000000")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let code = yiwang_store::totp::code_at(&secret, site.clock.now()).unwrap();
        let res = site
            .post(
                "/me/security/totp",
                Some(&me),
                &[("secret", secret.as_str()), ("code", code.as_str())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        // Encrypted at rest.
        let a = db
            .store
            .applicant_by_id_number(&yiwang_domain::case::ApplicantId::parse(ID).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            db.store.applicant_totp(a.id).await.unwrap().as_deref(),
            Some(secret.as_str())
        );

        // Sign-in now asks for the code.
        let res = site
            .post(
                "/login",
                None,
                &[("id_number", ID), ("password", PASSWORD), ("next", "/me")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(location(&res).starts_with("/login/code"), "{b}");
        assert!(
            named_cookie(&res, "yw_app").is_none(),
            "{b}: no session before the code"
        );
        let pending = named_cookie(&res, "yw_app_pending").unwrap();
        let res = site
            .post(
                "/login/code",
                Some(&pending),
                &[("code", "123456"), ("next", "/me")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        // The code used at enrolment cannot be used again; the next one works.
        let res = site
            .post(
                "/login/code",
                Some(&pending),
                &[("code", code.as_str()), ("next", "/me")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: a used code");
        site.clock.advance(30_000);
        let next_code = yiwang_store::totp::code_at(&secret, site.clock.now()).unwrap();
        let res = site
            .post(
                "/login/code",
                Some(&pending),
                &[("code", next_code.as_str()), ("next", "/me")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), "/me");
        let session = named_cookie(&res, "yw_app").unwrap();
        assert_eq!(
            site.get("/me", Some(&session)).await.status(),
            StatusCode::OK,
            "{b}"
        );
        // The pending sign-in is used up.
        let res = site
            .post(
                "/login/code",
                Some(&pending),
                &[("code", next_code.as_str())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), "/login");

        // Turning it off needs a current code.
        let res = site
            .post(
                "/me/security/totp/off",
                Some(&session),
                &[("code", "000000")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        site.clock.advance(30_000);
        let c3 = yiwang_store::totp::code_at(&secret, site.clock.now()).unwrap();
        let res = site
            .post(
                "/me/security/totp/off",
                Some(&session),
                &[("code", c3.as_str())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(
            db.store.applicant_totp(a.id).await.unwrap().is_none(),
            "{b}"
        );
    }
}

#[tokio::test]
async fn applicants_change_their_password_and_log_out_everywhere() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, first) = registered(&mut db).await;
        let res = site
            .post("/login", None, &[("id_number", ID), ("password", PASSWORD)])
            .await;
        let second = named_cookie(&res, "yw_app").unwrap();
        let new = "Xin-Mima-2026!";
        let res = site
            .post(
                "/me/security/password",
                Some(&first),
                &[("old", "wrong-Password-1"), ("new", new), ("again", new)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let res = site
            .post(
                "/me/security/password",
                Some(&first),
                &[("old", PASSWORD), ("new", "short"), ("again", "short")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}: weak");
        let res = site
            .post(
                "/me/security/password",
                Some(&first),
                &[("old", PASSWORD), ("new", new), ("again", new)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(
            site.get("/me", Some(&first)).await.status(),
            StatusCode::OK,
            "{b}: this session stays"
        );
        assert_eq!(
            site.get("/me", Some(&second)).await.status(),
            StatusCode::SEE_OTHER,
            "{b}: others end"
        );
        let res = site
            .post("/login", None, &[("id_number", ID), ("password", new)])
            .await;
        assert!(
            named_cookie(&res, "yw_app").is_some(),
            "{b}: the new password works"
        );
        let res = site.post("/me/logout-all", Some(&first), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(
            site.get("/me", Some(&first)).await.status(),
            StatusCode::SEE_OTHER,
            "{b}: ended"
        );
    }
}

#[tokio::test]
async fn a_locked_applicant_is_unlocked_by_an_administrator() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, _session) = registered(&mut db).await;
        for _ in 0..5 {
            site.post(
                "/login",
                None,
                &[("id_number", ID), ("password", "Wrong-Password-1")],
            )
            .await;
        }
        let res = site
            .post("/login", None, &[("id_number", ID), ("password", PASSWORD)])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "{b}: locked even with the right password"
        );
        let a = db
            .store
            .applicant_by_id_number(&yiwang_domain::case::ApplicantId::parse(ID).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(
            db.store
                .unlock_account(&a.handle, None, "admin", "t", 1)
                .await
                .unwrap(),
            "{b}"
        );
        let res = site
            .post("/login", None, &[("id_number", ID), ("password", PASSWORD)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}: unlocked");
    }
}
