//! `yiwang user unlock` and `yiwang user reset-totp` against every backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::auth_guard::{Failure, Throttle};
use yiwang_store::{Actor, NewUser, StepOutcome, totp};
use yiwang_testkit::{DEMO_NOW_MS, backends};

fn yiwang(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .env("YIWANG_DATABASE_URL", url)
        .output()
        .expect("binary runs")
}

#[tokio::test]
async fn unlock_and_reset_totp_from_the_command_line() {
    let lock = Throttle {
        limit: 5,
        window_ms: 900_000,
        lock: true,
    };
    let addr = Throttle {
        limit: 20,
        window_ms: 900_000,
        lock: false,
    };
    for db in backends().await {
        let s = &db.store;
        let id = s
            .create_user(
                &NewUser {
                    username: "wang".into(),
                    display_name: "Wang".into(),
                    password: "Cli-Test-2026!".into(),
                    grants: vec![Grant {
                        role: Role::PlatformAdmin,
                        region: None,
                        department: None,
                    }],
                },
                &Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        // Locks end by themselves: lock it now (the command reads the wall clock).
        #[allow(
            clippy::disallowed_methods,
            reason = "the CLI under test reads the wall clock"
        )]
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap();
        for i in 0..5 {
            let f = Failure {
                username: "wang",
                user_id: Some(id),
                client: "10.1.1.1",
                reason: "password",
                now_ms: now + i,
            };
            s.record_login_failure(&f, lock, addr).await.unwrap();
        }
        assert!(s.account_locked("wang", now + 5).await.unwrap());
        let out = yiwang(&db.url, &["user", "unlock", "wang"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("unlocked"));
        assert!(!s.account_locked("wang", now + 5).await.unwrap());
        let out = yiwang(&db.url, &["user", "unlock", "nobody"]);
        assert!(!out.status.success());

        let secret = totp::new_secret();
        assert_eq!(
            s.accept_totp_step(id, 1, Some(&secret), DEMO_NOW_MS)
                .await
                .unwrap(),
            StepOutcome::Accepted
        );
        let out = yiwang(&db.url, &["user", "reset-totp", "wang"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(s.user_totp(id).await.unwrap().is_none());
        let out = yiwang(&db.url, &["user", "reset-totp", "nobody"]);
        assert!(!out.status.success());
    }
}
