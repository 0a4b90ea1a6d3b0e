//! `yiwang audit verify` end to end on every backend: ok on an intact log, non-zero exit and the
//! entry named on a tampered one. Writes from the command line are audited as `system`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use yiwang_store::AuditFilter;
use yiwang_testkit::backends;

fn yiwang(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .env("YIWANG_DATABASE_URL", url)
        .env("YIWANG_PASSWORD", "Str0ng-Password!")
        .env("USER", "operator7")
        .output()
        .expect("binary runs")
}

#[tokio::test]
async fn verify_reports_ok_then_the_tampered_entry() {
    for db in backends().await {
        let url = db.url.clone();
        let out = yiwang(
            &url,
            &[
                "user",
                "create",
                "--username",
                "auditor1",
                "--display-name",
                "Auditor",
                "--role",
                "platform_admin",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let entries = db
            .store
            .audit_entries(&AuditFilter {
                object_prefix: Some("user:auditor1".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].event.actor, "system");
        assert_eq!(entries[0].event.client, "cli:operator7");

        for i in 0..5 {
            let e = yiwang_store::AuditEvent {
                action: "test.event".into(),
                object: format!("thing:{i}"),
                ..Default::default()
            };
            db.store.audit(1, &e).await.unwrap();
        }
        let out = yiwang(&url, &["audit", "verify"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.starts_with("ok: 6 entries verified in "), "{stdout}");

        sqlx::query("UPDATE audit_log SET object = 'thing:x' WHERE seq = 4")
            .execute(db.store.pool())
            .await
            .unwrap();
        let out = yiwang(&url, &["audit", "verify"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("entry 4 was altered"), "{stderr}");

        let out = yiwang(&url, &["audit", "verify", "--json"]);
        assert!(!out.status.success());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["problem"]["kind"], "altered");
        assert_eq!(report["problem"]["seq"], 4);
        assert_eq!(report["entries"], 3);
    }
}
