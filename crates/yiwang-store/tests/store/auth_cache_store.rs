//! Tokens and sessions kept in memory for a second, on every backend: a lookup answered from
//! memory still refuses what has expired or gone idle, still marks the row as used once a
//! minute, and every revocation in this process (token revoke, logout, log out everywhere,
//! password change and resets) is seen by the very next lookup.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::Phone;
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_store::applicants::Applicant;
use yiwang_store::password_reset::{ResetAttempt, ResetOutcome, ResetRequest};
use yiwang_store::tokens::token_digest;
use yiwang_store::{Actor, NewApiToken, NewUser, Store, staff_password};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_test_keys};

const T0: i64 = DEMO_NOW_MS;
const IDLE: i64 = 30 * 60_000;
const HOUR: i64 = 3_600_000;
const PASSWORD: &str = "Store-Test-2026";

async fn staff(s: &Store, name: &str) -> Principal {
    let id = s
        .create_user(
            &NewUser {
                username: name.into(),
                display_name: name.into(),
                password: PASSWORD.into(),
                grants: vec![Grant {
                    role: Role::PlatformAdmin,
                    region: None,
                    department: None,
                }],
            },
            &Actor::system("test"),
            T0,
        )
        .await
        .unwrap();
    s.principal(id).await.unwrap().unwrap()
}

async fn applicant(s: &Store) -> Applicant {
    yiwang_testkit::applicant(s, "11010519491231002X", "13800138000", T0).await
}

async fn staff_alive(s: &Store, hash: &str, now: i64) -> bool {
    s.active_session(hash, now, IDLE).await.unwrap().is_some()
}

async fn applicant_alive(s: &Store, hash: &str, now: i64) -> bool {
    s.active_applicant_session(hash, now, IDLE)
        .await
        .unwrap()
        .is_some()
}

async fn one_i64(s: &Store, sql: &str, key: &str) -> i64 {
    let (v,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(key.to_string())
        .fetch_one(s.pool())
        .await
        .unwrap();
    v
}

#[tokio::test]
async fn tokens_from_memory_expire_are_revoked_and_marked() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &db.store;
        yiwang_testkit::with_demo(&db).await;
        let admin = staff(s, "sun").await;
        let new = NewApiToken {
            name: "交换平台".into(),
            grant: Grant {
                role: Role::Auditor,
                region: Some(yiwang_domain::RegionCode::parse("120112").unwrap()),
                department: None,
            },
            expires_at: T0 + 10 * 60_000,
        };
        let (tid, raw) = s.create_api_token(&new, &admin, "test", T0).await.unwrap();
        let digest = token_digest(&raw);
        let last_used = "SELECT last_used_at FROM api_tokens WHERE token_hash = $1";

        // First use: read and marked; then kept (by digest only).
        assert!(s.api_token_by_raw(&raw, T0 + 1).await.unwrap().is_some());
        assert!(s.auth_cached(&digest), "{b}");
        assert!(!s.auth_cached(&raw), "{b}: never keyed by the raw token");
        assert_eq!(one_i64(s, last_used, &digest).await, T0 + 1, "{b}");
        // From memory while the mark is fresh; a minute later it is marked again.
        assert!(
            s.api_token_by_raw(&raw, T0 + 30_000)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(one_i64(s, last_used, &digest).await, T0 + 1, "{b}");
        assert!(
            s.api_token_by_raw(&raw, T0 + 61_001)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(one_i64(s, last_used, &digest).await, T0 + 61_001, "{b}");
        // Past its expiry: refused although it was read a moment ago.
        assert!(s.auth_cached(&digest), "{b}");
        assert!(
            s.api_token_by_raw(&raw, T0 + 10 * 60_000)
                .await
                .unwrap()
                .is_none(),
            "{b}: expired"
        );
        assert!(!s.auth_cached(&digest), "{b}: refused tokens are not kept");

        // Revoked in this process: the very next lookup fails.
        let (tid2, raw2) = s.create_api_token(&new, &admin, "test", T0).await.unwrap();
        assert!(s.api_token_by_raw(&raw2, T0 + 2).await.unwrap().is_some());
        assert!(s.auth_cached(&token_digest(&raw2)), "{b}");
        assert!(
            s.revoke_api_token(tid2, &admin, "test", T0 + 3)
                .await
                .unwrap()
        );
        assert!(
            s.api_token_by_raw(&raw2, T0 + 4).await.unwrap().is_none(),
            "{b}: revoked"
        );
        assert!(
            s.revoke_api_token(tid, &admin, "test", T0 + 5)
                .await
                .unwrap()
        );

        // Unknown tokens are never kept.
        let unknown = format!("ywt_{}", "0".repeat(64));
        assert!(s.api_token_by_raw(&unknown, T0).await.unwrap().is_none());
        assert!(!s.auth_cached(&token_digest(&unknown)), "{b}");
    }
}

#[tokio::test]
async fn staff_sessions_from_memory_end_as_before() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &with_test_keys(db.store.clone());
        let p = staff(s, "zhao").await;
        let last_seen = "SELECT last_seen_at FROM sessions WHERE token_hash = $1";

        // Idle end, absolute end and the once-a-minute mark, answered from memory.
        s.create_session("h1", p.user_id, T0, HOUR).await.unwrap();
        assert!(staff_alive(s, "h1", T0 + 1).await, "{b}");
        assert!(s.auth_cached("h1"), "{b}");
        assert!(staff_alive(s, "h1", T0 + 59_000).await, "{b}");
        assert_eq!(one_i64(s, last_seen, "h1").await, T0, "{b}: no write yet");
        assert!(staff_alive(s, "h1", T0 + 60_000).await, "{b}");
        assert_eq!(
            one_i64(s, last_seen, "h1").await,
            T0 + 60_000,
            "{b}: marked"
        );
        assert!(
            !staff_alive(s, "h1", T0 + 60_000 + IDLE).await,
            "{b}: idle although cached"
        );
        s.create_session("h2", p.user_id, T0, 1_000).await.unwrap();
        assert!(staff_alive(s, "h2", T0 + 1).await, "{b}");
        assert!(!staff_alive(s, "h2", T0 + 1_000).await, "{b}: past its end");

        // Logout (and session rotation, which deletes the old one).
        s.create_session("h3", p.user_id, T0, HOUR).await.unwrap();
        assert!(staff_alive(s, "h3", T0 + 1).await, "{b}");
        s.delete_session("h3").await.unwrap();
        assert!(!staff_alive(s, "h3", T0 + 2).await, "{b}: logged out");

        // Log out everywhere.
        for h in ["a1", "a2"] {
            s.create_session(h, p.user_id, T0, HOUR).await.unwrap();
            assert!(staff_alive(s, h, T0 + 1).await, "{b}");
        }
        // (h1 and h2 have ended but are still stored.)
        assert_eq!(s.delete_user_sessions(&p, "test", T0 + 2).await.unwrap(), 4);
        for h in ["a1", "a2"] {
            assert!(!staff_alive(s, h, T0 + 3).await, "{b}: {h} ended");
        }

        // A password change ends the other sessions only.
        for h in ["keep", "other"] {
            s.create_session(h, p.user_id, T0, HOUR).await.unwrap();
            assert!(staff_alive(s, h, T0 + 1).await, "{b}");
        }
        s.change_password(&p, PASSWORD, "Neu-Passwort-2026", "keep", "test", T0 + 2)
            .await
            .unwrap();
        assert!(staff_alive(s, "keep", T0 + 3).await, "{b}");
        assert!(!staff_alive(s, "other", T0 + 3).await, "{b}: other ended");

        // An administrator's reset ends them all.
        let temporary = staff_password::temporary_password();
        assert!(
            s.reset_user_password(p.user_id, &temporary, &Actor::system("test"), T0 + 4)
                .await
                .unwrap()
        );
        assert!(!staff_alive(s, "keep", T0 + 5).await, "{b}: reset ended it");

        // So does a TOTP reset.
        s.create_session("t1", p.user_id, T0, HOUR).await.unwrap();
        assert!(staff_alive(s, "t1", T0 + 1).await, "{b}");
        assert!(
            s.reset_totp("zhao", "system", "test", T0 + 2)
                .await
                .unwrap()
        );
        assert!(!staff_alive(s, "t1", T0 + 3).await, "{b}: TOTP reset");

        // Unknown sessions are never kept.
        assert!(!staff_alive(s, "nope", T0).await);
        assert!(!s.auth_cached("nope"), "{b}");
    }
}

#[tokio::test]
async fn applicant_sessions_from_memory_end_as_before() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &with_test_keys(db.store.clone());
        let a = applicant(s).await;
        let last_seen = "SELECT last_seen_at FROM applicant_sessions WHERE token_hash = $1";

        s.create_applicant_session("s1", a.id, T0, HOUR)
            .await
            .unwrap();
        assert!(applicant_alive(s, "s1", T0 + 1).await, "{b}");
        assert!(s.auth_cached("s1"), "{b}");
        assert!(applicant_alive(s, "s1", T0 + 59_000).await, "{b}");
        assert_eq!(one_i64(s, last_seen, "s1").await, T0, "{b}");
        assert!(applicant_alive(s, "s1", T0 + 60_000).await, "{b}");
        assert_eq!(one_i64(s, last_seen, "s1").await, T0 + 60_000, "{b}");
        assert!(
            !applicant_alive(s, "s1", T0 + HOUR).await,
            "{b}: past its end"
        );

        // Logout.
        s.create_applicant_session("s2", a.id, T0, HOUR)
            .await
            .unwrap();
        assert!(applicant_alive(s, "s2", T0 + 1).await, "{b}");
        s.delete_applicant_session("s2").await.unwrap();
        assert!(!applicant_alive(s, "s2", T0 + 2).await, "{b}: logged out");

        // Log out everywhere.
        for h in ["e1", "e2"] {
            s.create_applicant_session(h, a.id, T0, HOUR).await.unwrap();
            assert!(applicant_alive(s, h, T0 + 1).await, "{b}");
        }
        s.end_applicant_sessions(&a, "test", T0 + 2).await.unwrap();
        for h in ["e1", "e2"] {
            assert!(!applicant_alive(s, h, T0 + 3).await, "{b}: {h} ended");
        }

        // A password change ends the other sessions.
        for h in ["keep", "other"] {
            s.create_applicant_session(h, a.id, T0, HOUR).await.unwrap();
            assert!(applicant_alive(s, h, T0 + 1).await, "{b}");
        }
        s.change_applicant_password(&a, "Shenqing-2026!", "Xin-Mima-2026!", "keep", "t", T0 + 2)
            .await
            .unwrap();
        assert!(applicant_alive(s, "keep", T0 + 3).await, "{b}");
        assert!(
            !applicant_alive(s, "other", T0 + 3).await,
            "{b}: other ended"
        );

        // A reset by SMS code ends them all.
        assert!(
            s.request_password_reset(&ResetRequest {
                id: &ApplicantId::parse("11010519491231002X").unwrap(),
                phone: &Phone::parse("13800138000").unwrap(),
                ticket_hash: "ticket",
                code: "123456",
                client: "10.0.0.1",
                now_ms: T0 + 4,
            })
            .await
            .unwrap()
        );
        assert!(applicant_alive(s, "keep", T0 + 5).await, "{b}");
        let done = s
            .complete_password_reset(&ResetAttempt {
                ticket_hash: "ticket",
                code: "123456",
                totp: "",
                new_password: "Dritte-Mima-2026!",
                client: "10.0.0.1",
                now_ms: T0 + 6,
            })
            .await
            .unwrap();
        assert!(matches!(done, ResetOutcome::Done(_)), "{b}");
        assert!(
            !applicant_alive(s, "keep", T0 + 7).await,
            "{b}: reset ended it"
        );
    }
}

/// A revocation by another process (here: SQL past the store) is seen within the stated bound.
#[tokio::test]
async fn other_processes_revocations_are_seen_within_the_bound() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &db.store;
        let p = staff(s, "qian").await;
        s.create_session("x1", p.user_id, T0, HOUR).await.unwrap();
        assert!(staff_alive(s, "x1", T0 + 1).await, "{b}");
        sqlx::query("DELETE FROM sessions WHERE token_hash = 'x1'")
            .execute(s.pool())
            .await
            .unwrap();
        let wait = yiwang_store::auth_cache::AUTH_CACHE_MS + 50;
        tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        assert!(
            !staff_alive(s, "x1", T0 + 2).await,
            "{b}: seen after the bound"
        );
    }
}
