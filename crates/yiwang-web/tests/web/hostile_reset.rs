//! Hostile input to the password-reset forms over real HTTP on every backend: the applicant's
//! code request (identifier, phone) and code entry (code, TOTP code, new password twice), the
//! staff's "choose a new password" step, and the administrator's reset with forged account ids.
//! Expected: a clear 4xx, never a 5xx, output escaped, no code sent and no password changed by
//! a refused request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::auth::{Site, location, named_cookie, serve};
use crate::support::security::{BAD_UTF8, Log, assert_escaped, encode, hostile_values};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN};
use yiwang_app::clock::Clock;
use yiwang_domain::case::ApplicantId;
use yiwang_testkit::{TestDb, backends, with_demo, with_test_keys};

const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";
const PASSWORD: &str = "Shenqing-2026!";
const NEW: &str = "Xin-Mima-2026!";

async fn password_hash(db: &TestDb) -> String {
    db.store
        .applicant_for_login(&ApplicantId::parse(ID).unwrap())
        .await
        .unwrap()
        .unwrap()
        .1
}

async fn sms_count(db: &TestDb, applicant: i64) -> usize {
    db.store
        .outbox_for_applicant(applicant, 1000)
        .await
        .unwrap()
        .len()
}

async fn raw_form(site: &Site, path: &str, cookie: &str, body: String) -> StatusCode {
    site.client
        .post(site.url(path))
        .header(ORIGIN, site.base.clone())
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn password_reset_forms_refuse_hostile_input() {
    for mut db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        db.store = with_test_keys(db.store.clone());
        let ids = crate::support::auth::create_users(&db).await;
        let site = serve(&db, true).await;
        let mut log = Log::new("password reset");
        site.post(
            "/register",
            None,
            &[
                ("name", "张三"),
                ("id_number", ID),
                ("phone", PHONE),
                ("password", PASSWORD),
                ("again", PASSWORD),
            ],
        )
        .await;
        let applicant = db
            .store
            .applicant_by_id_number(&ApplicantId::parse(ID).unwrap())
            .await
            .unwrap()
            .unwrap()
            .id;
        let hash = password_hash(&db).await;

        // Asking for a code: either field hostile (the other one right): refused, nothing sent.
        for (label, v) in hostile_values() {
            for field in ["id_number", "phone"] {
                let mut form = vec![("id_number", ID.to_string()), ("phone", PHONE.to_string())];
                form.retain(|(k, _)| *k != field);
                form.push((field, v.clone()));
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                // Within the per-address limit (twenty an hour), so each value reaches the checks.
                site.clock.advance(4 * 60_000);
                let res = site.post("/login/forgot", None, &pairs).await;
                let s = res.status();
                log.record(&format!("POST /login/forgot ({field})"), &label, s);
                assert!(s.is_client_error(), "{b} forgot {field} {label}: {s}");
                assert_escaped(&res.text().await.unwrap(), &format!("forgot {label}"));
            }
        }
        for raw in BAD_UTF8 {
            site.clock.advance(4 * 60_000);
            let body = format!("id_number={raw}&phone={raw}");
            let s = raw_form(&site, "/login/forgot", "", body).await;
            log.record("POST /login/forgot", &format!("malformed UTF-8 `{raw}`"), s);
            assert!(s.is_client_error(), "{b}: {s}");
        }
        assert_eq!(sms_count(&db, applicant).await, 0, "{b}: nothing sent");

        // Entering the code with a real ticket: hostile code or TOTP code (a wrong code), or
        // a hostile new password (the other copy differs): refused, the password unchanged.
        site.clock.advance(3_600_000);
        let res = site
            .post(
                "/login/forgot",
                None,
                &[("id_number", ID), ("phone", PHONE)],
            )
            .await;
        assert_eq!(location(&res), "/login/reset", "{b}");
        let ticket = named_cookie(&res, "yw_app_reset").unwrap();
        assert_eq!(sms_count(&db, applicant).await, 1, "{b}");
        for (label, v) in hostile_values() {
            for field in ["code", "totp", "new", "again"] {
                let mut form = vec![
                    ("code", "12345x".to_string()),
                    ("totp", String::new()),
                    ("new", NEW.to_string()),
                    ("again", NEW.to_string()),
                ];
                form.retain(|(k, _)| *k != field);
                form.push((field, v.clone()));
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                // Within the per-address limit of wrong codes (twenty in fifteen minutes).
                site.clock.advance(60_000);
                let res = site.post("/login/reset", Some(&ticket), &pairs).await;
                let s = res.status();
                log.record(&format!("POST /login/reset ({field})"), &label, s);
                assert!(s.is_client_error(), "{b} reset {field} {label}: {s}");
                assert_escaped(&res.text().await.unwrap(), &format!("reset {label}"));
            }
        }
        for raw in BAD_UTF8 {
            let body = format!("code={raw}&new={raw}&again={raw}");
            let s = raw_form(&site, "/login/reset", &ticket, body).await;
            log.record("POST /login/reset", &format!("malformed UTF-8 `{raw}`"), s);
            assert!(s.is_client_error(), "{b}: {s}");
        }
        assert_eq!(
            password_hash(&db).await,
            hash,
            "{b}: the password is unchanged"
        );

        // Staff: the administrator's reset with ids that are not accounts (or not numbers).
        let township = ids[2];
        let admin = site.sign_in(&db, "admin").await;
        let clerk = site.sign_in(&db, "clerk").await;
        // Township signs in once, so its one-time code is set up.
        site.sign_in(&db, "township").await;
        for (label, v) in hostile_values() {
            if v.len() > 1000 {
                continue;
            }
            let path = format!("/console/users/{}/password", encode(&v));
            let res = site.post(&path, Some(&admin), &[]).await;
            let s = res.status();
            log.record("POST /console/users/{id}/password", &label, s);
            assert!(s.is_client_error(), "{b} {label}: {s}");
            assert_escaped(&res.text().await.unwrap(), &label);
        }
        let path = format!("/console/users/{township}/password");
        let res = site.post(&path, Some(&clerk), &[]).await;
        log.record(
            "POST /console/users/{id}/password",
            "an account outside the caller's permission",
            res.status(),
        );
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        assert!(
            !db.store.must_change_password(township).await.unwrap(),
            "{b}"
        );

        // The "choose a new password" step: without a pending sign-in, and with one.
        let res = site
            .post(
                "/console/login/password",
                None,
                &[("new", NEW), ("again", NEW)],
            )
            .await;
        log.record(
            "POST /console/login/password",
            "no pending sign-in",
            res.status(),
        );
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        let html = site
            .post(&path, Some(&admin), &[])
            .await
            .text()
            .await
            .unwrap();
        let temp = html
            .split("id=\"temporary-password\" class=\"code\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_string();
        site.clock.advance(30_000);
        let res = site.password("township", &temp).await;
        let pending = named_cookie(&res, "yw_pending").unwrap();
        let secret = db.store.user_totp(township).await.unwrap().unwrap().secret;
        let code = yiwang_store::totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = site.code(&pending, &code).await;
        let pending = named_cookie(&res, "yw_pending").unwrap();
        for (label, v) in hostile_values() {
            for field in ["new", "again", "next"] {
                let mut form = vec![
                    ("new", NEW.to_string()),
                    ("again", "Anders-2026!".to_string()),
                    ("next", "/console".to_string()),
                ];
                form.retain(|(k, _)| *k != field);
                form.push((field, v.clone()));
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let res = site
                    .post("/console/login/password", Some(&pending), &pairs)
                    .await;
                let s = res.status();
                log.record(
                    &format!("POST /console/login/password ({field})"),
                    &label,
                    s,
                );
                assert!(s.is_client_error(), "{b} change {field} {label}: {s}");
                assert_escaped(&res.text().await.unwrap(), &format!("change {label}"));
            }
        }
        assert!(
            db.store.must_change_password(township).await.unwrap(),
            "{b}"
        );
        log.finish(b);
    }
}
