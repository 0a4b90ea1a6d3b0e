//! `yiwang exchange verify` end to end on every backend: ok with its rate on an intact message
//! log, non-zero exit and the entry named when a row was edited in the database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use yiwang_domain::codes::{CreditCode, ImplCode};
use yiwang_exchange::{
    Direction, EndUser, Envelope, EnvelopeFields, KeyId, MessageId, NewLogEntry, Party, Purpose,
    SealKey, ServiceCode, SystemName,
};
use yiwang_testkit::backends;

fn yiwang(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .env("YIWANG_DATABASE_URL", url)
        .output()
        .expect("binary runs")
}

fn entry(i: usize) -> NewLogEntry {
    let org = |s: &str| CreditCode::with_check_char(s).unwrap();
    let envelope = Envelope::new(EnvelopeFields {
        message_id: MessageId::parse(&format!("cli-{i}")).unwrap(),
        requester: Party {
            org: org("11120112MB1W16732"),
            system: SystemName::parse("yiwang-jinnan").unwrap(),
        },
        provider: Party {
            org: org("11120112MB0000001"),
            system: SystemName::parse("population-register").unwrap(),
        },
        service: ServiceCode::parse("population/person-by-id/v1").unwrap(),
        case_number: None,
        item_code: ImplCode::parse("11120112MB1W167324000123001001").unwrap(),
        purpose: Purpose::parse("核验申请人身份").unwrap(),
        legal_basis: Purpose::parse("《食品经营许可和备案管理办法》第十二条").unwrap(),
        end_user: EndUser::parse("120112********002X").unwrap(),
        created_at: 1_796_688_000_000,
    })
    .unwrap();
    let key = SealKey::sm2_from_secret(
        KeyId::parse("scjg-2026").unwrap(),
        org("11120112MB1W16732"),
        &[7; 32],
    )
    .unwrap();
    let req = key.sign_request(envelope, b"{}");
    NewLogEntry {
        at: 1_796_688_000_000,
        direction: Direction::Out,
        envelope: req.envelope.clone(),
        request_body_digest: req.body_digest,
        request_seal: req.seal.to_string(),
        response_body_digest: None,
        response_seal: None,
        outcome: "timeout".into(),
    }
}

#[tokio::test]
async fn exchange_verify_reports_ok_with_its_rate_then_the_tampered_entry() {
    for db in backends().await {
        for i in 1..=7 {
            db.store.exchange_log_append(entry(i)).await.unwrap();
        }
        let out = yiwang(&db.url, &["exchange", "verify"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.starts_with("ok: 7 entries verified in "), "{stdout}");
        assert!(
            stdout.contains(" entries/s), from entry 1 to 7"),
            "{stdout}"
        );

        sqlx::query("UPDATE exchange_log SET outcome = 'ok' WHERE seq = 5")
            .execute(db.store.pool())
            .await
            .unwrap();
        let out = yiwang(&db.url, &["exchange", "verify", "--json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("entry 5 was altered"), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["checked"], 4);
        assert_eq!(report["problem"]["seq"], 5);
        assert_eq!(report["problem"]["kind"], "altered");
    }
}

#[tokio::test]
async fn exchange_verify_checks_the_retention_checkpoint_against_the_trust_bundle() {
    let market = CreditCode::with_check_char("11120112MB1W16732").unwrap();
    let key =
        SealKey::sm2_from_secret(KeyId::parse("scjg-2026").unwrap(), market.clone(), &[7; 32])
            .unwrap();
    let mut bundle = yiwang_exchange::TrustBundle::default();
    bundle
        .insert(key.key_id().clone(), key.trusted_key())
        .unwrap();
    let dir = std::env::temp_dir().join(format!("yiwang-bundle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trust.json");
    std::fs::write(&path, bundle.to_json()).unwrap();
    let path = path.to_str().unwrap();

    for db in backends().await {
        for i in 1..=6 {
            let mut e = entry(i);
            e.at += i as i64 * 86_400_000;
            db.store.exchange_log_append(e).await.unwrap();
        }
        let p = db
            .store
            .exchange_log_purge(1_796_688_000_000 + 4 * 86_400_000, 1_800_000_000_000, &key)
            .await
            .unwrap();
        assert_eq!(p.purged, 3);

        let out = yiwang(&db.url, &["exchange", "verify"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("ok: 3 entries verified"), "{stdout}");
        assert!(stdout.contains("from entry 4 to 6"), "{stdout}");
        assert!(stdout.contains("seal was not checked"), "{stdout}");

        let owner = market.as_str();
        let args = [
            "exchange",
            "verify",
            "--trust-bundle",
            path,
            "--owner",
            owner,
        ];
        let out = yiwang(&db.url, &args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!stdout.contains("not checked"), "{stdout}");
        let mut with_seals = args.to_vec();
        with_seals.push("--signatures");
        let out = yiwang(&db.url, &with_seals);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("entries/s, seals re-checked)"), "{stdout}");

        // A checkpoint moved by hand no longer carries a valid seal.
        sqlx::query("UPDATE exchange_log_checkpoint SET at = at + 1")
            .execute(db.store.pool())
            .await
            .unwrap();
        let out = yiwang(&db.url, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("entry 3 is the retention checkpoint"),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
