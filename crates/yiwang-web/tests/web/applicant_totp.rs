//! Applicants may turn on a one-time code, on every backend: enrolment needs a correct code
//! from the offered key (stored encrypted), sign-in then needs the code after the password
//! (a wrong one counts as a failure, a used one is refused), and turning it off needs a code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::auth::{location, named_cookie, serve};
use reqwest::StatusCode;
use yiwang_app::clock::Clock;
use yiwang_testkit::{backends, with_demo, with_test_keys};

const ID: &str = "11010519491231002X";
const PASSWORD: &str = "Shenqing-2026!";

/// Demo data, data keys, a server, and the applicant `ID` registered: the site and the session.
async fn registered(db: &mut yiwang_testkit::TestDb) -> (crate::support::auth::Site, String) {
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
        // The key is also offered as a QR code of its otpauth link, for the phone's camera.
        let scanned = crate::support::qr::decode_svg(&html, "totp-qr").expect("a QR code");
        assert!(scanned.starts_with("otpauth://totp/"), "{b}: {scanned}");
        assert!(
            scanned.contains(&format!("secret={secret}")),
            "{b}: {scanned}"
        );
        let res = site
            .post(
                "/me/security/totp",
                Some(&me),
                &[("secret", secret.as_str()), ("code", "000000")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let code = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
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
        let next_code = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
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
        let c3 = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
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

/// Turns the one-time code on for the signed-in applicant; returns the key.
async fn turn_on(site: &crate::support::auth::Site, me: &str) -> String {
    let html = site
        .get("/me/security", Some(me))
        .await
        .text()
        .await
        .unwrap();
    let secret = secret_of(&html);
    let code = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
    let res = site
        .post(
            "/me/security/totp",
            Some(me),
            &[("secret", secret.as_str()), ("code", code.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    secret
}

/// The password step of an applicant with codes on: the pending cookie.
async fn pending_of(site: &crate::support::auth::Site) -> String {
    let res = site
        .post(
            "/login",
            None,
            &[("id_number", ID), ("password", PASSWORD), ("next", "/me")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/login/code"));
    named_cookie(&res, "yw_app_pending").unwrap()
}

async fn code(site: &crate::support::auth::Site, pending: &str, code: &str) -> reqwest::Response {
    site.post(
        "/login/code",
        Some(pending),
        &[("code", code), ("next", "/me")],
    )
    .await
}

/// A six-digit code that is not the right one now.
fn wrong_code(secret: &str, now: i64) -> &'static str {
    let right = yiwang_store::totp::code_at(secret, now).unwrap();
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// Issue 13 (5): wrong codes count against the account's lock and end the pending sign-in
/// after three; a locked account's pending sign-in ends. (Before: after six wrong codes the
/// right one still signed in.)
#[tokio::test]
async fn wrong_codes_end_the_pending_sign_in_and_count_against_the_lock() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, me) = registered(&mut db).await;
        let secret = turn_on(&site, &me).await;
        site.clock.advance(30_000);

        // Three wrong codes end the pending sign-in: the right one is then refused.
        let pending = pending_of(&site).await;
        let wrong = wrong_code(&secret, site.clock.now_ms());
        for i in 0..2 {
            let res = code(&site, &pending, wrong).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: {i}");
        }
        let res = code(&site, &pending, wrong).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        assert!(
            res.text().await.unwrap().contains("本次登录已结束"),
            "{b}: says so"
        );
        let right = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = code(&site, &pending, &right).await;
        assert!(named_cookie(&res, "yw_app").is_none(), "{b}: ended");
        assert_eq!(location(&res), "/login", "{b}");

        // Three failures so far; two more wrong codes lock the account, and the pending
        // sign-in ends with the lock: the right code no longer signs in.
        let pending = pending_of(&site).await;
        let res = code(&site, &pending, wrong).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        let res = code(&site, &pending, wrong).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}: locked");
        let res = code(&site, &pending, &right).await;
        assert!(named_cookie(&res, "yw_app").is_none(), "{b}: no session");
        let res = site
            .post("/login", None, &[("id_number", ID), ("password", PASSWORD)])
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}: locked");
    }
}

/// Issue 13 (5): `POST /me/security/totp` replaces a key that is on only with a code from
/// the current key.
#[tokio::test]
async fn replacing_the_key_needs_a_code_from_the_current_one() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, me) = registered(&mut db).await;
        let old = turn_on(&site, &me).await;
        let a = db
            .store
            .applicant_by_id_number(&yiwang_domain::case::ApplicantId::parse(ID).unwrap())
            .await
            .unwrap()
            .unwrap();
        site.clock.advance(30_000);
        let new = yiwang_store::totp::new_secret();
        let new_code = yiwang_store::totp::code_at(&new, site.clock.now_ms()).unwrap();
        // Without the current code (a stolen session): refused, the key stays.
        let res = site
            .post(
                "/me/security/totp",
                Some(&me),
                &[("secret", new.as_str()), ("code", new_code.as_str())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(res.text().await.unwrap().contains("当前验证器"), "{b}");
        let wrong = wrong_code(&old, site.clock.now_ms());
        let res = site
            .post(
                "/me/security/totp",
                Some(&me),
                &[
                    ("secret", new.as_str()),
                    ("code", new_code.as_str()),
                    ("current", wrong),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(
            db.store.applicant_totp(a.id).await.unwrap().as_deref(),
            Some(old.as_str()),
            "{b}: unchanged"
        );
        // With it: replaced.
        let current = yiwang_store::totp::code_at(&old, site.clock.now_ms()).unwrap();
        let res = site
            .post(
                "/me/security/totp",
                Some(&me),
                &[
                    ("secret", new.as_str()),
                    ("code", new_code.as_str()),
                    ("current", current.as_str()),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(
            db.store.applicant_totp(a.id).await.unwrap().as_deref(),
            Some(new.as_str()),
            "{b}: replaced"
        );
    }
}

/// The text of the sign-in answer without the minutes (which move with the clock).
fn answer_of(html: &str) -> String {
    html.split("role=\"alert\"")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_string()
}

/// Issue 13 (4): an applicant lock ends by itself (growing delays), a number without an account
/// answers exactly like a registered one (and locks the same), and the locks of applicants are
/// listed for (and lifted by) an administrator whose scope is everything — by handle, never
/// by ID number.
#[tokio::test]
async fn applicant_locks_expire_are_listed_and_unknown_numbers_answer_the_same() {
    const UNKNOWN: &str = "120112199001011238";
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, _) = registered(&mut db).await;
        crate::support::auth::create_users(&db).await;
        let login = |id: &'static str, pw: &'static str| {
            let site = &site;
            async move {
                site.post("/login", None, &[("id_number", id), ("password", pw)])
                    .await
            }
        };
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for _ in 0..6 {
            let r = login(ID, "Wrong-Password-1").await;
            known.push((r.status(), answer_of(&r.text().await.unwrap())));
            let r = login(UNKNOWN, "Wrong-Password-1").await;
            unknown.push((r.status(), answer_of(&r.text().await.unwrap())));
        }
        assert_eq!(known, unknown, "{b}: the same answers");
        // The audit log names the unknown number by no digest of it.
        let log = db
            .store
            .audit_entries(&yiwang_store::AuditFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            log.iter().any(|e| e.event.actor == "applicant-unknown"),
            "{b}"
        );
        assert!(
            !log.iter()
                .any(|e| e.event.actor.starts_with("applicant-unknown-")
                    || e.event.object.contains("applicant-unknown-")),
            "{b}"
        );
        assert_eq!(known[3].0, StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(known[4].0, StatusCode::FORBIDDEN, "{b}: the fifth locks");
        assert!(known[5].1.contains("已被锁定"), "{b}: {:?}", known[5]);

        // Listed for the platform administrator (handle and masked name only), not for a
        // township administrator.
        let a = db
            .store
            .applicant_by_id_number(&yiwang_domain::case::ApplicantId::parse(ID).unwrap())
            .await
            .unwrap()
            .unwrap();
        let admin = site.sign_in(&db, "admin").await;
        let township = site.sign_in(&db, "township").await;
        let html = site
            .get("/console/locks", Some(&admin))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!(">{}<", a.handle)), "{b}: {html}");
        assert!(html.contains("张*"), "{b}: masked name");
        assert!(
            !html.contains(ID) && !html.contains("张三"),
            "{b}: no personal data"
        );
        let html = site
            .get("/console/locks", Some(&township))
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains(&a.handle), "{b}");
        let res = site
            .post(
                "/console/locks/unlock",
                Some(&township),
                &[("username", a.handle.as_str())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}");
        let res = site
            .post(
                "/console/locks/unlock",
                Some(&admin),
                &[("username", a.handle.as_str())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(
            login(ID, PASSWORD).await.status(),
            StatusCode::SEE_OTHER,
            "{b}: unlocked"
        );

        // The unknown number's lock ends by itself after fifteen minutes.
        site.clock.advance(15 * 60 * 1000);
        assert_eq!(
            login(UNKNOWN, "Wrong-Password-1").await.status(),
            StatusCode::UNAUTHORIZED,
            "{b}: lock over"
        );
        // A lock, again: it ends by itself too.
        for _ in 0..5 {
            login(ID, "Wrong-Password-1").await;
        }
        assert_eq!(login(ID, PASSWORD).await.status(), StatusCode::FORBIDDEN);
        site.clock.advance(15 * 60 * 1000);
        assert_eq!(
            login(ID, PASSWORD).await.status(),
            StatusCode::SEE_OTHER,
            "{b}: lock over"
        );
    }
}

/// Issue 13 (6): parallel wrong passwords for an applicant get no more real checks than the
/// limit of five.
#[tokio::test]
async fn parallel_wrong_applicant_passwords_get_no_more_checks_than_the_limit() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, _) = registered(&mut db).await;
        let site = std::sync::Arc::new(site);
        let before = db.store.password_checks();
        let tries: Vec<_> = (0..60)
            .map(|_| {
                let site = site.clone();
                tokio::spawn(async move {
                    site.post(
                        "/login",
                        None,
                        &[("id_number", ID), ("password", "Wrong-Password-1")],
                    )
                    .await
                    .status()
                })
            })
            .collect();
        for t in tries {
            let s = t.await.unwrap();
            assert!(
                matches!(
                    s,
                    StatusCode::UNAUTHORIZED
                        | StatusCode::FORBIDDEN
                        | StatusCode::TOO_MANY_REQUESTS
                ),
                "{b}: {s}"
            );
        }
        let checks = db.store.password_checks() - before;
        assert!(
            (1..=5).contains(&checks),
            "{b}: {checks} real checks for a limit of 5"
        );
    }
}
