//! Sessions over real HTTP on every backend: a new session id at every sign-in (the old one
//! ends), idle and absolute timeouts on the test clock, "log out everywhere", password change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::auth::*;
use reqwest::StatusCode;
use yiwang_app::clock::Clock;
use yiwang_store::totp;
use yiwang_testkit::{backends, with_demo};

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn session_id_rotates_at_sign_in() {
    for db in backends().await {
        with_demo(&db).await;
        let ids = create_users(&db).await;
        let site = serve(&db, false).await;
        let before = site.sign_in(&db, "admin").await;
        assert!(site.signed_in(&before).await);

        // Signing in again from the same browser (which still sends the old cookie): the new
        // session has another id and the old one no longer works.
        site.clock.advance(30_000);
        let pending = site.pending("admin").await;
        let secret = db.store.user_totp(ids[0]).await.unwrap().unwrap().secret;
        let code = totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = site.code(&format!("{pending}; {before}"), &code).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let after = named_cookie(&res, "yw_session").unwrap();
        assert_ne!(before, after);
        assert!(site.signed_in(&after).await);
        assert!(!site.signed_in(&before).await, "old session ended");
        // The pending cookie is cleared and the pending sign-in cannot be used again.
        let cleared = set_cookie_line(&res, "yw_pending").unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        site.clock.advance(30_000);
        let code = totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = site.code(&pending, &code).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(named_cookie(&res, "yw_session").is_none());
    }
}

#[tokio::test]
async fn idle_and_absolute_timeouts() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, false).await;

        // Idle: used every 29 minutes the session lives on; 31 minutes unused end it.
        let s = site.sign_in(&db, "admin").await;
        for _ in 0..3 {
            site.clock.advance(29 * MINUTE);
            assert!(site.signed_in(&s).await);
        }
        site.clock.advance(31 * MINUTE);
        assert!(!site.signed_in(&s).await, "idle timeout");
        let res = site.get("/console", Some(&s)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).starts_with("/console/login"));

        // Absolute: even in constant use, a session ends eight hours after sign-in.
        let s = site.sign_in(&db, "admin").await;
        let mut elapsed = 0;
        while elapsed + 20 * MINUTE < 8 * 60 * MINUTE {
            site.clock.advance(20 * MINUTE);
            elapsed += 20 * MINUTE;
            assert!(site.signed_in(&s).await, "alive after {elapsed} ms");
        }
        site.clock.advance(8 * 60 * MINUTE - elapsed);
        assert!(!site.signed_in(&s).await, "absolute timeout");
    }
}

#[tokio::test]
async fn log_out_everywhere_ends_every_session() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, false).await;
        let phone = site.sign_in(&db, "admin").await;
        let desk = site.sign_in(&db, "admin").await;
        let other = site.sign_in(&db, "township").await;
        let (status, html) = {
            let res = site.get("/console/account", Some(&desk)).await;
            (res.status(), res.text().await.unwrap())
        };
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("/console/logout-all"), "button on the page");

        // A cross-site post changes nothing.
        let res = site
            .client
            .post(site.url("/console/logout-all"))
            .header(reqwest::header::COOKIE, &desk)
            .header(reqwest::header::ORIGIN, "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(site.signed_in(&phone).await);

        let res = site.post("/console/logout-all", Some(&desk), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let cleared = set_cookie_line(&res, "yw_session").unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        assert!(!site.signed_in(&desk).await);
        assert!(!site.signed_in(&phone).await);
        assert!(site.signed_in(&other).await, "other accounts keep theirs");
    }
}

#[tokio::test]
async fn password_change_checks_old_and_policy() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, false).await;
        let other = site.sign_in(&db, "admin").await;
        let s = site.sign_in(&db, "admin").await;
        let change = |old: &'static str, new: &'static str, again: &'static str| {
            let site = &site;
            let s = s.clone();
            async move {
                site.post(
                    "/console/account/password",
                    Some(&s),
                    &[("old", old), ("new", new), ("again", again)],
                )
                .await
            }
        };
        let res = change(
            "Wrong-Old-Password-1",
            "New-Password-2026",
            "New-Password-2026",
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("用户名或密码不正确"));
        let res = change(PASSWORD, "short", "short").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("中的三类"), "the policy message: {html}");
        let res = change(PASSWORD, "New-Password-2026", "New-Password-2027").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("不一样"));
        assert!(site.signed_in(&other).await, "failed attempts end nothing");

        let res = change(PASSWORD, "New-Password-2026", "New-Password-2026").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(site.signed_in(&s).await, "this session stays");
        assert!(!site.signed_in(&other).await, "other sessions end");
        let res = site.password("admin", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "old password gone");
        let res = site.password("admin", "New-Password-2026").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "new password works");
    }
}
