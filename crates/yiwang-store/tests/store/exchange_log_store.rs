//! The exchange message log on every backend: the market regulator's yiwang asks the population
//! register, both sides log, appends from many tasks form one chain, and a row edited, removed or
//! cut off with raw SQL is named by `exchange_log_verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::case::CaseNumber;
use yiwang_domain::codes::{CreditCode, ImplCode};
use yiwang_exchange::log::BreakKind;
use yiwang_exchange::{
    Direction, EndUser, Envelope, EnvelopeFields, KeyId, MessageId, NewLogEntry, Party, Purpose,
    Seal, SealKey, ServiceCode, SignedRequest, SystemName, TrustBundle,
};
use yiwang_store::{ExchangeLogReport, LogVerifyOptions, Store};
use yiwang_testkit::{TestDb, backends};

const T0: i64 = 1_796_688_000_000;

fn market() -> CreditCode {
    CreditCode::with_check_char("11120112MB1W16732").unwrap()
}
fn police() -> CreditCode {
    CreditCode::with_check_char("11120112MB0000001").unwrap()
}
fn requester_key() -> SealKey {
    SealKey::sm2_from_secret(KeyId::parse("scjg-2026").unwrap(), market(), &[7; 32]).unwrap()
}
fn provider_key() -> SealKey {
    SealKey::sm2_from_secret(KeyId::parse("gaj-2026").unwrap(), police(), &[9; 32]).unwrap()
}

fn envelope(i: usize) -> Envelope {
    Envelope::new(EnvelopeFields {
        message_id: MessageId::parse(&format!("req-{i:06}")).unwrap(),
        requester: Party {
            org: market(),
            system: SystemName::parse("yiwang-jinnan").unwrap(),
        },
        provider: Party {
            org: police(),
            system: SystemName::parse("population-register").unwrap(),
        },
        service: ServiceCode::parse("population/person-by-id/v1").unwrap(),
        case_number: (i % 2 == 1).then(|| {
            CaseNumber::parse(&format!("11120112MB1W167324000123001001-20261208-{i:06}")).unwrap()
        }),
        item_code: ImplCode::parse("11120112MB1W167324000123001001").unwrap(),
        purpose: Purpose::parse("办理食品经营许可（新办）核验申请人身份").unwrap(),
        legal_basis: Purpose::parse("《食品经营许可和备案管理办法》第十二条").unwrap(),
        end_user: EndUser::parse("120112********002X").unwrap(),
        created_at: T0 + i as i64,
    })
    .unwrap()
}

/// Exchange `i`: a sealed request; every third one refused by the provider (no response).
fn body(i: usize) -> String {
    format!("{{\"id\":\"12011219800101002X\",\"n\":{i}}}")
}

fn exchanged(i: usize, direction: Direction) -> (SignedRequest, NewLogEntry) {
    let body = body(i);
    let req = requester_key().sign_request(envelope(i), body.as_bytes());
    let refused = i.is_multiple_of(3);
    let resp = (!refused).then(|| provider_key().sign_response(&req, b"{\"match\":\"unique\"}"));
    let entry = NewLogEntry {
        at: T0 + 1_000 + i as i64,
        direction,
        envelope: req.envelope.clone(),
        request_body_digest: req.body_digest,
        request_seal: req.seal.to_string(),
        response_body_digest: resp.as_ref().map(|r| r.body_digest),
        response_seal: resp.as_ref().map(|r| r.seal.to_string()),
        outcome: if refused { "refused:no-consent" } else { "ok" }.into(),
    };
    (req, entry)
}

async fn verify(s: &Store) -> ExchangeLogReport {
    s.exchange_log_verify(&LogVerifyOptions::default(), &mut |_| {})
        .await
        .unwrap()
}

async fn logged(n: usize) -> Vec<TestDb> {
    let dbs = backends().await;
    for db in &dbs {
        for i in 1..=n {
            let e = db
                .store
                .exchange_log_append(exchanged(i, Direction::Out).1)
                .await
                .unwrap();
            assert_eq!(e.seq, i as i64);
        }
    }
    dbs
}

async fn exec(s: &Store, sql: &str) -> u64 {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(s.pool())
        .await
        .unwrap()
        .rows_affected()
}

#[tokio::test]
async fn both_sides_log_an_exchange_and_the_chain_verifies() {
    for db in backends().await {
        let s = &db.store;
        let mut bundle = TrustBundle::default();
        for k in [requester_key(), provider_key()] {
            bundle.insert(k.key_id().clone(), k.trusted_key()).unwrap();
        }
        let mut written = Vec::new();
        for i in 1..=6 {
            // The requester logs what it sent and got; the provider what it received and answered.
            for d in [Direction::Out, Direction::In] {
                let (req, entry) = exchanged(i, d);
                let e = s.exchange_log_append(entry.clone()).await.unwrap();
                assert_eq!(e.entry, entry);
                // The seal as logged is the one that verifies against the published keys.
                assert_eq!(bundle.verify_request(&req, body(i).as_bytes()), Ok(()));
                assert_eq!(Seal::parse(&e.entry.request_seal), Ok(req.seal.clone()));
                written.push(e);
            }
        }
        let read = s.exchange_log_range(0, 100).await.unwrap();
        assert_eq!(read, written, "{:?}", db.backend);
        assert_eq!(s.exchange_log_range(10, 100).await.unwrap(), written[10..]);

        let both = s
            .exchange_log_of_message(&MessageId::parse("req-000003").unwrap())
            .await
            .unwrap();
        let dirs: Vec<_> = both.iter().map(|e| e.entry.direction).collect();
        assert_eq!(dirs, vec![Direction::Out, Direction::In]);
        assert_eq!(both[0].entry.outcome, "refused:no-consent");
        assert_eq!(both[0].entry.response_seal, None);

        let r = verify(s).await;
        assert!(r.ok(), "{:?}: {:?}", db.backend, r.problem);
        assert_eq!((r.checked, r.head_seq), (12, 12));
    }
}

#[tokio::test]
async fn concurrent_appends_form_one_chain() {
    for db in backends().await {
        let mut tasks = Vec::new();
        for i in 1..=24 {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                s.exchange_log_append(exchanged(i, Direction::In).1)
                    .await
                    .unwrap()
                    .seq
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=24).collect::<Vec<i64>>(), "{:?}", db.backend);
        let r = verify(&db.store).await;
        assert!(r.ok(), "{:?}: {:?}", db.backend, r.problem);
        assert_eq!(r.checked, 24);
    }
}

/// Each edit someone with database access could make, and the entry and kind `verify` names.
#[tokio::test]
async fn tampering_with_stored_rows_is_named_by_verify() {
    let cases: Vec<(&str, &str, i64, BreakKind)> = vec![
        (
            "outcome rewritten",
            "UPDATE exchange_log SET outcome = 'tampered' WHERE seq = 3",
            3,
            BreakKind::Altered,
        ),
        (
            "time moved",
            "UPDATE exchange_log SET at = at - 86400000 WHERE seq = 3",
            3,
            BreakKind::Altered,
        ),
        (
            "purpose in the envelope changed",
            "UPDATE exchange_log SET envelope = REPLACE(envelope, '核验申请人身份', '营销') WHERE seq = 3",
            3,
            BreakKind::Altered,
        ),
        (
            "subject unmasked in the envelope",
            "UPDATE exchange_log SET envelope = REPLACE(envelope, '120112********002X', '12011219800101002X') WHERE seq = 3",
            3,
            BreakKind::Unreadable,
        ),
        (
            "request seal replaced",
            "UPDATE exchange_log SET request_seal = (SELECT request_seal FROM exchange_log WHERE seq = 2) WHERE seq = 3",
            3,
            BreakKind::Altered,
        ),
        (
            "response removed",
            "UPDATE exchange_log SET response_body_digest = NULL, response_seal = NULL WHERE seq = 2",
            2,
            BreakKind::Altered,
        ),
        (
            "message id column pointed elsewhere",
            "UPDATE exchange_log SET message_id = 'req-999999' WHERE seq = 4",
            4,
            BreakKind::Unreadable,
        ),
        (
            "direction flipped",
            "UPDATE exchange_log SET direction = 'in' WHERE seq = 5",
            5,
            BreakKind::Altered,
        ),
        (
            "an entry deleted",
            "DELETE FROM exchange_log WHERE seq = 3",
            4,
            BreakKind::Gap,
        ),
        (
            "the last entries deleted",
            "DELETE FROM exchange_log WHERE seq >= 5",
            6,
            BreakKind::Truncated,
        ),
    ];
    for (what, sql, seq, kind) in cases {
        for db in logged(6).await {
            assert!(verify(&db.store).await.ok());
            assert!(
                exec(&db.store, sql).await >= 1,
                "{what}: the edit changed nothing"
            );
            let r = verify(&db.store).await;
            let p = r
                .problem
                .unwrap_or_else(|| panic!("{what} on {:?}: not detected", db.backend));
            assert_eq!(
                (p.seq, p.kind),
                (seq, kind),
                "{what} on {:?}: {p}",
                db.backend
            );
            assert!(p.to_string().contains(&format!("entry {seq}")));
        }
    }
}

const DAY: i64 = 86_400_000;

/// `n` exchanges, one a day after T0.
async fn daily(n: usize) -> Vec<TestDb> {
    let dbs = backends().await;
    for db in &dbs {
        for i in 1..=n {
            let mut e = exchanged(i, Direction::In).1;
            e.at = T0 + i as i64 * DAY;
            db.store.exchange_log_append(e).await.unwrap();
        }
    }
    dbs
}

fn trusted() -> TrustBundle {
    let mut b = TrustBundle::default();
    let k = provider_key();
    b.insert(k.key_id().clone(), k.trusted_key()).unwrap();
    b
}

#[tokio::test]
async fn a_retention_purge_leaves_a_sealed_checkpoint_that_verify_starts_from() {
    let bundle = trusted();
    for db in daily(10).await {
        let s = &db.store;
        // Nothing is older than the first day: nothing goes.
        let none = s
            .exchange_log_purge(T0, T0 + 20 * DAY, &provider_key())
            .await
            .unwrap();
        assert_eq!((none.purged, none.checkpoint), (0, None));

        // Keep what is younger than day 5 (entries 5..=10).
        let hash_4 = s.exchange_log_range(3, 1).await.unwrap()[0].hash;
        let p = s
            .exchange_log_purge(T0 + 5 * DAY, T0 + 20 * DAY, &provider_key())
            .await
            .unwrap();
        assert_eq!(p.purged, 4, "{:?}", db.backend);
        let cp = p.checkpoint.unwrap();
        assert_eq!((cp.tail.seq, cp.tail.hash), (4, hash_4));
        let left: Vec<i64> = s
            .exchange_log_range(0, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(left, (5..=10).collect::<Vec<_>>());

        // The log goes on after a purge, and verify checks what remains, seal included.
        s.exchange_log_append(exchanged(11, Direction::Out).1)
            .await
            .unwrap();
        let r = s
            .exchange_log_verify(
                &LogVerifyOptions {
                    bundle: Some(&bundle),
                    owner: Some(&police()),
                    signatures: false,
                },
                &mut |_| {},
            )
            .await
            .unwrap();
        assert!(r.ok(), "{:?}: {:?}", db.backend, r.problem);
        assert_eq!((r.start.seq, r.checked, r.head_seq), (4, 7, 11));
        assert_eq!(r.checkpoint_sealed, Some(true));

        // A second purge moves the checkpoint on.
        let p = s
            .exchange_log_purge(T0 + 8 * DAY, T0 + 21 * DAY, &provider_key())
            .await
            .unwrap();
        assert_eq!(p.purged, 3);
        let r = verify(s).await;
        assert!(r.ok(), "{:?}", r.problem);
        assert_eq!((r.start.seq, r.checked), (7, 4));
    }
}

#[tokio::test]
async fn a_forged_checkpoint_or_a_tampered_chain_is_caught_around_a_purge() {
    let bundle = trusted();
    for db in daily(6).await {
        let s = &db.store;
        // Tampering before the cut: the purge refuses to seal over it and removes nothing.
        exec(
            s,
            "UPDATE exchange_log SET outcome = 'tampered' WHERE seq = 2",
        )
        .await;
        let err = s
            .exchange_log_purge(T0 + 4 * DAY, T0 + 20 * DAY, &provider_key())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("entry 2"), "{err}");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exchange_log")
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(n, 6);
    }
    for db in daily(6).await {
        let s = &db.store;
        s.exchange_log_purge(T0 + 4 * DAY, T0 + 20 * DAY, &provider_key())
            .await
            .unwrap();
        // Someone moves the checkpoint to hide a rewrite: the seal no longer verifies, and
        // without the bundle the first remaining entry no longer links.
        exec(
            s,
            "UPDATE exchange_log_checkpoint SET hash = '1111111111111111111111111111111111111111111111111111111111111111'",
        )
        .await;
        let r = s
            .exchange_log_verify(
                &LogVerifyOptions {
                    bundle: Some(&bundle),
                    owner: Some(&police()),
                    signatures: false,
                },
                &mut |_| {},
            )
            .await
            .unwrap();
        let p = r.problem.unwrap();
        assert_eq!((p.seq, p.kind), (3, BreakKind::Checkpoint), "{p}");
        assert_eq!(r.checkpoint_sealed, Some(false));
        let p = verify(s).await.problem.unwrap();
        assert_eq!((p.seq, p.kind), (4, BreakKind::Link), "{p}");
    }
}

#[tokio::test]
async fn verify_can_recheck_every_seal_in_the_log() {
    let mut bundle = trusted();
    let k = requester_key();
    bundle.insert(k.key_id().clone(), k.trusted_key()).unwrap();
    let with_seals = LogVerifyOptions {
        bundle: Some(&bundle),
        owner: None,
        signatures: true,
    };
    for db in logged(6).await {
        let s = &db.store;
        let r = s
            .exchange_log_verify(&with_seals, &mut |_| {})
            .await
            .unwrap();
        assert!(r.ok(), "{:?}: {:?}", db.backend, r.problem);
        assert_eq!(r.checked, 6);
    }
    // A chain rebuilt whole (every hash recomputed) passes the hash check; the seals do not
    // follow. Here entry 4, a successful exchange, is logged with the response seal of entry 5.
    for db in backends().await {
        let s = &db.store;
        for i in 1..=6 {
            let mut e = exchanged(i, Direction::Out).1;
            if i == 4 {
                e.response_seal = exchanged(5, Direction::Out).1.response_seal;
            }
            s.exchange_log_append(e).await.unwrap();
        }
        assert!(verify(s).await.ok());
        let p = s
            .exchange_log_verify(&with_seals, &mut |_| {})
            .await
            .unwrap()
            .problem
            .unwrap();
        assert_eq!((p.seq, p.kind), (4, BreakKind::Seal), "{p}");
    }
}

#[tokio::test]
async fn a_replayed_message_id_is_refused_across_processes() {
    use yiwang_exchange::Replayed;
    const WINDOW: i64 = 300_000;
    for db in backends().await {
        // A second store on the same database plays the provider's second process.
        let other = Store::connect(&db.url).await.unwrap();
        let e = envelope(1);
        let now = T0 + 1_000;
        assert_eq!(
            db.store
                .exchange_first_use(&e, now, WINDOW, 5_000)
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            other
                .exchange_first_use(&e, now + 5, WINDOW, 5_000)
                .await
                .unwrap(),
            Err(Replayed::Seen),
            "{:?}",
            db.backend
        );
        // Another requester may use the same id.
        let mut f = envelope(1).fields().clone();
        f.requester.org = CreditCode::with_check_char("11120112MB0000009").unwrap();
        let theirs = Envelope::new(f).unwrap();
        assert_eq!(
            other
                .exchange_first_use(&theirs, now, WINDOW, 5_000)
                .await
                .unwrap(),
            Ok(())
        );
        // Outside the window: refused before it is looked up.
        assert_eq!(
            db.store
                .exchange_first_use(&envelope(2), T0 + WINDOW + 3, WINDOW, 5_000)
                .await
                .unwrap(),
            Err(Replayed::Stale)
        );
        assert_eq!(
            db.store
                .exchange_first_use(&envelope(9), T0 - 10_000, WINDOW, 5_000)
                .await
                .unwrap(),
            Err(Replayed::Future)
        );
        other.close().await;
    }
}
