//! Infrastructure tables on every backend: the job queue (dedup, claim, leases, retries,
//! concurrent claimers), the outbox (encrypted recipient, attempts, leases), the message centre
//! (paging, unread count, owner-only marking) and uploads (owner checks, replace until
//! submission, correction reopening).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use yiwang_crypto::{Alg, KeyFile, KeySource};
use yiwang_domain::ErrorCode;
use yiwang_domain::upload::FileKind;
use yiwang_store::jobs::{complete_in, enqueue_in};
use yiwang_store::uploads::{lock_uploads_in, reopen_uploads_in};
use yiwang_store::{
    ChannelKind, JobState, NewOutboxMessage, NewUpload, OutboxStatus, Store, UploadStatus,
};
use yiwang_testkit::backends;

const T0: i64 = 1_800_000_000_000;

fn with_keys(store: &Store) -> Store {
    let ring = KeyFile::generate(Alg::Sm4Gcm)
        .ring(KeySource::Inline)
        .unwrap();
    store.clone().with_keys(Arc::new(ring))
}

#[tokio::test]
async fn jobs_enqueue_claim_complete_fail_and_dedup() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        // Enqueued in a transaction that rolls back: no job.
        let mut tx = s.pool().begin().await.unwrap();
        enqueue_in(&mut tx, "t.rollback", &json!({}), T0, None)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(s.claim_job(T0, 1000, "w").await.unwrap().is_none(), "{b}");

        // Dedup: the same key twice is one job.
        let a = s
            .enqueue_job("t.x", &json!({"case": 1}), T0 + 10, Some("k1"))
            .await
            .unwrap();
        let a2 = s
            .enqueue_job("t.x", &json!({"case": 2}), T0, Some("k1"))
            .await
            .unwrap();
        assert_eq!(a, a2, "{b}");
        assert_eq!(s.jobs_of_kind("t.x", 10).await.unwrap().len(), 1, "{b}");

        // Not due yet.
        assert!(s.claim_job(T0, 1000, "w").await.unwrap().is_none(), "{b}");
        let j = s.claim_job(T0 + 10, 1000, "w1").await.unwrap().unwrap();
        assert_eq!(
            (j.id, j.state, j.attempts),
            (a, JobState::Running, 1),
            "{b}"
        );
        assert_eq!(j.payload, json!({"case": 1}), "{b}");
        assert_eq!(j.due_at, T0 + 1010, "lease end, {b}");
        // Running under a live lease: nobody else gets it.
        assert!(
            s.claim_job(T0 + 500, 1000, "w2").await.unwrap().is_none(),
            "{b}"
        );

        // Failure with a retry time, then success.
        assert!(
            s.fail_job(&j, "boom", Some(T0 + 2000), T0 + 20)
                .await
                .unwrap()
        );
        let stored = s.job(a).await.unwrap().unwrap();
        assert_eq!(stored.state, JobState::Queued, "{b}");
        assert_eq!(stored.last_error.as_deref(), Some("boom"), "{b}");
        assert!(
            s.claim_job(T0 + 1999, 1000, "w").await.unwrap().is_none(),
            "{b}"
        );
        let j = s.claim_job(T0 + 2000, 1000, "w1").await.unwrap().unwrap();
        assert_eq!(j.attempts, 2, "{b}");
        assert!(s.complete_job(&j, T0 + 2001).await.unwrap(), "{b}");
        let done = s.job(a).await.unwrap().unwrap();
        assert_eq!(
            (done.state, done.finished_at),
            (JobState::Done, Some(T0 + 2001)),
            "{b}"
        );
        // Completing twice, or failing a finished job, changes nothing.
        assert!(!s.complete_job(&j, T0 + 2002).await.unwrap(), "{b}");
        assert!(
            !s.fail_job(&j, "late", None, T0 + 2003).await.unwrap(),
            "{b}"
        );
        // The key stays used after completion.
        let a3 = s
            .enqueue_job("t.x", &json!({}), T0, Some("k1"))
            .await
            .unwrap();
        assert_eq!(a3, a, "{b}");
        assert!(
            s.claim_job(T0 + 10_000, 1000, "w").await.unwrap().is_none(),
            "{b}"
        );

        // Giving up.
        let g = s.enqueue_job("t.g", &json!({}), T0, None).await.unwrap();
        let j = s.claim_job(T0, 1000, "w").await.unwrap().unwrap();
        assert_eq!(j.id, g);
        assert!(s.fail_job(&j, "fatal", None, T0 + 1).await.unwrap());
        assert_eq!(
            s.job(g).await.unwrap().unwrap().state,
            JobState::Dead,
            "{b}"
        );
        assert!(
            s.claim_job(T0 + 1_000_000, 1000, "w")
                .await
                .unwrap()
                .is_none(),
            "{b}"
        );

        // Invalid input is refused, not stored.
        let e = s.enqueue_job("", &json!({}), T0, None).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);

        // Purge removes finished jobs before the cut-off only.
        assert_eq!(s.purge_finished_jobs(T0 + 2001).await.unwrap(), 1, "{b}");
        assert!(s.job(a).await.unwrap().is_some(), "{b}");
        assert!(s.job(g).await.unwrap().is_none(), "{b}");
        assert_eq!(
            s.purge_finished_jobs(T0 + 10_000_000).await.unwrap(),
            1,
            "{b}"
        );
        assert!(s.job(a).await.unwrap().is_none(), "{b}");
    }
}

#[tokio::test]
async fn expired_leases_are_reclaimed_and_the_old_holder_loses() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        let id = s
            .enqueue_job("t.lease", &json!({}), T0, None)
            .await
            .unwrap();
        let first = s.claim_job(T0, 1000, "dead-worker").await.unwrap().unwrap();
        // The worker died; after the lease another claims it.
        assert!(
            s.claim_job(T0 + 999, 1000, "w2").await.unwrap().is_none(),
            "{b}"
        );
        let second = s.claim_job(T0 + 1000, 1000, "w2").await.unwrap().unwrap();
        assert_eq!((second.id, second.attempts), (id, 2), "{b}");
        // The first holder's late answer is refused; the second's counts.
        assert!(!s.complete_job(&first, T0 + 1001).await.unwrap(), "{b}");
        assert!(
            !s.fail_job(&first, "x", None, T0 + 1001).await.unwrap(),
            "{b}"
        );
        assert_eq!(s.job(id).await.unwrap().unwrap().state, JobState::Running);
        // Completion inside a business transaction.
        let mut tx = s.pool().begin().await.unwrap();
        assert!(complete_in(&mut tx, &second, T0 + 1002).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(
            s.job(id).await.unwrap().unwrap().state,
            JobState::Done,
            "{b}"
        );
    }
}

#[tokio::test]
async fn concurrent_claimers_take_each_job_once() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        const N: usize = 60;
        for i in 0..N {
            s.enqueue_job("t.c", &json!({ "i": i }), T0 + i as i64, None)
                .await
                .unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..4 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(j) = s
                    .claim_job(T0 + 1_000, 60_000, &format!("w{w}"))
                    .await
                    .unwrap()
                {
                    assert!(s.complete_job(&j, T0 + 1_001).await.unwrap());
                    got.push(j.id);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let unique: HashSet<_> = all.iter().collect();
        assert_eq!(all.len(), N, "every job once, {b}");
        assert_eq!(unique.len(), N, "{b}");
    }
}

fn sms(applicant: i64, to: &str, dedup: Option<&str>) -> NewOutboxMessage {
    NewOutboxMessage {
        channel: ChannelKind::Sms,
        applicant_id: applicant,
        recipient: to.into(),
        template_key: "notify.case_accepted".into(),
        args: json!({"case_number": "C-1", "n": 2}),
        case_number: Some("C-1".into()),
        dedup_key: dedup.map(str::to_string),
        send_at_ms: T0,
    }
}

#[tokio::test]
async fn outbox_encrypts_recipients_and_records_attempts() {
    for db in backends().await {
        let b = db.backend.name();
        // Without keys the message is refused (the address must not be stored in clear).
        let e = db
            .store
            .outbox_enqueue(&sms(1, "13800000001", None), T0)
            .await
            .unwrap_err();
        assert!(matches!(e, yiwang_store::StoreError::NoKeys), "{b}");
        let s = &with_keys(&db.store);
        // Written in a business transaction that rolls back: nothing.
        let mut tx = s.pool().begin().await.unwrap();
        s.outbox_enqueue_in(&mut tx, &sms(1, "13800000001", None), T0)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(
            s.claim_outbox(T0, 1000, "d", &ChannelKind::ALL)
                .await
                .unwrap()
                .is_none()
        );

        let id = s
            .outbox_enqueue(&sms(7, "13800000001", Some("case:1:sms")), T0)
            .await
            .unwrap();
        let again = s
            .outbox_enqueue(&sms(7, "13899999999", Some("case:1:sms")), T0)
            .await
            .unwrap();
        assert_eq!(id, again, "{b}");
        let raw: String = {
            use sqlx::Row;
            sqlx::query("SELECT recipient_enc FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(s.pool())
                .await
                .unwrap()
                .get(0)
        };
        assert!(!raw.contains("13800000001"), "stored encrypted, {b}");

        // Only the configured channels are claimed.
        assert!(
            s.claim_outbox(T0, 1000, "d", &[ChannelKind::Wechat])
                .await
                .unwrap()
                .is_none()
        );
        let c = s
            .claim_outbox(T0, 1000, "d1", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.recipient.as_deref(), Some("13800000001"), "{b}");
        assert_eq!((c.message.id, c.message.attempts), (id, 1));
        assert_eq!(c.message.status, OutboxStatus::Sending);
        assert!(
            s.outbox_failed(&c.message, "HTTP 500", Some(T0 + 5000), T0 + 1)
                .await
                .unwrap()
        );
        // Lease expired claim by someone else: the stale holder cannot record.
        let c2 = s
            .claim_outbox(T0 + 5000, 1000, "d2", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        let c3 = s
            .claim_outbox(T0 + 6000, 1000, "d3", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        assert!(
            !s.outbox_sent(&c2.message, "HTTP 200", T0 + 6001)
                .await
                .unwrap()
        );
        assert!(
            s.outbox_sent(&c3.message, "HTTP 200", T0 + 6002)
                .await
                .unwrap()
        );
        let m = s.outbox_message(id).await.unwrap().unwrap();
        assert_eq!(
            (m.status, m.attempts, m.sent_at),
            (OutboxStatus::Sent, 3, Some(T0 + 6002)),
            "{b}"
        );
        let attempts = s.outbox_attempts(id).await.unwrap();
        let seen: Vec<_> = attempts.iter().map(|a| (a.attempt, a.sent)).collect();
        assert_eq!(seen, vec![(1, false), (3, true)], "{b}");
        assert!(
            s.claim_outbox(T0 + 1_000_000, 1000, "d", &ChannelKind::ALL)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(s.outbox_for_applicant(7, 10).await.unwrap().len(), 1);

        // Bad arguments are refused.
        let mut bad = sms(7, "1", None);
        bad.args = json!(["not", "an", "object"]);
        let e = s.outbox_enqueue(&bad, T0).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{b}");
    }
}

#[tokio::test]
async fn message_centre_pages_counts_and_marks_only_own() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                s.post_message(
                    1,
                    Some("C-1"),
                    "msg.case_status",
                    &json!({"status": i}),
                    T0 + i,
                )
                .await
                .unwrap(),
            );
        }
        let other = s
            .post_message(2, None, "msg.welcome", &json!({}), T0)
            .await
            .unwrap();
        let p1 = s.messages_for(1, None, 2).await.unwrap();
        assert_eq!(
            p1.items.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![ids[4], ids[3]],
            "{b}"
        );
        let p2 = s.messages_for(1, p1.next, 2).await.unwrap();
        let p3 = s.messages_for(1, p2.next, 2).await.unwrap();
        assert_eq!(p3.items.len(), 1, "{b}");
        assert_eq!(p3.next, None, "{b}");
        assert!(
            p1.items
                .iter()
                .chain(&p2.items)
                .all(|m| m.applicant_id == 1)
        );
        assert_eq!(s.unread_count(1).await.unwrap(), 5, "{b}");
        s.mark_message_read(1, ids[0], T0 + 100).await.unwrap();
        s.mark_message_read(1, ids[0], T0 + 200).await.unwrap();
        assert_eq!(s.unread_count(1).await.unwrap(), 4, "{b}");
        // Someone else's message: not found, and unchanged.
        let e = s.mark_message_read(1, other, T0).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{b}");
        assert_eq!(s.unread_count(2).await.unwrap(), 1, "{b}");
        let first = s.messages_for(1, Some(ids[1]), 10).await.unwrap();
        assert_eq!(
            first.items[0].read_at,
            Some(T0 + 100),
            "first read kept, {b}"
        );
        assert_eq!(s.mark_all_messages_read(1, T0).await.unwrap(), 4, "{b}");
        assert_eq!(s.unread_count(1).await.unwrap(), 0, "{b}");
    }
}

fn upload(owner: i64, app: i64, material: &str, name: &str, byte: u8) -> NewUpload {
    NewUpload {
        owner_applicant_id: owner,
        application_id: app,
        material_key: material.into(),
        filename: name.into(),
        kind: FileKind::Pdf,
        size: 10,
        sha256: format!("{:02x}", byte).repeat(32),
        storage_key: format!("sha256-{}", format!("{:02x}", byte).repeat(32)),
    }
}

#[tokio::test]
async fn uploads_replace_until_submission_and_check_owners() {
    for db in backends().await {
        let s = &db.store;
        let b = db.backend.name();
        let a = s
            .record_upload(&upload(1, 100, "m1", "../../身份证.pdf", 1), T0)
            .await
            .unwrap();
        assert_eq!(a.filename, "身份证.pdf", "sanitised on write, {b}");
        let m2 = s
            .record_upload(&upload(1, 100, "m2", "b.pdf", 2), T0)
            .await
            .unwrap();
        // Another applicant cannot read, replace or remove it, nor add to the application.
        for e in [
            s.upload_for_owner(2, a.id).await.unwrap_err(),
            s.replace_upload(2, a.id, &upload(2, 100, "m1", "x.pdf", 3), T0)
                .await
                .unwrap_err(),
            s.remove_upload(2, a.id, T0).await.unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::NotFound, "{b}");
        }
        let e = s
            .record_upload(&upload(2, 100, "m1", "x.pdf", 3), T0)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Forbidden, "{b}");
        // Replacing: the old one stays on record.
        let a2 = s
            .replace_upload(1, a.id, &upload(1, 100, "m1", "new.pdf", 4), T0 + 1)
            .await
            .unwrap();
        let old = s.upload_for_owner(1, a.id).await.unwrap();
        assert_eq!(
            (old.status, old.replaced_by),
            (UploadStatus::Replaced, Some(a2.id)),
            "{b}"
        );
        let e = s
            .replace_upload(1, a.id, &upload(1, 100, "m1", "n.pdf", 5), T0)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict, "replaced twice, {b}");
        let current = s.uploads_for_application(100, false).await.unwrap();
        assert_eq!(
            current.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![a2.id, m2.id]
        );
        assert_eq!(s.uploads_for_application(100, true).await.unwrap().len(), 3);

        // Submission locks; a correction reopens only m2.
        let mut tx = s.pool().begin().await.unwrap();
        lock_uploads_in(&mut tx, 100, T0 + 10).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            s.upload_for_owner(1, a2.id).await.unwrap().frozen_at,
            Some(T0 + 10)
        );
        for e in [
            s.replace_upload(1, a2.id, &upload(1, 100, "m1", "z.pdf", 6), T0)
                .await
                .unwrap_err(),
            s.remove_upload(1, m2.id, T0).await.unwrap_err(),
            s.record_upload(&upload(1, 100, "m3", "z.pdf", 6), T0)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::UploadLocked, "{b}");
        }
        let mut tx = s.pool().begin().await.unwrap();
        reopen_uploads_in(&mut tx, 100, &["m2"]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            s.open_upload_materials(100).await.unwrap(),
            Some(vec!["m2".to_string()])
        );
        let fixed = s
            .replace_upload(1, m2.id, &upload(1, 100, "m2", "fixed.pdf", 7), T0 + 20)
            .await
            .unwrap();
        assert_eq!(fixed.frozen_at, None);
        let e = s
            .replace_upload(1, a2.id, &upload(1, 100, "m1", "z.pdf", 6), T0)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::UploadLocked, "{b}");
        assert!(s.storage_key_in_use(&a.storage_key).await.unwrap());
        assert!(!s.storage_key_in_use("sha256-none").await.unwrap());
        // Invalid hash refused.
        let mut bad = upload(1, 101, "m1", "a.pdf", 1);
        bad.sha256 = "XYZ".into();
        let e = s.record_upload(&bad, T0).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{b}");
    }
}

#[tokio::test]
async fn outbox_recipients_follow_key_rotation() {
    for db in backends().await {
        let b = db.backend.name();
        let mut file = KeyFile::generate(Alg::Sm4Gcm);
        let old = db
            .store
            .clone()
            .with_keys(Arc::new(file.ring(KeySource::Inline).unwrap()));
        let id = old
            .outbox_enqueue(&sms(5, "13912345678", None), T0)
            .await
            .unwrap();
        assert_eq!(file.add_data_key(Alg::Sm4Gcm), "k2");
        let both = db
            .store
            .clone()
            .with_keys(Arc::new(file.ring(KeySource::Inline).unwrap()));
        let sum = both.rotate_pii(10).await.unwrap();
        let col = sum
            .columns
            .iter()
            .find(|c| c.column == "outbox.recipient")
            .unwrap();
        assert_eq!((col.scanned, col.reencrypted), (1, 1), "{b}");
        // Only the new key left: the recipient still decrypts.
        file.data_keys.remove(0);
        let new_only = db
            .store
            .clone()
            .with_keys(Arc::new(file.ring(KeySource::Inline).unwrap()));
        let c = new_only
            .claim_outbox(T0, 1000, "d", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.message.id, c.recipient.as_deref()),
            (id, Some("13912345678")),
            "{b}"
        );
    }
}

/// A password-reset code must not stay readable in the outbox once the SMS left (or was given
/// up): the stored arguments keep everything but the code.
#[tokio::test]
async fn reset_codes_are_blanked_in_the_outbox_once_delivered_or_given_up() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &with_keys(&db.store);
        let code_sms = |dedup: &str| NewOutboxMessage {
            template_key: yiwang_store::password_reset::RESET_CODE_MESSAGE.into(),
            args: json!({"code": "428571", "minutes": 10}),
            case_number: None,
            ..sms(3, "13800000003", Some(dedup))
        };
        let raw_args = |id: i64| async move {
            use sqlx::Row;
            let v: String = sqlx::query("SELECT args FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(s.pool())
                .await
                .unwrap()
                .get(0);
            v
        };
        let sent = s.outbox_enqueue(&code_sms("reset:1"), T0).await.unwrap();
        let c = s
            .claim_outbox(T0, 1000, "d", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.message.id, sent);
        // The dispatcher still gets the code to send.
        assert_eq!(c.message.args["code"], "428571", "{b}");
        // A failed attempt that will be retried keeps it.
        assert!(
            s.outbox_failed(&c.message, "HTTP 503", Some(T0 + 10), T0 + 1)
                .await
                .unwrap()
        );
        assert!(raw_args(sent).await.contains("428571"), "{b}");
        let c = s
            .claim_outbox(T0 + 10, 1000, "d", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        assert!(
            s.outbox_sent(&c.message, "HTTP 200", T0 + 11)
                .await
                .unwrap()
        );
        let after = raw_args(sent).await;
        assert!(!after.contains("428571"), "{b}: {after}");
        let m = s.outbox_message(sent).await.unwrap().unwrap();
        assert_eq!(m.args, json!({"code": "------", "minutes": 10}), "{b}");
        assert_eq!(m.status, OutboxStatus::Sent);

        // Given up: blanked too.
        let gave_up = s.outbox_enqueue(&code_sms("reset:2"), T0).await.unwrap();
        let c = s
            .claim_outbox(T0 + 20, 1000, "d", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.message.id, gave_up);
        assert!(
            s.outbox_failed(&c.message, "HTTP 400", None, T0 + 21)
                .await
                .unwrap()
        );
        assert!(!raw_args(gave_up).await.contains("428571"), "{b}");

        // Other messages keep their arguments after delivery.
        let other = s
            .outbox_enqueue(&sms(3, "13800000003", Some("case:9:sms")), T0)
            .await
            .unwrap();
        let c = s
            .claim_outbox(T0 + 30, 1000, "d", &[ChannelKind::Sms])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.message.id, other);
        assert!(s.outbox_sent(&c.message, "ok", T0 + 31).await.unwrap());
        let m = s.outbox_message(other).await.unwrap().unwrap();
        assert_eq!(m.args, json!({"case_number": "C-1", "n": 2}), "{b}");
    }
}

/// Opened with the default options — what `yiwang serve` uses unless told otherwise — SQLite
/// fsyncs every commit (`synchronous = FULL`, 2); the relaxed setting is explicit.
#[tokio::test]
async fn the_default_connection_is_durable() {
    let dir = std::env::temp_dir().join(format!("yiwang-durable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("d.db").display());
    assert!(yiwang_store::ConnectOptions::default().durable);
    let s = Store::connect(&url).await.unwrap();
    assert_eq!(
        s.sqlite_pragma("synchronous").await.unwrap().as_deref(),
        Some("2")
    );
    // Every connection of the pool, not only the first.
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(s.pool().acquire().await.unwrap());
    }
    for c in &mut conns {
        use sqlx::Row;
        let v: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(&mut **c)
            .await
            .unwrap()
            .get(0);
        assert_eq!(v, 2);
    }
    drop(conns);
    s.close().await;
    let relaxed = Store::connect_with(
        &url,
        yiwang_store::ConnectOptions {
            durable: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        relaxed
            .sqlite_pragma("synchronous")
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );
    relaxed.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// 谁用了我的数据 reads each case's audit entries: by the case the entry is about (the object
/// `case:<n>` or `case:<n>:…`, never `case:<n>0`), through an index rather than a scan with a
/// prefix match.
#[tokio::test]
async fn a_cases_audit_entries_are_read_through_the_case_index() {
    for db in backends().await {
        let b = db.backend.name();
        let s = &db.store;
        let actor = yiwang_store::Actor::system("test");
        for (i, object) in [
            "case:2026001",
            "user:5",
            "case:2026001:sms",
            "case:20260010",
            "case:2026002",
            "case:2026001",
        ]
        .iter()
        .enumerate()
        {
            s.audit(T0 + i as i64, &actor.event("case.read", *object, "{}"))
                .await
                .unwrap();
        }
        let of = |n: &str| yiwang_store::AuditFilter {
            case_number: Some(n.to_string()),
            before_seq: Some(i64::MAX),
            limit: 200,
            ..Default::default()
        };
        let got: Vec<String> = s
            .audit_entries(&of("2026001"))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.object)
            .collect();
        assert_eq!(
            got,
            ["case:2026001", "case:2026001:sms", "case:2026001"],
            "{b}: newest first, only this case"
        );
        assert_eq!(s.audit_entries(&of("2026002")).await.unwrap().len(), 1);
        // The same filter forward (after a sequence number) too.
        let forward = s
            .audit_entries(&yiwang_store::AuditFilter {
                case_number: Some("20260010".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(forward.len(), 1, "{b}");

        // The plan uses the case index.
        use sqlx::Row;
        let plan: Vec<String> = match db.backend {
            yiwang_store::Backend::Sqlite => sqlx::query(
                "EXPLAIN QUERY PLAN SELECT seq FROM audit_log \
                 WHERE seq < 9223372036854775807 AND case_ref = 'case:2026001' \
                 ORDER BY seq DESC LIMIT 200",
            )
            .fetch_all(s.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(3))
            .collect(),
            yiwang_store::Backend::Postgres => {
                let mut tx = s.pool().begin().await.unwrap();
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                let rows = sqlx::query(
                    "EXPLAIN SELECT seq FROM audit_log \
                     WHERE seq < 9223372036854775807 AND case_ref = 'case:2026001' \
                     ORDER BY seq DESC LIMIT 200",
                )
                .fetch_all(&mut *tx)
                .await
                .unwrap();
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
        };
        assert!(
            plan.iter().any(|l| l.contains("audit_log_case_ref")),
            "{b}: {plan:?}"
        );
    }
}

/// An applicant has at most `open_drafts` drafts changed in the last 30 days (a bundle's parts
/// count one each); older drafts stop counting, so nobody stays blocked.
#[tokio::test]
async fn open_drafts_are_limited_per_applicant() {
    use yiwang_domain::ImplCode;
    use yiwang_domain::case::CaseSource;
    let now = yiwang_testkit::DEMO_NOW_MS;
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let s = db.store.clone().with_quotas(yiwang_store::Quotas {
            open_drafts: 3,
            ..Default::default()
        });
        let a = yiwang_testkit::applicant(&s, "11010519491231002X", "13800138000", now).await;
        let other = yiwang_testkit::applicant(&s, "120112199001011238", "13800138001", now).await;
        let food = ImplCode::parse("11120112MB1W167324000123001001").unwrap();
        for _ in 0..3 {
            s.create_application(a.id, &food, CaseSource::Online, None, now)
                .await
                .unwrap();
        }
        let e = s
            .create_application(a.id, &food, CaseSource::Online, None, now)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooManyDrafts, "{b}");
        assert_eq!(s.drafts_of(a.id).await.unwrap().len(), 3, "{b}");
        // Another applicant is not affected.
        s.create_application(other.id, &food, CaseSource::Online, None, now)
            .await
            .unwrap();
        // A bundle of two for `other` would pass the limit.
        let e = s
            .create_bundle(
                other.id,
                "kaidian",
                "开店",
                &[food.clone(), food.clone(), food.clone()],
                now,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooManyDrafts, "{b}");
        // 31 days later the old drafts no longer count.
        let later = now + 31 * 24 * 3600 * 1000;
        s.create_application(a.id, &food, CaseSource::Online, None, later)
            .await
            .unwrap();
    }
}
