//! Password reset over real HTTP on every backend.
//!
//! Applicants (忘记密码): a code by SMS (read here from the outbox row, as the dispatcher would
//! send it) sets a new password; every session ends; the answer is the same for an unknown
//! identifier or a wrong phone (and nothing is sent); wrong codes are counted and lock the code
//! after five; codes expire and work once; requests and codes are throttled (429 with
//! Retry-After); with TOTP on, a current authenticator code is needed too.
//!
//! Staff: an administrator's reset shows a temporary password once and ends the account's
//! sessions; the old password stops working; signing in with the temporary password leads to
//! the "choose a new password" step before any session.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::auth::{
    PASSWORD as STAFF_PASSWORD, Site, create_users, location, named_cookie, serve,
};
use reqwest::StatusCode;
use reqwest::header::{RETRY_AFTER, SET_COOKIE};
use yiwang_app::clock::Clock;
use yiwang_domain::case::ApplicantId;
use yiwang_store::password_reset::{RESET_CODE_MESSAGE, RESET_CODE_TTL_MS};
use yiwang_testkit::{TestDb, backends, with_test_keys};

const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";
const PASSWORD: &str = "Shenqing-2026!";
const NEW: &str = "Xin-Mima-2026!";

/// A resident ID number of 1949-12-31 with sequence `seq`, with its GB 11643 check digit.
fn resident_id(seq: u32) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!("11010519491231{seq:03}");
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize])
}

/// Data keys, a server, and the applicant `ID` registered: the site, the session, its id.
async fn registered(db: &mut TestDb) -> (Site, String, i64) {
    db.store = with_test_keys(db.store.clone());
    let site = serve(db, true).await;
    let session = site.register_applicant("张三", ID, PHONE, PASSWORD).await;
    let a = db
        .store
        .applicant_by_id_number(&ApplicantId::parse(ID).unwrap())
        .await
        .unwrap()
        .unwrap();
    (site, session, a.id)
}

/// Asks for a code; returns the ticket cookie (asserting the usual answer).
async fn ask(site: &Site, id: &str, phone: &str) -> String {
    let res = site
        .post(
            "/login/forgot",
            None,
            &[("id_number", id), ("phone", phone)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{id} {phone}");
    assert_eq!(location(&res), "/login/reset");
    named_cookie(&res, "yw_app_reset").expect("a ticket, whatever the answer")
}

/// Codes sent by SMS to the applicant so far, newest first.
async fn sent_codes(db: &TestDb, applicant: i64) -> Vec<String> {
    db.store
        .outbox_for_applicant(applicant, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template_key == RESET_CODE_MESSAGE)
        .map(|m| m.args["code"].as_str().unwrap().to_string())
        .collect()
}

async fn enter(site: &Site, ticket: &str, code: &str, totp: &str) -> reqwest::Response {
    site.post(
        "/login/reset",
        Some(ticket),
        &[("code", code), ("totp", totp), ("new", NEW), ("again", NEW)],
    )
    .await
}

async fn sign_in(site: &Site, password: &str) -> reqwest::Response {
    site.post("/login", None, &[("id_number", ID), ("password", password)])
        .await
}

#[tokio::test]
async fn an_applicant_resets_a_forgotten_password_by_sms() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, first, applicant) = registered(&mut db).await;
        let second = named_cookie(&sign_in(&site, PASSWORD).await, "yw_app").unwrap();

        let login = site.get("/login", None).await.text().await.unwrap();
        assert!(login.contains("href=\"/login/forgot\""), "{b}: the link");
        assert_eq!(
            site.get("/login/forgot", None).await.status(),
            StatusCode::OK
        );

        // An unknown identifier and a wrong phone get exactly the usual answer; nothing is sent.
        let unknown = ask(&site, &resident_id(100), PHONE).await;
        let wrong_phone = ask(&site, ID, "13900139000").await;
        assert!(
            sent_codes(&db, applicant).await.is_empty(),
            "{b}: nothing sent"
        );
        let page_of = |t: String| {
            let site = &site;
            async move {
                site.get("/login/reset", Some(&t))
                    .await
                    .text()
                    .await
                    .unwrap()
            }
        };
        let unknown_page = page_of(unknown.clone()).await;
        let ticket = ask(&site, ID, PHONE).await;
        let known_page = page_of(ticket.clone()).await;
        assert_eq!(unknown_page, known_page, "{b}: the same page");
        let codes = sent_codes(&db, applicant).await;
        assert_eq!(codes.len(), 1, "{b}: one SMS");
        let code = codes[0].clone();
        assert_eq!(code.len(), 6);

        // An unknown or wrong-phone ticket is refused like a wrong code.
        for t in [&unknown, &wrong_phone] {
            let res = enter(&site, t, &code, "").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        }
        // The new password twice and by the policy (no try counted).
        let res = site
            .post(
                "/login/reset",
                Some(&ticket),
                &[("code", &code), ("new", NEW), ("again", "Other-Mima-2026!")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let res = site
            .post(
                "/login/reset",
                Some(&ticket),
                &[("code", &code), ("new", "short"), ("again", "short")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let res = enter(&site, &ticket, wrong, "").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: a wrong code");

        let res = enter(&site, &ticket, &code, "").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), "/login?reset=done");
        assert!(
            res.headers()
                .get_all(SET_COOKIE)
                .iter()
                .any(|v| v.to_str().unwrap().starts_with("yw_app_reset=;")),
            "{b}: the ticket is cleared"
        );

        // Every session ended; the old password no longer works, the new one does.
        for s in [&first, &second] {
            assert_eq!(
                site.get("/me", Some(s)).await.status(),
                StatusCode::SEE_OTHER,
                "{b}: session ended"
            );
        }
        assert_eq!(
            sign_in(&site, PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED,
            "{b}"
        );
        let res = sign_in(&site, NEW).await;
        let session = named_cookie(&res, "yw_app").expect("signed in with the new password");
        let messages = site
            .get("/me/messages", Some(&session))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            messages.contains(yiwang_i18n::t(
                yiwang_i18n::Lang::Zh,
                "notify.password_reset_done"
            )),
            "{b}: the message centre tells"
        );
        // The code worked once.
        let res = enter(&site, &ticket, &code, "").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: used");
        // The audit log has the request and the reset, under the applicant's handle.
        let log = db
            .store
            .audit_entries(&yiwang_store::AuditFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        for action in [
            "password.reset_request",
            "password.reset",
            "password.reset_refused",
        ] {
            assert!(
                log.iter().any(|e| e.event.action == action
                    && e.event.object == format!("applicant:applicant-{applicant}")),
                "{b}: {action}"
            );
        }
    }
}

#[tokio::test]
async fn wrong_codes_lock_a_code_and_codes_expire() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, _, applicant) = registered(&mut db).await;

        let ticket = ask(&site, ID, PHONE).await;
        let code = sent_codes(&db, applicant).await[0].clone();
        for i in 0..5 {
            let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
            let res = enter(&site, &ticket, &wrong, "").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: wrong {i}");
        }
        let res = enter(&site, &ticket, &code, "").await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{b}: locked after five wrong codes"
        );

        site.clock.advance(60_000);
        let ticket = ask(&site, ID, PHONE).await;
        let code = sent_codes(&db, applicant).await[0].clone();
        site.clock.advance(RESET_CODE_TTL_MS);
        let res = enter(&site, &ticket, &code, "").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: expired");
        assert_eq!(
            sign_in(&site, PASSWORD).await.status(),
            StatusCode::SEE_OTHER,
            "{b}: the password is unchanged"
        );
    }
}

#[tokio::test]
async fn requests_and_codes_are_throttled() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, _, applicant) = registered(&mut db).await;

        // Per identifier, whether or not it is registered: five an hour.
        let stranger = resident_id(101);
        for _ in 0..5 {
            ask(&site, &stranger, PHONE).await;
        }
        let res = site
            .post(
                "/login/forgot",
                None,
                &[("id_number", stranger.as_str()), ("phone", PHONE)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{b}");
        let retry: i64 = res.headers()[RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3600).contains(&retry), "{b}: {retry}");
        // The same for a registered identifier (no difference to be seen).
        for _ in 0..5 {
            ask(&site, ID, PHONE).await;
        }
        let res = site
            .post(
                "/login/forgot",
                None,
                &[("id_number", ID), ("phone", PHONE)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{b}");
        assert_eq!(sent_codes(&db, applicant).await.len(), 5, "{b}");

        // Per address: twenty an hour, whatever the identifiers.
        for seq in 0..8 {
            ask(&site, &resident_id(200 + seq), PHONE).await;
        }
        let res = site
            .post(
                "/login/forgot",
                None,
                &[("id_number", resident_id(300).as_str()), ("phone", PHONE)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{b}");
        assert!(res.headers().contains_key(RETRY_AFTER), "{b}");
        site.clock.advance(3_600_000);
        ask(&site, &resident_id(300), PHONE).await;

        // Wrong codes from one address: twenty in fifteen minutes.
        for _ in 0..20 {
            let res = enter(&site, "yw_app_reset=00", "123456", "").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        }
        let res = enter(&site, "", "123456", "").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{b}");
        assert!(res.headers().contains_key(RETRY_AFTER), "{b}");
    }
}

#[tokio::test]
async fn with_one_time_codes_on_the_phone_alone_is_not_enough() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, _, applicant) = registered(&mut db).await;
        let a = db.store.applicant(applicant).await.unwrap().unwrap();
        let secret = yiwang_store::totp::new_secret();
        db.store
            .set_applicant_totp(&a, Some(&secret), "test", site.clock.now_ms())
            .await
            .unwrap();

        let ticket = ask(&site, ID, PHONE).await;
        let code = sent_codes(&db, applicant).await[0].clone();
        let res = enter(&site, &ticket, &code, "").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: TOTP missing");
        let res = enter(&site, &ticket, &code, "000000").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}: TOTP wrong");
        site.clock.advance(30_000);
        let totp = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = enter(&site, &ticket, &code, &totp).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        // Signing in still asks for the second step.
        let res = sign_in(&site, NEW).await;
        assert!(location(&res).starts_with("/login/code"), "{b}");
    }
}

fn temporary_of(html: &str) -> String {
    html.split("id=\"temporary-password\" class=\"code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn staff_choose_a_new_password_after_an_administrators_reset() {
    for db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_demo(&db).await;
        let ids = create_users(&db).await;
        let township = ids[2];
        let site = serve(&db, true).await;
        let admin = site.sign_in(&db, "admin").await;
        let clerk = site.sign_in(&db, "clerk").await;
        let before = site.sign_in(&db, "township").await;

        // Needs ManageUsers over the account.
        let path = format!("/console/users/{township}/password");
        let res = site.post(&path, Some(&clerk), &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        let res = site
            .post("/console/users/99999/password", Some(&admin), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}");

        let list = site
            .get("/console/users", Some(&admin))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            list.contains(&format!("action=\"{path}\"")),
            "{b}: the button"
        );
        let res = site.post(&path, Some(&admin), &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let temp = temporary_of(&res.text().await.unwrap());
        assert!(yiwang_store::password_acceptable(&temp), "{b}: {temp}");
        assert!(!site.signed_in(&before).await, "{b}: sessions ended");
        assert!(site.signed_in(&admin).await, "{b}");
        assert!(
            db.store.must_change_password(township).await.unwrap(),
            "{b}"
        );
        let log = db
            .store
            .audit_entries(&yiwang_store::AuditFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        let entry = log
            .iter()
            .find(|e| e.event.action == "password.reset_by_admin")
            .expect("audited");
        assert_eq!(entry.event.actor, "admin");
        assert_eq!(entry.event.object, "user:township");
        assert!(
            !entry.event.detail.contains(&temp),
            "{b}: never the password"
        );

        // The old password is refused; the temporary one and the code lead to the new-password
        // step, without a session.
        let res = site.password("township", STAFF_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        site.clock.advance(30_000);
        let res = site.password("township", &temp).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let pending = named_cookie(&res, "yw_pending").unwrap();
        let secret = db.store.user_totp(township).await.unwrap().unwrap().secret;
        let code = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = site.code(&pending, &code).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(
            location(&res).starts_with("/console/login/password"),
            "{b}: {}",
            location(&res)
        );
        assert!(
            named_cookie(&res, "yw_session").is_none(),
            "{b}: no session yet"
        );
        let pending = named_cookie(&res, "yw_pending").unwrap();
        assert!(
            !site.signed_in(&pending).await,
            "{b}: nothing else is reachable"
        );
        // The code step is done; posting a code again only points to the new-password step.
        let res = site.code(&pending, &code).await;
        assert!(location(&res).starts_with("/console/login/password"), "{b}");
        let res = site
            .get("/console/login/password?next=/console", Some(&pending))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");

        let change = |new: String, again: String| {
            let site = &site;
            let pending = pending.clone();
            async move {
                site.post(
                    "/console/login/password",
                    Some(&pending),
                    &[("new", &new), ("again", &again), ("next", "/console")],
                )
                .await
            }
        };
        let res = change(temp.clone(), temp.clone()).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: not the temporary"
        );
        let res = change("short".into(), "short".into()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}: weak");
        let res = change("Xin-Mima-2026!".into(), "Xin-Mima-2027!".into()).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: mismatch"
        );
        let res = change("Xin-Mima-2026!".into(), "Xin-Mima-2026!".into()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), "/console");
        let session = named_cookie(&res, "yw_session").unwrap();
        assert!(site.signed_in(&session).await, "{b}");
        assert!(!db.store.must_change_password(township).await.unwrap());
        // The step is used up; the temporary password no longer works.
        let res = change("Xin-Mima-2028!".into(), "Xin-Mima-2028!".into()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        let res = site.password("township", &temp).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        assert!(
            db.store
                .authenticate("township", "Xin-Mima-2026!")
                .await
                .unwrap()
                .is_some()
        );
    }
}

/// Issue 13 (4): a successful password reset lifts the account's lock (whoever proves the
/// phone owns the account again), so a stranger's wrong passwords cannot keep it shut.
#[tokio::test]
async fn a_password_reset_lifts_the_lock() {
    for mut db in backends().await {
        let b = db.backend.name();
        let (site, _, applicant) = registered(&mut db).await;
        for _ in 0..5 {
            sign_in(&site, "Wrong-Password-1").await;
        }
        assert_eq!(
            sign_in(&site, PASSWORD).await.status(),
            StatusCode::FORBIDDEN,
            "{b}: locked"
        );
        let ticket = ask(&site, ID, PHONE).await;
        let code = sent_codes(&db, applicant).await[0].clone();
        let res = enter(&site, &ticket, &code, "").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let res = sign_in(&site, NEW).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{b}: the lock is lifted"
        );
        assert!(named_cookie(&res, "yw_app").is_some(), "{b}");
    }
}

/// Issue 13 (5): staff TOTP is no longer trust-on-first-use for whoever knows a temporary
/// password. An account reset by an administrator before its owner enrolled chooses its own
/// new password first and enrols the authenticator only then, in the same browser.
#[tokio::test]
async fn after_an_administrators_reset_enrolment_comes_after_the_new_password() {
    for db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_demo(&db).await;
        let ids = create_users(&db).await;
        let clerk = ids[1];
        let site = serve(&db, true).await;
        let admin = site.sign_in(&db, "admin").await;
        // The clerk never signed in: no authenticator yet.
        assert!(db.store.user_totp(clerk).await.unwrap().is_none());
        let res = site
            .post(
                &format!("/console/users/{clerk}/password"),
                Some(&admin),
                &[],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        let temp = temporary_of(&res.text().await.unwrap());

        // The temporary password leads to the new-password step, not to enrolment.
        site.clock.advance(30_000);
        let res = site.password("clerk", &temp).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(
            location(&res).starts_with("/console/login/password"),
            "{b}: {}",
            location(&res)
        );
        let pending = named_cookie(&res, "yw_pending").unwrap();
        let res = site.get("/console/login/totp", Some(&pending)).await;
        assert!(
            location(&res).starts_with("/console/login/password"),
            "{b}: no key offered before the new password"
        );
        let res = site.code(&pending, "123456").await;
        assert!(location(&res).starts_with("/console/login/password"), "{b}");
        assert!(db.store.user_totp(clerk).await.unwrap().is_none(), "{b}");

        // The new password, then enrolment with a fresh pending sign-in, then the session.
        let new = "Xin-Mima-2026!";
        let res = site
            .post(
                "/console/login/password",
                Some(&pending),
                &[("new", new), ("again", new), ("next", "/console")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(
            location(&res).starts_with("/console/login/totp"),
            "{b}: {}",
            location(&res)
        );
        assert!(named_cookie(&res, "yw_session").is_none(), "{b}");
        let enrol = named_cookie(&res, "yw_pending").unwrap();
        assert_ne!(enrol, pending, "{b}: a new pending sign-in");
        let html = site
            .get("/console/login/totp", Some(&enrol))
            .await
            .text()
            .await
            .unwrap();
        let secret = crate::support::auth::enrol_secret(&html).expect("key offered now");
        let code = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = site.code(&enrol, &code).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let session = named_cookie(&res, "yw_session").unwrap();
        assert!(site.signed_in(&session).await, "{b}");
        assert_eq!(
            db.store.user_totp(clerk).await.unwrap().unwrap().secret,
            secret,
            "{b}"
        );
        // The temporary password is spent.
        let res = site.password("clerk", &temp).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
    }
}
