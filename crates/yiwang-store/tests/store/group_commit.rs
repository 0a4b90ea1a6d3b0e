//! Grouped writes under concurrency, on every backend: many submissions at once (each draft
//! twice) give one case per draft with consecutive numbers; many clerks accepting one case at
//! once give one winner and clear conflicts for the rest, whose writes leave nothing behind
//! although they shared a transaction with the winner; the audit chain stays whole.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::CaseSource;
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_domain::{CreditCode, ErrorCode, ImplCode, RegionCode};
use yiwang_store::cases::{ActionRequest, CaseActor, CaseClock};
use yiwang_store::{Actor, NewUser, Store};
use yiwang_testkit::{DEMO_NOW_MS, backends};

const FOOD: &str = "11120112MB1W167324000123001001";
const APPROVALS: &str = "11120112MB1W167324";
const DRAFTS: usize = 40;
const CLERKS: usize = 12;

async fn count(store: &Store, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(store.pool()).await.unwrap();
    n
}

/// Submits draft `id` of `who` on Monday 2026-11-30, the `i`-th request of a burst.
async fn submit(
    store: &Store,
    calendar: &yiwang_domain::calendar::Calendar,
    id: i64,
    who: &yiwang_store::applicants::Applicant,
    i: usize,
) -> Result<yiwang_store::cases::Submitted, yiwang_store::StoreError> {
    let clock = CaseClock {
        now_ms: DEMO_NOW_MS + i as i64,
        today: CivilDate::from_ymd(2026, 11, 30).unwrap(),
        calendar,
    };
    store
        .submit_application(id, CaseActor::Applicant(who), "127.0.0.1", clock)
        .await
}

#[tokio::test]
async fn concurrent_writes_share_commits_and_keep_their_own_outcomes() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        // Many drafts of one applicant: beyond the default per-account limit.
        let store = db.store.clone().with_quotas(yiwang_store::Quotas {
            open_drafts: 1000,
            ..Default::default()
        });
        let calendar = std::sync::Arc::new(store.calendar().await.unwrap());
        let monday = CivilDate::from_ymd(2026, 11, 30).unwrap();
        let applicant =
            yiwang_testkit::applicant(&store, "11010519491231002X", "13800138000", DEMO_NOW_MS)
                .await;
        let food = ImplCode::parse(FOOD).unwrap();
        let mut drafts = Vec::new();
        for _ in 0..DRAFTS {
            let app = store
                .create_application(applicant.id, &food, CaseSource::Online, None, DEMO_NOW_MS)
                .await
                .unwrap();
            drafts.push(app.id);
        }
        let cases_before = count(&store, "SELECT COUNT(*) FROM cases").await;

        // Every draft submitted twice, all at once.
        let mut handles = Vec::new();
        for (i, id) in drafts.iter().chain(drafts.iter()).enumerate() {
            let (store, calendar, applicant, id) =
                (store.clone(), calendar.clone(), applicant.clone(), *id);
            handles.push(tokio::spawn(async move {
                let s = submit(&store, &calendar, id, &applicant, i).await.unwrap();
                (id, s)
            }));
        }
        let mut by_draft = std::collections::BTreeMap::new();
        let mut created = 0;
        for h in handles {
            let (id, s) = h.await.unwrap();
            created += usize::from(s.created);
            let prev = by_draft.insert(id, s.number.clone());
            if let Some(prev) = prev {
                assert_eq!(
                    prev, s.number,
                    "{b}: both submissions of a draft name one case"
                );
            }
        }
        assert_eq!(
            created, DRAFTS,
            "{b}: one submission of each draft created it"
        );
        let numbers: BTreeSet<String> = by_draft.values().map(|n| n.to_string()).collect();
        assert_eq!(numbers.len(), DRAFTS, "{b}: every case has its own number");
        let seqs: BTreeSet<u32> = numbers
            .iter()
            .map(|n| n.rsplit('-').next().unwrap().parse().unwrap())
            .collect();
        let first = *seqs.first().unwrap();
        assert_eq!(
            seqs,
            (first..first + DRAFTS as u32).collect::<BTreeSet<_>>(),
            "{b}: the day's numbers are consecutive"
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM cases").await - cases_before,
            DRAFTS as i64,
            "{b}"
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'case.submit'"
            )
            .await,
            DRAFTS as i64,
            "{b}"
        );

        // Many clerks accept the same case at once: one wins, the others are told it changed.
        let grants = vec![Grant {
            role: Role::Clerk,
            region: Some(RegionCode::parse("120112").unwrap()),
            department: Some(CreditCode::parse(APPROVALS).unwrap()),
        }];
        let mut clerks = Vec::new();
        for i in 0..CLERKS {
            let id = store
                .create_user(
                    &NewUser {
                        username: format!("clerk{i}"),
                        display_name: format!("clerk{i}"),
                        password: "Staff-Password-2026".into(),
                        grants: grants.clone(),
                    },
                    &Actor::system("test"),
                    DEMO_NOW_MS,
                )
                .await
                .unwrap();
            clerks.push(Principal {
                user_id: id,
                username: format!("clerk{i}"),
                display_name: format!("clerk{i}"),
                grants: grants.clone(),
            });
        }
        let target = by_draft.values().next().unwrap().clone();
        let version = store.case_record(&target).await.unwrap().version;
        let mut handles = Vec::new();
        for (i, clerk) in clerks.into_iter().enumerate() {
            let (store, calendar, target) = (store.clone(), calendar.clone(), target.clone());
            handles.push(tokio::spawn(async move {
                let clock = CaseClock {
                    now_ms: DEMO_NOW_MS + 1_000 + i as i64,
                    today: monday,
                    calendar: &calendar,
                };
                let req = ActionRequest {
                    action: "accept".into(),
                    expected_version: Some(version),
                    ..Default::default()
                };
                store
                    .act_on_case(&target, &req, CaseActor::Staff(&clerk), "t", clock, None)
                    .await
                    .map_err(|e| e.code())
            }));
        }
        let mut won = 0;
        for h in handles {
            match h.await.unwrap() {
                Ok(o) => {
                    won += 1;
                    assert_eq!(o.version, version + 1, "{b}");
                }
                Err(c) => assert_eq!(c, ErrorCode::CaseChanged, "{b}"),
            }
        }
        assert_eq!(won, 1, "{b}: exactly one accept wins");
        let (events,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id \
             WHERE c.case_number = $1",
        )
        .bind(target.to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(
            events, 2,
            "{b}: submit and one accept, nothing from the losers"
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'case.accept'"
            )
            .await,
            1,
            "{b}: the losers' audit entries were rolled back with them"
        );
        let report = store.audit_verify(&mut |_| {}).await.unwrap();
        assert!(report.problem.is_none(), "{b}: {report:?}");
    }
}

/// A write that fails inside a batch (here a trigger refuses one applicant's message, as a
/// full disk or a broken constraint would) fails alone: its draft stays a draft with no case,
/// event, lock or audit entry, while the submissions that shared its batch all commit.
#[tokio::test]
async fn a_failing_write_fails_alone_and_leaves_nothing_half_written() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        // Many drafts of one applicant: beyond the default per-account limit.
        let store = db.store.clone().with_quotas(yiwang_store::Quotas {
            open_drafts: 1000,
            ..Default::default()
        });
        let calendar = std::sync::Arc::new(store.calendar().await.unwrap());
        let mut people = Vec::new();
        for (id, phone) in [
            ("11010519491231002X", "13800138000"),
            ("110105194912310038", "13800138001"),
        ] {
            let a = yiwang_testkit::applicant(&store, id, phone, DEMO_NOW_MS).await;
            people.push(a);
        }
        let doomed = people[1].id;
        match db.backend {
            yiwang_store::Backend::Sqlite => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.applicant_id = {doomed} \
                     BEGIN SELECT RAISE(ABORT, 'boom'); END"
                )))
                .execute(store.pool())
                .await
                .unwrap();
            }
            yiwang_store::Backend::Postgres => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN \
                       IF NEW.applicant_id = {doomed} THEN RAISE EXCEPTION 'boom'; END IF; \
                       RETURN NEW; END $$ LANGUAGE plpgsql; \
                     CREATE TRIGGER boom BEFORE INSERT ON messages \
                       FOR EACH ROW EXECUTE FUNCTION boom()"
                )))
                .execute(store.pool())
                .await
                .unwrap();
            }
        }
        let food = ImplCode::parse(FOOD).unwrap();
        let mut drafts = Vec::new();
        for i in 0..DRAFTS {
            let who = &people[usize::from(i % 5 == 0)];
            let app = store
                .create_application(who.id, &food, CaseSource::Online, None, DEMO_NOW_MS)
                .await
                .unwrap();
            drafts.push((app.id, who.clone()));
        }
        let entries_before = count(&store, "SELECT COUNT(*) FROM audit_log").await;
        let mut handles = Vec::new();
        for (i, (id, who)) in drafts.iter().cloned().enumerate() {
            let (store, calendar) = (store.clone(), calendar.clone());
            handles.push(tokio::spawn(async move {
                (who.id, submit(&store, &calendar, id, &who, i).await)
            }));
        }
        let (mut ok, mut failed) = (0, 0);
        for h in handles {
            match h.await.unwrap() {
                (who, Ok(s)) => {
                    assert_ne!(who, doomed, "{b}");
                    assert!(s.created, "{b}");
                    ok += 1;
                }
                (who, Err(_)) => {
                    assert_eq!(who, doomed, "{b}: only the refused write fails");
                    failed += 1;
                }
            }
        }
        assert_eq!((ok, failed), (DRAFTS - DRAFTS / 5, DRAFTS / 5), "{b}");
        let doomed_rows = |sql: &'static str| {
            let store = store.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(sql)
                    .bind(doomed)
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                n
            }
        };
        assert_eq!(
            doomed_rows(
                "SELECT COUNT(*) FROM applications WHERE applicant_id = $1 AND status = 'draft'"
            )
            .await,
            (DRAFTS / 5) as i64,
            "{b}: the failed drafts are still drafts"
        );
        assert_eq!(
            doomed_rows("SELECT COUNT(*) FROM cases WHERE applicant_id = $1").await,
            0,
            "{b}"
        );
        assert_eq!(
            doomed_rows(
                "SELECT COUNT(*) FROM upload_locks l JOIN applications a ON a.id = l.application_id \
                 WHERE a.applicant_id = $1"
            )
            .await,
            0,
            "{b}: no lock left behind"
        );
        assert_eq!(
            doomed_rows("SELECT COUNT(*) FROM outbox WHERE applicant_id = $1").await,
            0,
            "{b}"
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM audit_log").await - entries_before,
            (DRAFTS - DRAFTS / 5) as i64,
            "{b}: one entry per case made, none for the failed"
        );
        let report = store.audit_verify(&mut |_| {}).await.unwrap();
        assert!(report.problem.is_none(), "{b}: {report:?}");
    }
}
