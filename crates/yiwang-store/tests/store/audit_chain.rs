//! The audit chain on every backend: appends (also concurrent) keep it valid, and each kind of
//! tampering done with raw SQL is caught at the right entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_store::{AuditEvent, AuditFilter, ProblemKind, Store, VerifyReport};
use yiwang_testkit::{TestDb, backends};

fn event(i: usize) -> AuditEvent {
    AuditEvent {
        actor_id: if i.is_multiple_of(3) {
            None
        } else {
            Some(i as i64 % 7)
        },
        actor: format!("user{}", i % 7),
        action: "test.event".into(),
        object: format!("thing:{i}"),
        detail: format!("{{\"i\":{i}}}"),
        client: "127.0.0.1".into(),
    }
}

async fn verify(s: &Store) -> VerifyReport {
    s.audit_verify(&mut |_| {}).await.unwrap()
}

/// Fresh databases holding `n` chained entries (seq 1..=n).
async fn chained(n: usize) -> Vec<TestDb> {
    let dbs = backends().await;
    for db in &dbs {
        for i in 1..=n {
            let seq = db.store.audit(1_000 + i as i64, &event(i)).await.unwrap();
            assert_eq!(seq, i as i64);
        }
    }
    dbs
}

async fn exec(s: &Store, sql: &str, binds: &[&str]) -> u64 {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.execute(s.pool()).await.unwrap().rows_affected()
}

fn assert_problem(r: &VerifyReport, kind: ProblemKind, seq: i64, what: &str) {
    let p = r
        .problem
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: tampering not detected"));
    assert_eq!((p.kind, p.seq), (kind, seq), "{what}: {p}");
    assert!(!p.to_string().is_empty());
}

#[tokio::test]
async fn an_untouched_chain_verifies_and_pages() {
    for db in chained(30).await {
        let s = &db.store;
        let r = verify(s).await;
        assert!(r.ok(), "{:?}: {:?}", db.backend, r.problem);
        assert_eq!((r.entries, r.head_seq), (30, 30));
        assert_eq!(s.audit_count().await.unwrap(), 30);

        let page = s
            .audit_entries(&AuditFilter {
                after_seq: 10,
                limit: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        let seqs: Vec<i64> = page.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![11, 12, 13, 14, 15]);
        assert_eq!(page[0].event, event(11));
        assert_eq!(page[0].prev_hash, {
            let prev = s
                .audit_entries(&AuditFilter {
                    after_seq: 9,
                    limit: 1,
                    ..Default::default()
                })
                .await
                .unwrap();
            prev[0].hash.clone()
        });
        assert_eq!(page[0].recomputed_hash(), page[0].hash);

        let by_actor = s
            .audit_entries(&AuditFilter {
                actor_id: Some(2),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!by_actor.is_empty());
        assert!(by_actor.iter().all(|e| e.event.actor_id == Some(2)));
        let by_object = s
            .audit_entries(&AuditFilter {
                object_prefix: Some("thing:2".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let objs: Vec<&str> = by_object.iter().map(|e| e.event.object.as_str()).collect();
        assert_eq!(
            objs,
            vec![
                "thing:2", "thing:20", "thing:21", "thing:22", "thing:23", "thing:24", "thing:25",
                "thing:26", "thing:27", "thing:28", "thing:29"
            ]
        );
        // Prefix match is exact: no case folding, no wildcards.
        for p in ["THING:2", "thing:%", "thing_2"] {
            let none = s
                .audit_entries(&AuditFilter {
                    object_prefix: Some(p.into()),
                    limit: 100,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert!(none.is_empty(), "{p}");
        }
    }
}

#[tokio::test]
async fn an_empty_log_verifies() {
    for db in backends().await {
        let r = verify(&db.store).await;
        assert!(r.ok());
        assert_eq!(r.entries, 0);
    }
}

#[tokio::test]
async fn concurrent_appends_keep_one_valid_chain() {
    const TASKS: usize = 8;
    const EACH: usize = 25;
    for db in backends().await {
        let mut handles = Vec::new();
        for t in 0..TASKS {
            let s = db.store.clone();
            handles.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for k in 0..EACH {
                    seqs.push(s.audit(5_000, &event(t * 1000 + k)).await.unwrap());
                }
                seqs
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all.sort_unstable();
        let expected: Vec<i64> = (1..=(TASKS * EACH) as i64).collect();
        assert_eq!(
            all, expected,
            "{:?}: sequence numbers unique and dense",
            db.backend
        );
        let r = verify(&db.store).await;
        assert!(r.ok(), "{:?}: {:?}", db.backend, r.problem);
        assert_eq!(r.entries, (TASKS * EACH) as u64);
    }
}

#[tokio::test]
async fn an_altered_field_is_caught() {
    for db in chained(20).await {
        let n = exec(
            &db.store,
            "UPDATE audit_log SET detail = $1 WHERE seq = 7",
            &["{\"i\":70}"],
        )
        .await;
        assert_eq!(n, 1);
        assert_problem(&verify(&db.store).await, ProblemKind::Altered, 7, "detail");
    }
    for db in chained(20).await {
        exec(
            &db.store,
            "UPDATE audit_log SET at = at + 1 WHERE seq = 1",
            &[],
        )
        .await;
        assert_problem(
            &verify(&db.store).await,
            ProblemKind::Altered,
            1,
            "timestamp",
        );
    }
    for db in chained(20).await {
        exec(
            &db.store,
            "UPDATE audit_log SET actor_id = NULL WHERE seq = 20",
            &[],
        )
        .await;
        assert_problem(
            &verify(&db.store).await,
            ProblemKind::Altered,
            20,
            "last actor",
        );
    }
}

#[tokio::test]
async fn a_deleted_middle_entry_is_caught() {
    for db in chained(20).await {
        exec(&db.store, "DELETE FROM audit_log WHERE seq = 9", &[]).await;
        let r = verify(&db.store).await;
        assert_problem(&r, ProblemKind::Deleted, 8, "middle");
        assert_eq!(r.entries, 8);
    }
    for db in chained(20).await {
        exec(&db.store, "DELETE FROM audit_log WHERE seq = 1", &[]).await;
        assert_problem(&verify(&db.store).await, ProblemKind::Deleted, 0, "first");
    }
}

#[tokio::test]
async fn a_deleted_last_entry_is_caught() {
    for db in chained(20).await {
        exec(&db.store, "DELETE FROM audit_log WHERE seq >= 19", &[]).await;
        let r = verify(&db.store).await;
        assert_problem(&r, ProblemKind::Truncated, 18, "tail");
        assert_eq!(r.entries, 18);
    }
}

#[tokio::test]
async fn swapped_entries_are_caught() {
    const COLS: &str = "at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash";
    for db in chained(20).await {
        let s = &db.store;
        // Move row 12 aside, copy 5 into 12, then the saved 12 into 5.
        exec(s, "UPDATE audit_log SET seq = -12 WHERE seq = 12", &[]).await;
        exec(
            s,
            &format!(
                "INSERT INTO audit_log (seq, {COLS}) SELECT 12, {COLS} FROM audit_log WHERE seq = 5"
            ),
            &[],
        )
        .await;
        exec(s, "DELETE FROM audit_log WHERE seq = 5", &[]).await;
        exec(s, "UPDATE audit_log SET seq = 5 WHERE seq = -12", &[]).await;
        assert_eq!(s.audit_count().await.unwrap(), 20);
        assert_problem(&verify(s).await, ProblemKind::Reordered, 5, "swap");
    }
}

#[tokio::test]
async fn a_rehashed_entry_is_caught_by_recomputation() {
    for db in chained(20).await {
        let s = &db.store;
        // Change a field, then give the entry a fresh-looking hash and relink its successor, so
        // every stored link is consistent; only recomputing the hash can tell.
        let forged = "ab".repeat(32);
        exec(
            s,
            "UPDATE audit_log SET actor = 'mallory', hash = $1 WHERE seq = 10",
            &[&forged],
        )
        .await;
        exec(
            s,
            "UPDATE audit_log SET prev_hash = $1 WHERE seq = 11",
            &[&forged],
        )
        .await;
        let r = verify(s).await;
        assert_problem(&r, ProblemKind::Altered, 10, "rehash");
        assert_eq!(r.entries, 9);
    }
}

#[tokio::test]
async fn forged_head_and_extra_entries_are_caught() {
    for db in chained(10).await {
        exec(
            &db.store,
            "UPDATE audit_head SET hash = $1 WHERE id = 1",
            &[&"cd".repeat(32)],
        )
        .await;
        assert_problem(
            &verify(&db.store).await,
            ProblemKind::HeadMismatch,
            10,
            "head hash",
        );
    }
    for db in chained(10).await {
        let s = &db.store;
        exec(
            s,
            "INSERT INTO audit_log (seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash) \
             SELECT 11, at, actor_id, actor, action, object, detail, client, alg, hash, hash FROM audit_log WHERE seq = 10",
            &[],
        )
        .await;
        assert_problem(&verify(s).await, ProblemKind::Unanchored, 11, "extra entry");
    }
    for db in chained(10).await {
        exec(
            &db.store,
            "UPDATE audit_log SET alg = 'md5' WHERE seq = 3",
            &[],
        )
        .await;
        assert_problem(
            &verify(&db.store).await,
            ProblemKind::UnknownAlgorithm,
            3,
            "alg",
        );
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_entry() {
    for db in chained(3).await {
        let s = &db.store;
        let mut tx = s.pool().begin().await.unwrap();
        let seq = yiwang_store::audit::append_in(&mut tx, 9, &event(99))
            .await
            .unwrap();
        assert_eq!(seq, 4);
        tx.rollback().await.unwrap();
        assert_eq!(s.audit_count().await.unwrap(), 3);
        assert!(verify(s).await.ok());
        assert_eq!(
            s.audit(10, &event(100)).await.unwrap(),
            4,
            "the seq is reused"
        );
        assert!(verify(s).await.ok());
    }
}

/// Loads entries 1..=n directly (hashes computed here), as an old, long log would look.
async fn bulk(s: &Store, n: i64) {
    use yiwang_store::audit::{AUDIT_ALG, GENESIS_HASH, entry_hash};
    const ROWS: i64 = 30;
    let mut prev = GENESIS_HASH.to_string();
    let mut tx = s.pool().begin().await.unwrap();
    let mut seq = 0;
    while seq < n {
        let rows = ROWS.min(n - seq);
        let groups: Vec<String> = (0..rows)
            .map(|r| {
                let ph: Vec<String> = (1..=11).map(|c| format!("${}", r * 11 + c)).collect();
                format!("({})", ph.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash) VALUES {}",
            groups.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for _ in 0..rows {
            seq += 1;
            let e = event(seq as usize);
            let hash = entry_hash(AUDIT_ALG, seq, seq, &e, &prev);
            q = q
                .bind(seq)
                .bind(seq)
                .bind(e.actor_id)
                .bind(e.actor)
                .bind(e.action)
                .bind(e.object)
                .bind(e.detail)
                .bind(e.client)
                .bind(AUDIT_ALG)
                .bind(std::mem::replace(&mut prev, hash.clone()))
                .bind(hash);
        }
        q.execute(&mut *tx).await.unwrap();
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(n)
        .bind(prev)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn long_logs_are_checked_across_pages() {
    const N: i64 = 45_000;
    for db in backends().await {
        let s = &db.store;
        bulk(s, N).await;
        let mut seen = Vec::new();
        let r = s.audit_verify(&mut |n| seen.push(n)).await.unwrap();
        assert!(r.ok(), "{:?}: {:?}", db.backend, r.problem);
        assert_eq!(r.entries, N as u64);
        assert!(
            seen.len() >= 3 && seen.windows(2).all(|w| w[0] < w[1]),
            "{seen:?}"
        );
        assert_eq!(
            s.audit(1, &event(0)).await.unwrap(),
            N + 1,
            "appends continue the chain"
        );

        // A deletion right at a page boundary, and an alteration deep in a later page.
        exec(s, "DELETE FROM audit_log WHERE seq = 20001", &[]).await;
        exec(
            s,
            "UPDATE audit_log SET client = 'x' WHERE seq = 41234",
            &[],
        )
        .await;
        let r = s.audit_verify(&mut |_| {}).await.unwrap();
        assert_problem(&r, ProblemKind::Deleted, 20_000, "page boundary");
        assert_eq!(r.entries, 20_000);
        exec(
            s,
            "INSERT INTO audit_log (seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash) \
             SELECT 20001, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash FROM audit_log WHERE seq = 20002",
            &[],
        )
        .await;
        assert_problem(
            &s.audit_verify(&mut |_| {}).await.unwrap(),
            ProblemKind::Reordered,
            20_001,
            "copied entry",
        );
        exec(s, "DELETE FROM audit_log WHERE seq = 20001", &[]).await;
        exec(s, "UPDATE audit_log SET seq = 20001 WHERE seq = 20002", &[]).await;
        // Now 20001 holds 20002's contents (a renumbering): its hash covers seq 20002.
        let r = s.audit_verify(&mut |_| {}).await.unwrap();
        assert_problem(&r, ProblemKind::Reordered, 20_001, "renumbered");
    }
}

#[tokio::test]
async fn newest_first_below_a_cursor() {
    for db in yiwang_testkit::backends().await {
        let s = &db.store;
        let base = s.audit_count().await.unwrap();
        for i in 0..10 {
            let e = AuditEvent {
                actor: "test".into(),
                action: "test.event".into(),
                object: format!("thing:{i}"),
                ..Default::default()
            };
            s.audit(1_000 + i, &e).await.unwrap();
        }
        let newest = s
            .audit_entries(&AuditFilter {
                before_seq: Some(i64::MAX),
                limit: 3,
                ..Default::default()
            })
            .await
            .unwrap();
        let seqs: Vec<i64> = newest.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [base + 10, base + 9, base + 8]);
        let older = s
            .audit_entries(&AuditFilter {
                before_seq: Some(base + 8),
                object_prefix: Some("thing:".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(older.len(), 7);
        assert!(older.windows(2).all(|w| w[0].seq > w[1].seq));
    }
}

/// A chain rewritten as a whole (an entry changed and every later hash recomputed, the head
/// moved along) passes the hash check: only an anchor kept outside the database shows it.
#[tokio::test]
async fn a_rewritten_chain_is_caught_by_its_anchors() {
    use yiwang_store::audit::{AuditEntry, entry_hash};
    for db in chained(12).await {
        let s = &db.store;
        let b = db.backend.name();
        let early = s.audit_check_anchors(&[]).await.unwrap();
        assert!(early.is_empty());
        let anchor = s.audit_head().await.unwrap();
        assert_eq!(anchor.seq, 12, "{b}");
        assert!(
            s.audit_check_anchors(std::slice::from_ref(&anchor))
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );

        // Rewrite entry 5's detail and re-chain 5..=12 with valid hashes.
        let mut entries: Vec<AuditEntry> = s
            .audit_entries(&AuditFilter {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        entries.sort_by_key(|e| e.seq);
        let mut prev = entries[3].hash.clone();
        for e in entries.iter_mut().skip(4) {
            if e.seq == 5 {
                e.event.detail = "{\"i\":\"forged\"}".into();
            }
            let h = entry_hash(&e.alg, e.seq, e.at, &e.event, &prev);
            exec(
                s,
                "UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = CAST($4 AS BIGINT)",
                &[&e.event.detail, &prev, &h, &e.seq.to_string()],
            )
            .await;
            prev = h;
        }
        exec(s, "UPDATE audit_head SET hash = $1 WHERE id = 1", &[&prev]).await;
        let r = verify(s).await;
        assert!(
            r.ok(),
            "{b}: a whole rewrite passes the hash check: {:?}",
            r.problem
        );
        let bad = s.audit_check_anchors(&[anchor]).await.unwrap();
        assert_eq!(bad.len(), 1, "{b}: the anchor no longer matches");
        assert_eq!(bad[0].seq, 12);
        assert_eq!(bad[0].stored.as_deref(), Some(prev.as_str()));
    }
}

#[test]
fn the_entry_hash_covers_the_algorithm_name() {
    use yiwang_store::audit::{AUDIT_ALG, GENESIS_HASH, entry_hash};
    let e = event(1);
    let ours = entry_hash(AUDIT_ALG, 1, 1, &e, GENESIS_HASH);
    // Relabelling an entry with another algorithm changes its hash, so verify catches it even
    // for a name it knows.
    assert_ne!(ours, entry_hash("sha256", 1, 1, &e, GENESIS_HASH));
    assert_eq!(ours, entry_hash(AUDIT_ALG, 1, 1, &e, GENESIS_HASH));
}
