//! Staff sign-in over real HTTP on every backend: TOTP enrolment on first sign-in, codes
//! computed from the stored key, wrong and replayed codes refused, lockout per account (lifted
//! by an administrator in the console or through the store) and 429 per client address.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::auth::*;
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use yiwang_app::clock::Clock;
use yiwang_store::totp;
use yiwang_testkit::{backends, with_demo};

#[tokio::test]
async fn enrol_then_sign_in_with_codes_wrong_and_replayed_refused() {
    for db in backends().await {
        with_demo(&db).await;
        let ids = create_users(&db).await;
        let site = serve(&db, false).await;
        let admin = ids[0];

        // No pending sign-in: the code step sends back to the password step.
        let res = site.get("/console/login/totp?next=/console", None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).starts_with("/console/login?next="));

        // First sign-in: the password leads to the enrolment page with the key as text.
        assert!(db.store.user_totp(admin).await.unwrap().is_none());
        let pending = site.pending("admin").await;
        let page = site.get("/console/login/totp", Some(&pending)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        let secret = enrol_secret(&html).expect("key shown");
        assert!(html.contains("otpauth://totp/"), "setup link shown");
        assert!(html.contains(r#"for="code""#), "labelled code field");
        assert_eq!(secret.len(), 32, "160-bit base32 key");

        // A wrong code: 401 with the message, no session, nothing enrolled.
        let right = totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        let res = site.code(&pending, wrong).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(named_cookie(&res, "yw_session").is_none());
        assert!(res.text().await.unwrap().contains("验证码不对"));
        assert!(db.store.user_totp(admin).await.unwrap().is_none());
        // (Each counts as a failure: four so far, one short of the lock.)
        for junk in ["", "12345", "１２３４５６"] {
            let res = site.code(&pending, junk).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{junk:?}");
        }

        // The right code enrols the key and signs in; the cookie is a session cookie.
        let res = site.code(&pending, &right).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console");
        let line = set_cookie_line(&res, "yw_session").unwrap();
        assert!(
            line.contains("HttpOnly") && line.contains("SameSite=Strict"),
            "{line}"
        );
        let session = named_cookie(&res, "yw_session").unwrap();
        assert!(site.signed_in(&session).await);
        let stored = db.store.user_totp(admin).await.unwrap().expect("enrolled");
        assert_eq!(stored.secret, secret);
        assert_eq!(stored.alg, "totp-sha1-6-30");
        // The pending sign-in is used up.
        let res = site.code(&pending, &right).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(named_cookie(&res, "yw_session").is_none());

        // Next sign-in, same 30-second step: the same code is a replay and is refused.
        let pending = site.pending("admin").await;
        let page = site.get("/console/login/totp", Some(&pending)).await;
        let html = page.text().await.unwrap();
        assert!(enrol_secret(&html).is_none(), "no key once enrolled");
        let res = site.code(&pending, &right).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.text().await.unwrap().contains("已经用过"));
        // The code of the next step (computed from the stored key) works.
        site.clock.advance(30_000);
        let next = totp::code_at(&stored.secret, site.clock.now_ms()).unwrap();
        let res = site.code(&pending, &next).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // A code from two steps ago is refused even though it was never used.
        let pending = site.pending("admin").await;
        site.clock.advance(60_000);
        let stale = totp::code_at(&stored.secret, site.clock.now_ms() - 90_000).unwrap();
        let fresh = totp::code_at(&stored.secret, site.clock.now_ms()).unwrap();
        if stale != fresh {
            let res = site.code(&pending, &stale).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }

        // A pending sign-in expires after five minutes.
        let pending = site.pending("clerk").await;
        site.clock.advance(5 * 60 * 1000 + 1);
        let res = site.code(&pending, "123456").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.text().await.unwrap().contains("登录已超时"));

        // Every step was audited.
        let n = db.store.audit_count().await.unwrap();
        assert!(n >= 10, "audit entries: {n}");
    }
}

#[tokio::test]
async fn lockout_after_failures_and_unlock() {
    for db in backends().await {
        with_demo(&db).await;
        let ids = create_users(&db).await;
        let site = serve(&db, false).await;
        let admin_session = site.sign_in(&db, "admin").await;
        let township_session = site.sign_in(&db, "township").await;

        // Four wrong passwords: 401; the fifth locks the account (423), and from then on even
        // the right password is refused without being checked.
        for i in 0..4 {
            let res = site.password("clerk", "Wrong-Password-1").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        }
        let res = site.password("clerk", "Wrong-Password-1").await;
        assert_eq!(res.status(), StatusCode::LOCKED);
        assert!(res.text().await.unwrap().contains("已被锁定"));
        let res = site.password("clerk", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::LOCKED);
        assert!(named_cookie(&res, "yw_pending").is_none());
        assert!(
            db.store
                .account_locked("clerk", site.clock.now_ms())
                .await
                .unwrap()
        );
        // An unknown username locks the same way (no hint which usernames exist).
        for _ in 0..5 {
            site.password("ghost", "Wrong-Password-1").await;
        }
        assert_eq!(
            site.password("ghost", PASSWORD).await.status(),
            StatusCode::LOCKED
        );

        // The township administrator's scope does not cover the clerk's department: the
        // locked account is not listed and cannot be unlocked by them.
        let (status, html) = page(&site, "/console/locks", &township_session).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains(">clerk<"), "{html}");
        let res = site
            .post(
                "/console/locks/unlock",
                Some(&township_session),
                &[("username", "clerk")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(
            db.store
                .account_locked("clerk", site.clock.now_ms())
                .await
                .unwrap()
        );
        // A user without ManageUsers may not open the page at all.
        let clerkless = site.get("/console/locks", None).await;
        assert_eq!(clerkless.status(), StatusCode::SEE_OTHER);

        // The platform administrator sees it and unlocks it with the button.
        let (_, html) = page(&site, "/console/locks", &admin_session).await;
        assert!(html.contains(">clerk<"), "{html}");
        let res = site
            .post(
                "/console/locks/unlock",
                Some(&admin_session),
                &[("username", "clerk")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            !db.store
                .account_locked("clerk", site.clock.now_ms())
                .await
                .unwrap()
        );
        let clerk = site.sign_in(&db, "clerk").await;
        assert!(site.signed_in(&clerk).await);

        // Wrong one-time codes count too: five lock the account; the store lifts it.
        for i in 0..5 {
            let pending = site.pending("clerk").await;
            let res = site.code(&pending, "000000").await;
            let expect = if i < 4 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::LOCKED
            };
            // (A real code could be 000000 once in a million; the clock is fixed, so it is not.)
            assert_eq!(res.status(), expect, "code attempt {i}");
        }
        assert!(
            db.store
                .account_locked("clerk", site.clock.now_ms())
                .await
                .unwrap()
        );
        assert!(
            db.store
                .unlock_account("clerk", Some(ids[0]), "admin", "test", site.clock.now_ms())
                .await
                .unwrap()
        );
        let clerk = site.sign_in(&db, "clerk").await;
        assert!(site.signed_in(&clerk).await);
    }
}

async fn page(site: &Site, path: &str, cookie: &str) -> (StatusCode, String) {
    let res = site.get(path, Some(cookie)).await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn too_many_failures_from_one_address_get_429_with_retry_after() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, true).await;
        // Twenty failures spread over many usernames (none gets locked); the twentieth is
        // already answered with 429…
        for i in 0..20 {
            let res = site
                .password(&format!("user{}", i % 10), "Wrong-Password-1")
                .await;
            let expect = if i < 19 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            assert_eq!(res.status(), expect, "attempt {i}");
        }
        // …then this address must wait, even with the right password.
        let res = site.password("admin", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: i64 = res
            .headers()
            .get(RETRY_AFTER)
            .expect("Retry-After")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=15 * 60).contains(&retry), "{retry}");
        let html = res.text().await.unwrap();
        assert!(html.contains("分钟后再试"), "{html}");
        // The one-time-code step is throttled the same way.
        let res = site.code("yw_pending=00", "123456").await;
        assert!(matches!(
            res.status(),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::UNAUTHORIZED
        ));
        // After the window the address may try again.
        site.clock.advance(15 * 60 * 1000 + 1);
        let res = site.password("admin", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            !db.store
                .account_locked("admin", site.clock.now_ms())
                .await
                .unwrap()
        );
    }
}

/// Issue 13 (6): sixty parallel wrong passwords for one account get no more real (Argon2)
/// checks than the account's limit of five: each attempt is reserved before the check.
/// Unknown and disabled accounts cost one check as well (equal work, item 10).
#[tokio::test]
async fn parallel_wrong_passwords_get_no_more_checks_than_the_limit() {
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        create_users(&db).await;
        // With connection info: the address counts too (twenty), the account stops at five.
        let site = std::sync::Arc::new(serve(&db, true).await);
        let before = db.store.password_checks();
        let tries: Vec<_> = (0..60)
            .map(|_| {
                let site = site.clone();
                tokio::spawn(
                    async move { site.password("clerk", "Wrong-Password-1").await.status() },
                )
            })
            .collect();
        let mut statuses = Vec::new();
        for t in tries {
            statuses.push(t.await.unwrap());
        }
        let checks = db.store.password_checks() - before;
        assert!(checks <= 5, "{b}: {checks} real checks for a limit of 5");
        assert!(checks >= 1, "{b}: {checks}");
        assert!(
            statuses.iter().all(|s| matches!(
                *s,
                StatusCode::UNAUTHORIZED | StatusCode::LOCKED | StatusCode::TOO_MANY_REQUESTS
            )),
            "{b}: {statuses:?}"
        );

        // Equal work: an unknown username costs one check, like a known one.
        site.clock.advance(3_600_000);
        let before = db.store.password_checks();
        let res = site.password("ghost-user", "Wrong-Password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(db.store.password_checks() - before, 1, "{b}: unknown");
        let res = site.password("township", "Wrong-Password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        assert_eq!(db.store.password_checks() - before, 2, "{b}: known");
    }
}

/// Issue 13 (4): a lock ends by itself (fifteen minutes, then longer for the next lock in a
/// row), so knowing a username is not enough to shut its owner out for good.
#[tokio::test]
async fn staff_locks_end_by_themselves_with_growing_delays() {
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, false).await;
        for _ in 0..5 {
            site.password("clerk", "Wrong-Password-1").await;
        }
        let res = site.password("clerk", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::LOCKED, "{b}");
        assert!(
            res.text().await.unwrap().contains("15 分钟后自动解锁"),
            "{b}"
        );
        site.clock.advance(15 * 60 * 1000);
        let res = site.password("clerk", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}: the lock ended");
        // Five more wrong passwords (no complete sign-in between): the second lock lasts 30
        // minutes.
        for _ in 0..5 {
            site.password("clerk", "Wrong-Password-1").await;
        }
        site.clock.advance(15 * 60 * 1000);
        let res = site.password("clerk", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::LOCKED, "{b}: still locked");
        assert!(
            res.text().await.unwrap().contains("15 分钟后自动解锁"),
            "{b}"
        );
        site.clock.advance(15 * 60 * 1000);
        let clerk = site.sign_in(&db, "clerk").await;
        assert!(site.signed_in(&clerk).await, "{b}");
        // A complete sign-in starts over: the next lock is fifteen minutes again.
        for _ in 0..5 {
            site.password("clerk", "Wrong-Password-1").await;
        }
        let res = site.password("clerk", PASSWORD).await;
        assert!(
            res.text().await.unwrap().contains("15 分钟后自动解锁"),
            "{b}"
        );
    }
}

/// Issue 13 (10): behind HTTPS the cookies are `__Host-` named (Secure, Path=/, no Domain),
/// and a cookie of the plain name — which a sibling subdomain could plant — is not read.
#[tokio::test]
async fn secure_cookies_are_host_prefixed() {
    use reqwest::header::SET_COOKIE;
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        let ids = create_users(&db).await;
        let site = crate::support::auth::serve_with(&db, false, true, |s| s).await;
        let res = site.password("admin", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let line = set_cookie_line(&res, "__Host-yw_pending").expect("pending cookie");
        assert!(
            line.contains("; Secure") && line.contains("Path=/;") && !line.contains("Domain"),
            "{b}: {line}"
        );
        assert!(
            res.headers()
                .get_all(SET_COOKIE)
                .iter()
                .all(|v| v.to_str().unwrap().starts_with("__Host-")),
            "{b}"
        );
        let pending = named_cookie(&res, "__Host-yw_pending").unwrap();
        let html = site
            .get("/console/login/totp", Some(&pending))
            .await
            .text()
            .await
            .unwrap();
        let secret = enrol_secret(&html).expect("key shown");
        // The plain name is not read: back to the password step.
        let plain = pending.replacen("__Host-", "", 1);
        let res = site.get("/console/login/totp", Some(&plain)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let code = totp::code_at(&secret, site.clock.now_ms()).unwrap();
        let res = site.code(&pending, &code).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let line = set_cookie_line(&res, "__Host-yw_session").expect("session cookie");
        assert!(
            line.contains("; Secure") && line.contains("Path=/;"),
            "{b}: {line}"
        );
        let session = named_cookie(&res, "__Host-yw_session").unwrap();
        assert!(site.signed_in(&session).await, "{b}");
        let plain = session.replacen("__Host-", "", 1);
        assert!(!site.signed_in(&plain).await, "{b}: plain name ignored");
        let _ = ids;
    }
}
