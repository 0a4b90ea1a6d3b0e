//! The sign-in store on every backend: failure counters and locks, TOTP step replay, session
//! idle/absolute ends, API tokens stored only as digests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::Row;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};
use yiwang_store::auth_guard::{Failure, Gate, Throttle};
use yiwang_store::{Actor, NewApiToken, NewUser, StepOutcome, Store, totp};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

const T0: i64 = DEMO_NOW_MS;
const ACCOUNT: Throttle = Throttle {
    limit: 5,
    window_ms: 900_000,
    lock: true,
};
const ADDRESS: Throttle = Throttle {
    limit: 20,
    window_ms: 900_000,
    lock: false,
};

async fn user(s: &Store, name: &str) -> i64 {
    s.create_user(
        &NewUser {
            username: name.into(),
            display_name: name.into(),
            password: "Store-Test-2026".into(),
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
    .unwrap()
}

fn failure<'a>(username: &'a str, client: &'a str, now_ms: i64) -> Failure<'a> {
    Failure {
        username,
        user_id: None,
        client,
        reason: "password",
        now_ms,
    }
}

#[tokio::test]
async fn counters_lock_accounts_and_limit_addresses() {
    for db in backends().await {
        let s = &db.store;
        user(s, "wang").await;
        for i in 0..4 {
            let (a, _) = s
                .record_login_failure(&failure("wang", "10.0.0.1", T0 + i), ACCOUNT, ADDRESS)
                .await
                .unwrap();
            assert_eq!(a, Gate::Open, "failure {i}");
        }
        let (a, b) = s
            .record_login_failure(&failure("wang", "10.0.0.1", T0 + 10), ACCOUNT, ADDRESS)
            .await
            .unwrap();
        assert_eq!(
            (a, b),
            (
                Gate::Locked {
                    retry_after_ms: 900_000
                },
                Gate::Open
            )
        );
        // The lock ends by itself after fifteen minutes (issue 13: nobody can lock an account
        // for good by knowing its name).
        let end = T0 + 10 + 900_000;
        assert!(s.account_locked("wang", end - 1).await.unwrap());
        assert_eq!(s.locked_accounts(end - 1).await.unwrap().len(), 1);
        assert!(!s.account_locked("wang", end).await.unwrap());
        assert!(s.locked_accounts(end).await.unwrap().is_empty());
        assert_eq!(
            s.throttle_gate("account:wang", ACCOUNT, end).await.unwrap(),
            Gate::Open
        );
        // The next lock in a row lasts twice as long.
        for i in 0..5 {
            s.record_login_failure(&failure("wang", "10.0.0.3", end + i), ACCOUNT, ADDRESS)
                .await
                .unwrap();
        }
        assert_eq!(
            s.throttle_gate("account:wang", ACCOUNT, end + 4)
                .await
                .unwrap(),
            Gate::Locked {
                retry_after_ms: 1_800_000
            }
        );
        let later = end + 60_000;
        let locked = s.locked_accounts(later).await.unwrap();
        assert_eq!(locked.len(), 1);
        assert_eq!(locked[0].principal.username, "wang");
        assert_eq!(locked[0].locked_until, end + 4 + 1_800_000);
        assert!(
            s.unlock_account("wang", None, "system", "cli:test", later)
                .await
                .unwrap()
        );
        assert!(!s.account_locked("wang", later).await.unwrap());
        assert!(
            !s.unlock_account("nobody", None, "system", "", later)
                .await
                .unwrap()
        );

        // An address: 20 failures in 15 minutes, then a wait until the window ends.
        let mut last = Gate::Open;
        for i in 0..20 {
            let name = format!("u{i}");
            last = s
                .record_login_failure(&failure(&name, "10.0.0.2", T0 + i * 1000), ACCOUNT, ADDRESS)
                .await
                .unwrap()
                .1;
        }
        let Gate::Limited { retry_after_ms } = last else {
            panic!("limited: {last:?}");
        };
        assert_eq!(retry_after_ms, 900_000 - 19_000);
        assert_eq!(
            s.throttle_gate("addr:10.0.0.9", ADDRESS, T0).await.unwrap(),
            Gate::Open,
            "other addresses unaffected"
        );
        assert_eq!(
            s.throttle_gate("addr:10.0.0.2", ADDRESS, T0 + 900_001)
                .await
                .unwrap(),
            Gate::Open
        );
        // A new window starts counting from one.
        let (_, b) = s
            .record_login_failure(&failure("x", "10.0.0.2", T0 + 900_001), ACCOUNT, ADDRESS)
            .await
            .unwrap();
        assert_eq!(b, Gate::Open);
        // Failures are in the audit log.
        assert!(s.audit_count().await.unwrap() >= 32);
    }
}

#[tokio::test]
async fn totp_steps_are_accepted_once_and_enrolment_only_once() {
    for db in backends().await {
        let s = &db.store;
        let id = user(s, "lisi").await;
        let secret = totp::new_secret();
        assert_eq!(
            s.accept_totp_step(id, 100, None, T0).await.unwrap(),
            StepOutcome::Replayed,
            "no key yet"
        );
        assert_eq!(
            s.accept_totp_step(id, 100, Some(&secret), T0)
                .await
                .unwrap(),
            StepOutcome::Accepted
        );
        let info = s.user_totp(id).await.unwrap().unwrap();
        assert_eq!(
            (info.secret.as_str(), info.alg.as_str()),
            (secret.as_str(), "totp-sha1-6-30")
        );
        // A second enrolment cannot replace the key.
        let other = totp::new_secret();
        assert_eq!(
            s.accept_totp_step(id, 101, Some(&other), T0).await.unwrap(),
            StepOutcome::Replayed
        );
        assert_eq!(s.user_totp(id).await.unwrap().unwrap().secret, secret);
        for (step, want) in [
            (100, StepOutcome::Replayed),
            (99, StepOutcome::Replayed),
            (101, StepOutcome::Accepted),
            (101, StepOutcome::Replayed),
            (105, StepOutcome::Accepted),
        ] {
            assert_eq!(
                s.accept_totp_step(id, step, None, T0).await.unwrap(),
                want,
                "{step}"
            );
        }
        // Reset: the key and the sessions go; the next sign-in enrols again.
        s.create_session("h", id, T0, 1000).await.unwrap();
        assert!(
            s.reset_totp("lisi", "system", "cli:test", T0)
                .await
                .unwrap()
        );
        assert!(s.user_totp(id).await.unwrap().is_none());
        assert!(
            s.active_session("h", T0 + 1, 60_000)
                .await
                .unwrap()
                .is_none()
        );
        assert!(!s.reset_totp("nobody", "system", "", T0).await.unwrap());
    }
}

#[tokio::test]
async fn sessions_end_when_idle_or_old() {
    for db in backends().await {
        let s = &db.store;
        let id = user(s, "zhao").await;
        let idle = 30 * 60_000;
        s.create_session("h1", id, T0, 8 * 3_600_000).await.unwrap();
        // Used at +29 min (marked), alive at +58 min, ended at +90 min.
        assert!(
            s.active_session("h1", T0 + 29 * 60_000, idle)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.active_session("h1", T0 + 58 * 60_000, idle)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.active_session("h1", T0 + 90 * 60_000, idle)
                .await
                .unwrap()
                .is_none()
        );
        // Within a minute of the last mark, no write is needed, and it stays alive.
        s.create_session("h2", id, T0, 8 * 3_600_000).await.unwrap();
        assert!(
            s.active_session("h2", T0 + 30_000, idle)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.active_session("h2", T0 + 29 * 60_000, idle)
                .await
                .unwrap()
                .is_some()
        );
        // The absolute end holds even when used.
        let mut t = T0;
        while t + 20 * 60_000 < T0 + 8 * 3_600_000 {
            t += 20 * 60_000;
            assert!(s.active_session("h2", t, idle).await.unwrap().is_some());
        }
        assert!(
            s.active_session("h2", T0 + 8 * 3_600_000, idle)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn api_tokens_are_stored_as_digests_only() {
    for db in backends().await {
        with_demo(&db).await;
        let s = &db.store;
        let id = user(s, "sun").await;
        let creator = s.principal(id).await.unwrap().unwrap();
        let new = NewApiToken {
            name: "交换平台".into(),
            grant: Grant {
                role: Role::Auditor,
                region: Some(RegionCode::parse("120112").unwrap()),
                department: None,
            },
            expires_at: T0 + 1000,
        };
        let (tid, raw) = s
            .create_api_token(&new, &creator, "test", T0)
            .await
            .unwrap();
        // No column of any row holds the raw token or its random part.
        let rows = sqlx::query("SELECT * FROM api_tokens")
            .fetch_all(s.pool())
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        for (i, col) in rows[0].columns().iter().enumerate() {
            use sqlx::Column;
            if let Ok(Some(v)) = rows[0].try_get::<Option<String>, _>(i) {
                assert!(
                    !v.contains(&raw[4..20]),
                    "column {} holds the token",
                    col.name()
                );
            }
        }
        let t = s
            .api_token_by_raw(&raw, T0 + 1)
            .await
            .unwrap()
            .expect("valid");
        assert_eq!((t.id, t.hash_alg.as_str()), (tid, "sm3"));
        assert_eq!(t.principal().user_id, 0, "a token is no person");
        assert!(
            s.api_token_by_raw(&raw, T0 + 1000).await.unwrap().is_none(),
            "expired"
        );
        let mut tampered = raw.clone();
        tampered.replace_range(10..11, if &raw[10..11] == "0" { "1" } else { "0" });
        assert!(
            s.api_token_by_raw(&tampered, T0 + 1)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.revoke_api_token(tid, &creator, "test", T0 + 2)
                .await
                .unwrap()
        );
        assert!(
            !s.revoke_api_token(tid, &creator, "test", T0 + 3)
                .await
                .unwrap()
        );
        assert!(
            s.api_token_by_raw(&raw, T0 + 4).await.unwrap().is_none(),
            "revoked"
        );
        // Past expiry or empty names are refused.
        let mut bad = new.clone();
        bad.expires_at = T0;
        assert!(s.create_api_token(&bad, &creator, "", T0).await.is_err());
        bad = new.clone();
        bad.name = "  ".into();
        assert!(s.create_api_token(&bad, &creator, "", T0).await.is_err());
    }
}

/// A token never carries more than its creator holds (whoever calls the store), and stops
/// working when its creator loses the power or the account.
#[tokio::test]
async fn api_tokens_stay_within_their_creators_power() {
    for db in backends().await {
        with_demo(&db).await;
        let b = db.backend.name();
        let s = &db.store;
        let district = RegionCode::parse("120112").unwrap();
        let bureau = CreditCode::parse("11120112MB1W167324").unwrap();
        let admin = s
            .principal(user(s, "admin13").await)
            .await
            .unwrap()
            .unwrap();
        let clerk_id = s
            .create_user(
                &NewUser {
                    username: "window13".into(),
                    display_name: "window".into(),
                    password: "Store-Test-2026".into(),
                    grants: vec![Grant {
                        role: Role::Clerk,
                        region: Some(district.clone()),
                        department: Some(bureau.clone()),
                    }],
                },
                &Actor::system("test"),
                T0,
            )
            .await
            .unwrap();
        let clerk = s.principal(clerk_id).await.unwrap().unwrap();
        let token = |role| NewApiToken {
            name: "window system".into(),
            grant: Grant {
                role,
                region: Some(district.clone()),
                department: Some(bureau.clone()),
            },
            expires_at: T0 + 86_400_000,
        };
        // The platform administrator decides no cases, so lends no token that power; nor is an
        // administrator's role ever on a token.
        for (role, code) in [
            (Role::Clerk, ErrorCode::TokenBeyondCreator),
            (Role::Approver, ErrorCode::TokenBeyondCreator),
            (Role::PlatformAdmin, ErrorCode::TokenRoleNotAllowed),
            (Role::CatalogAdmin, ErrorCode::TokenRoleNotAllowed),
        ] {
            let e = s
                .create_api_token(&token(role), &admin, "test", T0)
                .await
                .unwrap_err();
            assert_eq!(e.code(), code, "{b}: {role:?}");
        }
        // The clerk: a clerk token of his own department, not a reviewer's or approver's.
        let e = s
            .create_api_token(&token(Role::Approver), &clerk, "test", T0)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::TokenBeyondCreator, "{b}");
        assert_eq!(
            s.api_tokens().await.unwrap().len(),
            0,
            "{b}: nothing stored"
        );
        let (_, raw) = s
            .create_api_token(&token(Role::Clerk), &clerk, "test", T0)
            .await
            .unwrap();
        let (_, raw2) = s
            .create_api_token(&token(Role::Clerk), &clerk, "test", T0)
            .await
            .unwrap();
        let t = s
            .api_token_by_raw(&raw, T0 + 1)
            .await
            .unwrap()
            .expect("in force");
        assert_eq!(t.creator_now.as_ref().map(|c| c.user_id), Some(clerk_id));
        // The clerk moves to another post: his tokens lose their power with him.
        sqlx::query("DELETE FROM role_grants WHERE user_id = $1")
            .bind(clerk_id)
            .execute(s.pool())
            .await
            .unwrap();
        assert!(
            s.api_token_by_raw(&raw2, T0 + 2).await.unwrap().is_none(),
            "{b}: creator lost the power"
        );
    }
}

/// With data keys, a staff member's TOTP secret is stored encrypted (and rotated with the other
/// personal data); a reset removes it.
#[tokio::test]
async fn totp_secrets_are_encrypted_at_rest_with_keys() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &yiwang_testkit::with_test_keys(db.store.clone());
        let id = user(s, "keyed").await;
        let secret = yiwang_store::totp::new_secret();
        assert_eq!(
            s.accept_totp_step(id, 100, Some(&secret), T0)
                .await
                .unwrap(),
            StepOutcome::Accepted
        );
        let (marker, enc): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT totp_secret, totp_enc FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(s.pool())
                .await
                .unwrap();
        assert_eq!(marker.as_deref(), Some("enc"), "{b}");
        assert!(!enc.unwrap().contains(&secret), "{b}: not in the clear");
        assert_eq!(
            s.user_totp(id).await.unwrap().unwrap().secret,
            secret,
            "{b}"
        );
        let usage = s.pii_key_usage().await.unwrap();
        assert!(
            usage.values().sum::<u64>() >= 1,
            "{b}: counted for rotation"
        );
        assert!(s.reset_totp("keyed", "admin", "t", T0).await.unwrap());
        assert!(s.user_totp(id).await.unwrap().is_none(), "{b}");
    }
}

/// Issue 13: an attempt is reserved in one statement before the check, so parallel attempts
/// never get more than the limit; a failure at the limit locks, a success gives the
/// reservation back, and the lock grows from one lock to the next.
#[tokio::test]
async fn attempts_are_reserved_before_the_check_even_in_parallel() {
    use yiwang_store::auth_guard::Attempt;
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        user(s, "liu").await;
        let tries: Vec<_> = (0..40)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(
                    async move { s.reserve_attempt("account:liu", ACCOUNT, T0).await.unwrap() },
                )
            })
            .collect();
        let mut granted = 0;
        for t in tries {
            if t.await.unwrap() == Gate::Open {
                granted += 1;
            }
        }
        assert_eq!(granted, 5, "{b}: exactly the limit is reserved");
        // Each reserved attempt fails: the one at the limit locks.
        let (g, _) = s
            .attempt_failed(&failure("liu", "10.0.0.1", T0), ACCOUNT, ADDRESS)
            .await
            .unwrap();
        assert!(g.is_locked(), "{b}: {g:?}");
        assert!(s.account_locked("liu", T0 + 1).await.unwrap(), "{b}");
        assert_eq!(
            s.reserve_attempt("account:liu", ACCOUNT, T0 + 1)
                .await
                .unwrap(),
            Gate::Locked {
                retry_after_ms: 899_999
            },
            "{b}"
        );
        // After the lock: a fresh count.
        let after = T0 + 900_000;
        let a = Attempt {
            username: "liu",
            user_id: None,
            client: "10.0.0.1",
            now_ms: after,
        };
        assert_eq!(
            s.begin_attempt(&a, ACCOUNT, ADDRESS).await.unwrap(),
            Gate::Open,
            "{b}"
        );
        // A success gives it back: five more reservations still fit.
        s.release_attempt(&["account:liu", "addr:10.0.0.1"])
            .await
            .unwrap();
        for i in 0..5 {
            assert_eq!(
                s.reserve_attempt("account:liu", ACCOUNT, after)
                    .await
                    .unwrap(),
                Gate::Open,
                "{b}: {i}"
            );
        }
        assert!(
            s.reserve_attempt("account:liu", ACCOUNT, after)
                .await
                .unwrap()
                != Gate::Open,
            "{b}"
        );
    }
}

/// Issue 13: the key offered at first sign-in is kept encrypted in `login_challenges` when
/// data keys are configured.
#[tokio::test]
async fn offered_enrolment_keys_are_encrypted() {
    for db in backends().await {
        let s = yiwang_testkit::with_test_keys(db.store.clone());
        let b = db.backend.name();
        let id = user(&s, "zhao").await;
        let stage = s.create_challenge("c1", id, T0, 300_000).await.unwrap();
        let yiwang_store::ChallengeStage::Enrol { secret } = stage else {
            panic!("{b}: enrol");
        };
        let row = sqlx::query(
            "SELECT enrol_secret, enrol_enc FROM login_challenges WHERE token_hash = 'c1'",
        )
        .fetch_one(s.pool())
        .await
        .unwrap();
        let plain: Option<String> = row.try_get("enrol_secret").unwrap();
        let enc: Option<String> = row.try_get("enrol_enc").unwrap();
        assert_eq!(plain, None, "{b}");
        let enc = enc.unwrap();
        assert!(!enc.contains(&secret), "{b}: {enc}");
        assert!(enc.starts_with("sm4"), "{b}: {enc}");
        let c = s.challenge("c1", T0 + 1).await.unwrap().unwrap();
        assert_eq!(
            c.stage,
            yiwang_store::ChallengeStage::Enrol { secret },
            "{b}"
        );
    }
}

/// 实名核验 in the store (issue #13, item 3): a confirmation verifies the account with the same
/// name and phone; a number without an account gets a verified one (no password); an
/// unverified account under another name or phone is detached (number freed, disabled,
/// audited); a verified one is never overridden; every confirmation records who, where, which
/// document.
#[tokio::test]
async fn identity_verification_confirms_registers_reclaims_and_refuses() {
    use yiwang_domain::ErrorCode;
    use yiwang_domain::case::ApplicantId;
    use yiwang_store::identity::Verified;
    for db in backends().await {
        let b = db.backend.name();
        let s = &yiwang_testkit::with_test_keys(db.store.clone());
        let squatter =
            yiwang_testkit::unverified_applicant(s, "11010519491231002X", "13600136000", T0).await;
        assert!(
            !s.identity_verified(squatter.id).await.unwrap(),
            "{b}: unverified at first"
        );
        // Same name ("张三"), other phone: the unverified holder is detached.
        let v =
            yiwang_testkit::verify_in_person(s, "11010519491231002X", "张三", "13800138000", T0)
                .await;
        let Verified::Reclaimed {
            applicant: owner,
            detached,
        } = v
        else {
            panic!("{b}: {v:?}");
        };
        assert_eq!(detached, squatter.handle, "{b}");
        assert_ne!(owner.id, squatter.id, "{b}");
        assert!(s.identity_verified(owner.id).await.unwrap(), "{b}");
        let id = ApplicantId::parse("11010519491231002X").unwrap();
        assert_eq!(
            s.applicant_by_id_number(&id).await.unwrap().unwrap().id,
            owner.id,
            "{b}"
        );
        assert!(
            s.applicant_for_login(&id).await.unwrap().unwrap().1 == "!",
            "{b}: no password yet"
        );
        let row = sqlx::query(
            "SELECT disabled, detached_at, id_number_idx FROM applicants WHERE id = $1",
        )
        .bind(squatter.id)
        .fetch_one(s.pool())
        .await
        .unwrap();
        assert_eq!(row.try_get::<i64, _>("disabled").unwrap(), 1, "{b}");
        assert_eq!(
            row.try_get::<Option<i64>, _>("detached_at").unwrap(),
            Some(T0),
            "{b}"
        );
        assert!(
            row.try_get::<Option<String>, _>("id_number_idx")
                .unwrap()
                .is_none(),
            "{b}"
        );
        // Again with the same name and phone: confirmed, the same account.
        let again =
            yiwang_testkit::verify_in_person(s, "11010519491231002X", "张三", "13800138000", T0)
                .await;
        assert_eq!(again, Verified::Confirmed(owner.clone()), "{b}");
        // A verified account is never overridden.
        let claim = yiwang_store::identity::IdentityClaim {
            id: id.clone(),
            name: "冒名者".into(),
            legal_rep: None,
            phone: yiwang_domain::codes::Phone::parse("13600136000").unwrap(),
        };
        let record = yiwang_store::identity::VerificationRecord {
            source: yiwang_store::identity::VerificationSource::InPerson,
            verifier: "clerk".into(),
            staff_id: None,
            place: "窗口".into(),
            document: "resident_id_card".into(),
        };
        let e = s
            .verify_identity(&claim, &record, &Actor::system("t"), T0)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::IdentityConflict, "{b}");
        // A number nobody holds: registered, verified.
        let fresh =
            yiwang_testkit::verify_in_person(s, "120112199001011238", "李四", "13900139000", T0)
                .await;
        assert!(matches!(fresh, Verified::Registered(_)), "{b}: {fresh:?}");
        let records: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM identity_verifications WHERE source = 'in_person' \
             AND document = 'resident_id_card' AND place = 'test counter'",
        )
        .fetch_one(s.pool())
        .await
        .unwrap();
        assert_eq!(records.0, 3, "{b}");
        let audited: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('identity.verify', 'identity.detach')",
        )
        .fetch_one(s.pool())
        .await
        .unwrap();
        assert_eq!(audited.0, 4, "{b}: three verifications and one detachment");
    }
}
