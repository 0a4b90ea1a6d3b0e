//! Reads that gather related rows into JSON lists in one statement give, on every backend,
//! exactly what one statement per table gave: a case file (timeline, tasks, corrections) and a
//! draft with its current uploads. Stored text with quotes, backslashes, line breaks and CJK,
//! NULLs and large numbers must come back unchanged; no rows gives empty lists.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::CaseSource;
use yiwang_domain::upload::FileKind;
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_store::Store;
use yiwang_store::applications::DraftOwner;
use yiwang_store::case_read::{CaseEventRow, CaseFile, CaseTaskRow, CorrectionRow};
use yiwang_store::cases::{CaseActor, CaseClock, CaseRecord};
use yiwang_store::uploads::NewUpload;
use yiwang_testkit::{DEMO_NOW_MS, backends};

const FOOD: &str = "11120112MB1W167324000123001001";
const MARKET: &str = "11120112MB1L902463";
const ODD: &str = "引号\"'反斜杠\\换行\n制表\t</script>\u{1F600}";

/// The case file as it was read before, one statement per table.
async fn case_file_by_parts(store: &Store, case: CaseRecord) -> CaseFile {
    let pool = store.pool();
    type Event = (
        i64,
        i64,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    );
    let events: Vec<Event> = sqlx::query_as(
        "SELECT seq, at, action, from_state, to_state, actor_kind, actor_name, opinion \
         FROM case_events WHERE case_id = $1 ORDER BY seq",
    )
    .bind(case.id)
    .fetch_all(pool)
    .await
    .unwrap();
    type Task = (
        String,
        String,
        Option<String>,
        String,
        Option<i64>,
        Option<String>,
    );
    let tasks: Vec<Task> = sqlx::query_as(
        "SELECT t.task_key, t.department_code, d.name AS department_name, t.status, t.decided_at, t.opinion \
         FROM case_tasks t LEFT JOIN departments d ON d.credit_code = t.department_code \
         WHERE t.case_id = $1 ORDER BY t.task_key",
    )
    .bind(case.id)
    .fetch_all(pool)
    .await
    .unwrap();
    let corrections: Vec<(i64, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT round, items, requested_at, resolved_at FROM corrections WHERE case_id = $1 ORDER BY round",
    )
    .bind(case.id)
    .fetch_all(pool)
    .await
    .unwrap();
    CaseFile {
        case,
        events: events
            .into_iter()
            .map(
                |(seq, at, action, from_state, to_state, actor_kind, actor_name, opinion)| {
                    CaseEventRow {
                        seq,
                        at,
                        action,
                        from_state,
                        to_state,
                        actor_kind,
                        actor_name,
                        opinion,
                    }
                },
            )
            .collect(),
        tasks: tasks
            .into_iter()
            .map(
                |(task_key, department_code, department_name, status, decided_at, opinion)| {
                    CaseTaskRow {
                        task_key,
                        department_code,
                        department_name,
                        status,
                        decided_at,
                        opinion,
                    }
                },
            )
            .collect(),
        corrections: corrections
            .into_iter()
            .map(|(round, items, requested_at, resolved_at)| CorrectionRow {
                round,
                items: serde_json::from_str(&items).unwrap(),
                requested_at,
                resolved_at,
            })
            .collect(),
    }
}

fn same(a: &CaseFile, b: &CaseFile, what: &str) {
    assert_eq!(a.case, b.case, "{what}");
    assert_eq!(a.events, b.events, "{what}");
    assert_eq!(a.tasks, b.tasks, "{what}");
    assert_eq!(a.corrections, b.corrections, "{what}");
}

fn upload(owner: i64, app: i64, material: &str, name: &str, byte: u8) -> NewUpload {
    NewUpload {
        owner_applicant_id: owner,
        application_id: app,
        material_key: material.into(),
        filename: name.into(),
        kind: if byte.is_multiple_of(2) {
            FileKind::Png
        } else {
            FileKind::Pdf
        },
        size: 10 + i64::from(byte),
        sha256: format!("{byte:02x}").repeat(32),
        storage_key: format!("sha256-{}", format!("{byte:02x}").repeat(32)),
    }
}

#[tokio::test]
async fn one_statement_reads_equal_the_per_table_reads_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let store = db.store.clone();
        let calendar = store.calendar().await.unwrap();
        let alice =
            yiwang_testkit::applicant(&store, "11010519491231002X", "13800138000", DEMO_NOW_MS)
                .await;
        let food = ImplCode::parse(FOOD).unwrap();
        let owner = DraftOwner::Applicant(alice.id);

        // A draft without files, then with some (one removed, one replaced: not current).
        let app = store
            .create_application(alice.id, &food, CaseSource::Online, None, DEMO_NOW_MS)
            .await
            .unwrap();
        let (read, files, _) = store.application_with_uploads(app.id, owner).await.unwrap();
        assert_eq!(read, store.application(app.id, owner).await.unwrap(), "{b}");
        assert!(files.is_empty(), "{b}");
        store
            .save_answers(
                app.id,
                owner,
                &serde_json::json!({"note": ODD}),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let mut ids = Vec::new();
        for (i, (material, name)) in [
            ("营业执照", ODD),
            ("身份证", "b.pdf"),
            ("营业执照", "a.png"),
        ]
        .into_iter()
        .enumerate()
        {
            let up = store
                .record_upload(
                    &upload(alice.id, app.id, material, name, i as u8 + 1),
                    DEMO_NOW_MS,
                )
                .await
                .unwrap();
            ids.push(up.id);
        }
        store
            .remove_upload(alice.id, ids[1], DEMO_NOW_MS + 1)
            .await
            .unwrap();
        store
            .replace_upload(
                alice.id,
                ids[2],
                &upload(alice.id, app.id, "营业执照", "c.pdf", 9),
                DEMO_NOW_MS + 2,
            )
            .await
            .unwrap();
        let (read, files, _) = store.application_with_uploads(app.id, owner).await.unwrap();
        assert_eq!(read, store.application(app.id, owner).await.unwrap(), "{b}");
        assert_eq!(read.answers["note"], ODD, "{b}");
        assert_eq!(
            files,
            store.uploads_for_application(app.id, false).await.unwrap(),
            "{b}"
        );
        assert_eq!(
            files.len(),
            2,
            "{b}: the removed and the replaced file are not current"
        );
        assert_eq!(
            store
                .application_with_uploads(app.id, DraftOwner::Applicant(alice.id + 1000))
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NotFound,
            "{b}: another's draft does not exist for them"
        );
        assert_eq!(
            store
                .application_with_uploads(-1, owner)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NotFound,
            "{b}"
        );

        // Submitted: the draft now names its case.
        let monday = CivilDate::from_ymd(2026, 11, 30).unwrap();
        let done = store
            .submit_application(
                app.id,
                CaseActor::Applicant(&alice),
                "127.0.0.1",
                CaseClock {
                    now_ms: DEMO_NOW_MS + 60_000,
                    today: monday,
                    calendar: &calendar,
                },
            )
            .await
            .unwrap();
        let (read, files, _) = store.application_with_uploads(app.id, owner).await.unwrap();
        assert_eq!(
            read.case_number.as_deref(),
            Some(done.number.as_str()),
            "{b}"
        );
        assert_eq!(
            files,
            store.uploads_for_application(app.id, false).await.unwrap(),
            "{b}"
        );

        // The case as submitted, then with rows added out of order: odd text, NULLs, a task
        // of a department that does not exist (no name), large numbers.
        let case = store.case_record(&done.number).await.unwrap();
        same(
            &store.case_file(case.clone()).await.unwrap(),
            &case_file_by_parts(&store, case.clone()).await,
            b,
        );
        let pool = store.pool();
        for (seq, opinion) in [(9_i64, None), (5, Some(ODD)), (7, Some(""))] {
            sqlx::query(
                "INSERT INTO case_events (case_id, seq, at, action, from_state, to_state, \
                 actor_kind, actor_id, actor_name, opinion, detail) \
                 VALUES ($1, $2, $3, $4, 'a', 'b', 'staff', NULL, $5, $6, '{}')",
            )
            .bind(case.id)
            .bind(seq)
            .bind(i64::MAX - seq)
            .bind(format!("act{seq}"))
            .bind(ODD)
            .bind(opinion)
            .execute(pool)
            .await
            .unwrap();
        }
        for (key, dept, decided, opinion) in [
            ("zeta", MARKET, Some(DEMO_NOW_MS), Some(ODD)),
            ("alpha", "000000000000000000", None, None),
            ("mid", MARKET, None, Some("同意")),
        ] {
            sqlx::query(
                "INSERT INTO case_tasks (case_id, task_key, department_code, status, decided_at, opinion) \
                 VALUES ($1, $2, $3, 'pending', $4, $5)",
            )
            .bind(case.id)
            .bind(key)
            .bind(dept)
            .bind(decided)
            .bind(opinion)
            .execute(pool)
            .await
            .unwrap();
        }
        let items = serde_json::json!([{"target": "field:x", "label": ODD, "problem": "缺"}]);
        for (round, resolved) in [(2_i64, None), (1, Some(DEMO_NOW_MS + 5))] {
            sqlx::query(
                "INSERT INTO corrections (case_id, round, items, requested_at, resolved_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(case.id)
            .bind(round)
            .bind(items.to_string())
            .bind(DEMO_NOW_MS + round)
            .bind(resolved)
            .execute(pool)
            .await
            .unwrap();
        }
        let file = store.case_file(case.clone()).await.unwrap();
        same(&file, &case_file_by_parts(&store, case.clone()).await, b);
        let seqs: Vec<i64> = file.events.iter().map(|e| e.seq).collect();
        assert!(seqs.ends_with(&[5, 7, 9]), "{b}: {seqs:?}");
        assert_eq!(
            file.events.iter().filter(|e| e.actor_name == ODD).count(),
            3,
            "{b}"
        );
        assert!(file.events.iter().any(|e| e.at == i64::MAX - 5), "{b}");
        let keys: Vec<&str> = file.tasks.iter().map(|t| t.task_key.as_str()).collect();
        assert_eq!(keys, ["alpha", "mid", "zeta"], "{b}");
        assert_eq!(file.tasks[0].department_name, None, "{b}");
        assert!(file.tasks[1].department_name.is_some(), "{b}");
        assert_eq!(file.tasks[2].opinion.as_deref(), Some(ODD), "{b}");
        let rounds: Vec<i64> = file.corrections.iter().map(|c| c.round).collect();
        assert_eq!(rounds, [1, 2], "{b}");
        assert_eq!(file.corrections[0].items[0].label, ODD, "{b}");
        assert_eq!(file.open_correction().map(|c| c.round), Some(2), "{b}");

        // A case with no rows in any of the three tables.
        let mut empty = case.clone();
        empty.id = -1;
        let file = store.case_file(empty.clone()).await.unwrap();
        assert!(
            file.events.is_empty() && file.tasks.is_empty() && file.corrections.is_empty(),
            "{b}"
        );
        same(&file, &case_file_by_parts(&store, empty).await, b);
    }
}
