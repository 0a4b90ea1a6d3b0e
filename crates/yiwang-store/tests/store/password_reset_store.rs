//! Password reset in the store, on every backend: an applicant's code by SMS (sent only when the
//! identifier and phone match, stored as a keyed digest, ten minutes, five tries, once, TOTP
//! too when on; sessions end, message and audit entry) and a staff password set by an
//! administrator (sessions end, the account must choose a new one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::Phone;
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::applicants::{Applicant, NewApplicant};
use yiwang_store::password_reset::{
    RESET_CODE_MESSAGE, RESET_CODE_TTL_MS, RESET_DONE_MESSAGE, ResetAttempt, ResetOutcome,
    ResetRequest,
};
use yiwang_store::{Actor, AuditFilter, ChallengeStage, NewUser, Store, staff_password, totp};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_test_keys};

const T0: i64 = DEMO_NOW_MS;
const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";
const OLD: &str = "Shenqing-2026!";
const NEW: &str = "Xin-Mima-2026!";

async fn applicant(s: &Store) -> Applicant {
    s.register_applicant(
        &NewApplicant {
            id: ApplicantId::parse(ID).unwrap(),
            display_name: "张三".into(),
            legal_rep: None,
            phone: Phone::parse(PHONE).unwrap(),
            password: OLD.into(),
        },
        "10.0.0.1",
        T0,
    )
    .await
    .unwrap()
}

async fn request(s: &Store, phone: &str, ticket: &str, code: &str, now: i64) -> bool {
    s.request_password_reset(&ResetRequest {
        id: &ApplicantId::parse(ID).unwrap(),
        phone: &Phone::parse(phone).unwrap(),
        ticket_hash: ticket,
        code,
        client: "10.0.0.1",
        now_ms: now,
    })
    .await
    .unwrap()
}

async fn attempt(s: &Store, ticket: &str, code: &str, totp: &str, now: i64) -> ResetOutcome {
    s.complete_password_reset(&ResetAttempt {
        ticket_hash: ticket,
        code,
        totp,
        new_password: NEW,
        client: "10.0.0.1",
        now_ms: now,
    })
    .await
    .unwrap()
}

async fn actions(s: &Store) -> Vec<String> {
    s.audit_entries(&AuditFilter {
        limit: 1000,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_iter()
    .map(|e| e.event.action)
    .collect()
}

fn signs_in(hash: &str, password: &str) -> bool {
    yiwang_store::verify_password(password, hash)
}

async fn hash_of(s: &Store) -> String {
    s.applicant_for_login(&ApplicantId::parse(ID).unwrap())
        .await
        .unwrap()
        .unwrap()
        .1
}

#[tokio::test]
async fn a_code_by_sms_resets_the_password_once() {
    for db in backends().await {
        let b = db.backend.name();
        let s = with_test_keys(db.store.clone());
        let a = applicant(&s).await;
        for t in ["s1", "s2"] {
            s.create_applicant_session(t, a.id, T0, 3_600_000)
                .await
                .unwrap();
        }

        // Another phone, or an identifier nobody registered: nothing stored, nothing sent.
        assert!(!request(&s, "13900139000", "t0", "111111", T0).await, "{b}");
        assert!(
            !s.request_password_reset(&ResetRequest {
                id: &ApplicantId::parse("120112198001011233").unwrap(),
                phone: &Phone::parse(PHONE).unwrap(),
                ticket_hash: "t0",
                code: "111111",
                client: "10.0.0.1",
                now_ms: T0,
            })
            .await
            .unwrap(),
            "{b}"
        );
        assert!(
            s.outbox_for_applicant(a.id, 10).await.unwrap().is_empty(),
            "{b}"
        );
        assert!(
            actions(&s)
                .await
                .contains(&"password.reset_refused".to_string())
        );
        assert_eq!(
            attempt(&s, "t0", "111111", "", T0).await,
            ResetOutcome::Refused
        );

        // The right pair: one SMS with the code; only a digest of it in the code table.
        assert!(request(&s, PHONE, "t1", "123456", T0).await, "{b}");
        let sms = s.outbox_for_applicant(a.id, 10).await.unwrap();
        assert_eq!(sms.len(), 1, "{b}");
        assert_eq!(sms[0].template_key, RESET_CODE_MESSAGE);
        assert_eq!(sms[0].args["code"], "123456", "{b}");
        let (stored,): (String,) =
            sqlx::query_as("SELECT code_hash FROM password_reset_codes WHERE ticket_hash = 't1'")
                .fetch_one(s.pool())
                .await
                .unwrap();
        assert!(
            stored.starts_with("hmac-sm3:") && !stored.contains("123456"),
            "{b}"
        );

        // A weak password is refused before any try is counted; a wrong code is one try.
        let weak = s
            .complete_password_reset(&ResetAttempt {
                ticket_hash: "t1",
                code: "123456",
                totp: "",
                new_password: "short",
                client: "10.0.0.1",
                now_ms: T0,
            })
            .await
            .unwrap_err();
        assert_eq!(weak.code(), ErrorCode::WeakPassword, "{b}");
        assert_eq!(
            attempt(&s, "t1", "654321", "", T0).await,
            ResetOutcome::Refused
        );
        assert_eq!(
            attempt(&s, "t2", "123456", "", T0).await,
            ResetOutcome::Refused,
            "{b}: other ticket"
        );

        let done = attempt(&s, "t1", "123 456", "", T0 + 1000).await;
        assert_eq!(done, ResetOutcome::Done(a.clone()), "{b}");
        let hash = hash_of(&s).await;
        assert!(signs_in(&hash, NEW) && !signs_in(&hash, OLD), "{b}");
        for t in ["s1", "s2"] {
            assert!(
                s.active_applicant_session(t, T0 + 2000, 3_600_000)
                    .await
                    .unwrap()
                    .is_none(),
                "{b}: session {t} ended"
            );
        }
        let msgs = s.messages_for(a.id, None, 10).await.unwrap();
        assert_eq!(msgs.items[0].title_key, RESET_DONE_MESSAGE, "{b}");
        let all = actions(&s).await;
        assert!(all.contains(&"password.reset_request".to_string()), "{b}");
        assert!(all.contains(&"password.reset".to_string()), "{b}");
        assert!(all.contains(&"password.reset_failure".to_string()), "{b}");
        let sms = s.outbox_message(sms[0].id).await.unwrap().unwrap();
        assert_ne!(sms.args["code"], "123456", "{b}: the used code is blanked");

        // Once only.
        assert_eq!(
            attempt(&s, "t1", "123456", "", T0 + 2000).await,
            ResetOutcome::Refused
        );
    }
}

#[tokio::test]
async fn five_wrong_codes_lock_a_code_and_codes_expire_or_are_replaced() {
    for db in backends().await {
        let b = db.backend.name();
        let s = with_test_keys(db.store.clone());
        applicant(&s).await;

        assert!(request(&s, PHONE, "t1", "123456", T0).await);
        for i in 0..5 {
            let r = attempt(&s, "t1", &format!("00000{i}"), "", T0 + i).await;
            assert_eq!(r, ResetOutcome::Refused, "{b}: wrong {i}");
        }
        assert_eq!(
            attempt(&s, "t1", "123456", "", T0 + 10).await,
            ResetOutcome::Refused,
            "{b}: locked after five wrong codes"
        );
        assert!(
            actions(&s)
                .await
                .contains(&"password.reset_locked".to_string())
        );

        assert!(request(&s, PHONE, "t2", "222222", T0 + 100).await);
        assert_eq!(
            attempt(&s, "t2", "222222", "", T0 + 100 + RESET_CODE_TTL_MS).await,
            ResetOutcome::Refused,
            "{b}: expired"
        );

        assert!(request(&s, PHONE, "t3", "333333", T0 + 200).await);
        assert!(request(&s, PHONE, "t4", "444444", T0 + 300).await);
        assert_eq!(
            attempt(&s, "t3", "333333", "", T0 + 400).await,
            ResetOutcome::Refused,
            "{b}: replaced by a newer code"
        );
        assert!(matches!(
            attempt(&s, "t4", "444444", "", T0 + 400).await,
            ResetOutcome::Done(_)
        ));
        assert!(signs_in(&hash_of(&s).await, NEW), "{b}");
    }
}

#[tokio::test]
async fn with_totp_on_a_code_alone_is_not_enough() {
    for db in backends().await {
        let b = db.backend.name();
        let s = with_test_keys(db.store.clone());
        let a = applicant(&s).await;
        let secret = totp::new_secret();
        s.set_applicant_totp(&a, Some(&secret), "t", T0)
            .await
            .unwrap();

        assert!(request(&s, PHONE, "t1", "123456", T0).await);
        assert_eq!(
            attempt(&s, "t1", "123456", "", T0).await,
            ResetOutcome::Refused,
            "{b}"
        );
        assert_eq!(
            attempt(&s, "t1", "123456", "000000", T0).await,
            ResetOutcome::Refused,
            "{b}"
        );
        let now = T0 + 60_000;
        let current = totp::code_at(&secret, now).unwrap();
        assert!(matches!(
            attempt(&s, "t1", "123456", &current, now).await,
            ResetOutcome::Done(_)
        ));
        assert!(signs_in(&hash_of(&s).await, NEW), "{b}");
        // The time step is used: the same TOTP code cannot serve again.
        assert!(
            !s.accept_applicant_totp_step(a.id, totp::step_of(now))
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn an_administrator_sets_a_temporary_password_to_be_changed() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &db.store;
        let id = s
            .create_user(
                &NewUser {
                    username: "wang".into(),
                    display_name: "Wang".into(),
                    password: "Store-Test-2026".into(),
                    grants: vec![Grant {
                        role: Role::CatalogAdmin,
                        region: None,
                        department: None,
                    }],
                },
                &Actor::system("test"),
                T0,
            )
            .await
            .unwrap();
        s.create_session("sess", id, T0, 3_600_000).await.unwrap();
        let temp = staff_password::temporary_password();
        let admin = Actor {
            id: None,
            name: "admin".into(),
            client: "10.0.0.2".into(),
        };
        assert!(
            !s.reset_user_password(9999, &temp, &admin, T0)
                .await
                .unwrap()
        );
        assert!(
            s.reset_user_password(id, &temp, &admin, T0).await.unwrap(),
            "{b}"
        );
        assert!(
            s.session_principal("sess", T0).await.unwrap().is_none(),
            "{b}"
        );
        assert!(s.must_change_password(id).await.unwrap(), "{b}");
        assert!(
            s.authenticate("wang", "Store-Test-2026")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.authenticate("wang", &temp).await.unwrap().is_some(),
            "{b}"
        );
        assert!(
            actions(s)
                .await
                .contains(&"password.reset_by_admin".to_string())
        );

        // The pending sign-in at the "choose a new password" step.
        s.create_password_challenge("c1", id, T0, 300_000)
            .await
            .unwrap();
        let c = s.challenge("c1", T0).await.unwrap().unwrap();
        assert_eq!(c.stage, ChallengeStage::ChangePassword, "{b}");
        let same = s
            .finish_forced_password_change("c1", &temp, "t", T0)
            .await
            .unwrap_err();
        assert_eq!(
            same.code(),
            ErrorCode::WeakPassword,
            "{b}: not the temporary one"
        );
        let p = s
            .finish_forced_password_change("c1", "Wang-New-2026!", "t", T0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.user_id, id);
        assert!(!s.must_change_password(id).await.unwrap(), "{b}");
        assert!(
            s.authenticate("wang", &temp).await.unwrap().is_none(),
            "{b}"
        );
        assert!(s.challenge("c1", T0).await.unwrap().is_none(), "{b}: used");
        assert!(
            s.finish_forced_password_change("c1", "Wang-New-2027!", "t", T0)
                .await
                .unwrap()
                .is_none()
        );
    }
}
