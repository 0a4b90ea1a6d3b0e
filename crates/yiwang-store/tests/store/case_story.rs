//! The whole life of a case on every backend: an applicant registers and submits (twice: one
//! case), the clerk sends one correction notice (the clock pauses), the applicant resubmits,
//! the clerk accepts (due date fixed on the official calendar), two departments review in
//! parallel (a stale action loses with a conflict), the approver decides, the case is
//! concluded and delivered. Along the way: object-level refusals, worklists, notifications,
//! the audit trail and definitions refused on save.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{ApplicantId, CaseSource, CorrectionItem, CorrectionTarget};
use yiwang_domain::codes::Phone;
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_domain::workflow::{BindingScope, promised_parallel};
use yiwang_domain::{CreditCode, ErrorCode, ImplCode, RegionCode};
use yiwang_store::applicants::NewApplicant;
use yiwang_store::applications::DraftOwner;
use yiwang_store::cases::{ActionRequest, CaseActor, CaseClock};
use yiwang_store::{Actor, AuditFilter, NewUser, Store};
use yiwang_testkit::{DEMO_NOW_MS, backends};

const FOOD: &str = "11120112MB1W167324000123001001";
const APPROVALS: &str = "11120112MB1W167324";
const MARKET: &str = "11120112MB1L902463";
const HEALTH: &str = "11120112MB1M05719N";
const PASSWORD: &str = "Shenqing-2026!";

fn cc(s: &str) -> CreditCode {
    CreditCode::parse(s).unwrap()
}

async fn staff(store: &Store, name: &str, role: Role, dept: &str) -> Principal {
    let grants = vec![Grant {
        role,
        region: Some(RegionCode::parse("120112").unwrap()),
        department: Some(cc(dept)),
    }];
    let id = store
        .create_user(
            &NewUser {
                username: name.into(),
                display_name: name.into(),
                password: "Staff-Password-2026".into(),
                grants: grants.clone(),
            },
            &Actor::system("test"),
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
    Principal {
        user_id: id,
        username: name.into(),
        display_name: name.into(),
        grants,
    }
}

fn req(action: &str, opinion: Option<&str>) -> ActionRequest {
    ActionRequest {
        action: action.into(),
        opinion: opinion.map(str::to_string),
        ..Default::default()
    }
}

fn code(e: yiwang_store::StoreError) -> ErrorCode {
    e.code()
}

/// One action on case `number`, with the error as its code. A success also checks that the
/// outcome carries the case as stored, and that a staff actor's actions computed from the case
/// file match those read from the database.
async fn act(
    store: &Store,
    number: &yiwang_domain::case::CaseNumber,
    req: &ActionRequest,
    actor: CaseActor<'_>,
    clock: CaseClock<'_>,
) -> Result<yiwang_store::cases::ActionOutcome, ErrorCode> {
    let out = store
        .act_on_case(number, req, actor, "t", clock, None)
        .await
        .map_err(|e| e.code())?;
    let stored = store.case_record(number).await.unwrap();
    assert_eq!(out.case, stored, "the outcome's case is the stored one");
    if let CaseActor::Staff(p) = actor {
        let read = store.actions_for_staff(p, &stored).await.unwrap();
        let file = store.case_file(stored).await.unwrap();
        assert_eq!(Store::actions_for_staff_in(p, &file), read);
    }
    Ok(out)
}

#[tokio::test]
async fn a_case_from_application_to_delivery_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let store = db.store.clone();
        let calendar = store.calendar().await.unwrap();
        // 2026-11-30 (Monday) in Beijing.
        let monday = CivilDate::from_ymd(2026, 11, 30).unwrap();
        let clock = |day: CivilDate, n: i64| CaseClock {
            now_ms: DEMO_NOW_MS + n * 60_000,
            today: day,
            calendar: &calendar,
        };

        // Registration: the identifier is checked, encrypted and unique.
        let new = NewApplicant {
            id: ApplicantId::parse("11010519491231002X").unwrap(),
            display_name: "张三".into(),
            legal_rep: None,
            phone: Phone::parse("13800138000").unwrap(),
            password: PASSWORD.into(),
        };
        let alice = store
            .register_applicant(&new, "127.0.0.1", DEMO_NOW_MS)
            .await
            .unwrap();
        assert_eq!(
            code(
                store
                    .register_applicant(&new, "127.0.0.1", DEMO_NOW_MS)
                    .await
                    .unwrap_err()
            ),
            ErrorCode::ApplicantExists,
            "{b}"
        );
        let (found, hash) = store
            .applicant_for_login(&new.id)
            .await
            .unwrap()
            .expect("found by blind index");
        assert_eq!(found, alice);
        assert!(yiwang_store::verify_password(PASSWORD, &hash));
        let raw: (Option<String>,) =
            sqlx::query_as("SELECT id_number_enc FROM applicants WHERE id = $1")
                .bind(alice.id)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(
            !raw.0.unwrap().contains("11010519491231002X"),
            "{b}: the ID number is encrypted at rest"
        );
        let bob = store
            .register_applicant(
                &NewApplicant {
                    id: ApplicantId::parse("120112199001011238").unwrap(),
                    display_name: "李四".into(),
                    legal_rep: None,
                    phone: Phone::parse("13900139000").unwrap(),
                    password: PASSWORD.into(),
                },
                "127.0.0.1",
                DEMO_NOW_MS,
            )
            .await
            .unwrap();

        // The food licence follows a parallel-review definition bound to its implementation.
        let def = promised_parallel(
            "food_licence",
            &[("market", cc(MARKET)), ("health", cc(HEALTH))],
        );
        let admin = Actor::system("test");
        store
            .save_workflow(&def.to_json().unwrap(), &admin, DEMO_NOW_MS)
            .await
            .unwrap()
            .unwrap();
        let food = ImplCode::parse(FOOD).unwrap();
        store
            .bind_workflow(
                &BindingScope::Implementation {
                    impl_code: food.clone(),
                },
                "food_licence",
                1,
                &admin,
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        // A broken definition is refused with its problems, and nothing is saved.
        let broken = store
            .save_workflow(
                r#"{"key":"x","version":1,"name":"x","states":[],"actions":[]}"#,
                &admin,
                DEMO_NOW_MS,
            )
            .await
            .unwrap()
            .unwrap_err();
        assert!(!broken.0.is_empty(), "{b}");

        // Draft, save, submit; a second submit returns the same case.
        let app = store
            .create_application(alice.id, &food, CaseSource::Online, None, DEMO_NOW_MS)
            .await
            .unwrap();
        let answers =
            serde_json::json!({"business_name": "津南小馆", "resident_id": "11010519491231002X"});
        store
            .save_answers(
                app.id,
                DraftOwner::Applicant(alice.id),
                &answers,
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        assert_eq!(
            code(
                store
                    .application(app.id, DraftOwner::Applicant(bob.id))
                    .await
                    .unwrap_err()
            ),
            ErrorCode::NotFound,
            "{b}: another applicant's draft does not exist for them"
        );
        // 实名核验: an unverified account takes no case for an item that needs identity; the
        // draft stays as it was.
        assert!(
            store
                .published_implementation(&food)
                .await
                .unwrap()
                .unwrap()
                .implementation
                .identity_required,
            "{b}: items need a verified identity by default"
        );
        assert_eq!(
            code(
                store
                    .submit_application(
                        app.id,
                        CaseActor::Applicant(&alice),
                        "127.0.0.1",
                        clock(monday, 1),
                    )
                    .await
                    .unwrap_err()
            ),
            ErrorCode::IdentityUnverified,
            "{b}"
        );
        let kept = store
            .application(app.id, DraftOwner::Applicant(alice.id))
            .await
            .unwrap();
        assert_eq!(kept.answers, answers, "{b}: the draft is kept");
        assert!(kept.case_number.is_none(), "{b}");
        yiwang_testkit::verify_in_person(
            &store,
            "11010519491231002X",
            "张三",
            "13800138000",
            DEMO_NOW_MS,
        )
        .await;
        let first = store
            .submit_application(
                app.id,
                CaseActor::Applicant(&alice),
                "127.0.0.1",
                clock(monday, 1),
            )
            .await
            .unwrap();
        assert!(first.created);
        assert!(
            first
                .number
                .as_str()
                .starts_with(&format!("{FOOD}-20261130-")),
            "{b}"
        );
        let again = store
            .submit_application(
                app.id,
                CaseActor::Applicant(&alice),
                "127.0.0.1",
                clock(monday, 2),
            )
            .await
            .unwrap();
        assert_eq!(
            (again.number.clone(), again.created),
            (first.number.clone(), false),
            "{b}"
        );
        assert_eq!(
            code(
                store
                    .save_answers(
                        app.id,
                        DraftOwner::Applicant(alice.id),
                        &answers,
                        DEMO_NOW_MS
                    )
                    .await
                    .unwrap_err()
            ),
            ErrorCode::NotEditable
        );
        let number = first.number;
        let case = store.case_record(&number).await.unwrap();
        assert_eq!(case.state(), "applied");
        // Five working days to decide on acceptance: Mon 30 Nov → Mon 7 Dec.
        assert_eq!(case.due_day, CivilDate::from_ymd(2026, 12, 7), "{b}");

        let clerk = staff(&store, "clerk", Role::Clerk, APPROVALS).await;
        let market = staff(&store, "market", Role::Reviewer, MARKET).await;
        let health = staff(&store, "health", Role::Reviewer, HEALTH).await;
        let approver = staff(&store, "approver", Role::Approver, APPROVALS).await;

        // Only the clerk has it on the worklist now.
        let wl = store.worklist(&clerk, &calendar, monday).await.unwrap();
        assert_eq!(wl.len(), 1, "{b}");
        assert!(wl[0].actions.contains(&"accept".to_string()));
        assert!(
            store
                .worklist(&market, &calendar, monday)
                .await
                .unwrap()
                .is_empty()
        );
        // Someone with no relation to the case cannot even find it.
        assert_eq!(
            act(
                &store,
                &number,
                &req("accept", None),
                CaseActor::Staff(&market),
                clock(monday, 3)
            )
            .await
            .unwrap_err(),
            ErrorCode::NotFound,
            "{b}"
        );
        assert_eq!(
            code(store.case_for_applicant(&number, bob.id).await.unwrap_err()),
            ErrorCode::NotFound
        );

        // One correction notice; an empty list is refused; the clock pauses.
        assert_eq!(
            act(
                &store,
                &number,
                &req("request_correction", Some("材料不全")),
                CaseActor::Staff(&clerk),
                clock(monday, 4)
            )
            .await
            .unwrap_err(),
            ErrorCode::Required
        );
        let mut corr = req("request_correction", Some("请补正以下材料"));
        corr.correction = vec![CorrectionItem {
            target: CorrectionTarget::Material("营业执照".into()),
            label: "营业执照".into(),
            problem: "复印件不清晰，请上传清晰的扫描件".into(),
        }];
        act(
            &store,
            &number,
            &corr,
            CaseActor::Staff(&clerk),
            clock(monday, 5),
        )
        .await
        .unwrap();
        let file = store.case_for_applicant(&number, alice.id).await.unwrap();
        assert_eq!(file.case.state(), "correcting");
        assert_eq!(file.open_correction().unwrap().items.len(), 1, "{b}");
        assert_eq!(file.case.paused_since, Some(monday));
        // The applicant resubmits on Thursday: three days paused, the due day moves by three
        // working days (7 Dec → 10 Dec).
        let thursday = CivilDate::from_ymd(2026, 12, 3).unwrap();
        assert_eq!(
            act(
                &store,
                &number,
                &req("resubmit", None),
                CaseActor::Applicant(&bob),
                clock(thursday, 0)
            )
            .await
            .unwrap_err(),
            ErrorCode::NotFound
        );
        // Not before the named material has a new file; then it answers the line.
        assert_eq!(
            act(
                &store,
                &number,
                &req("resubmit", None),
                CaseActor::Applicant(&alice),
                clock(thursday, 1)
            )
            .await
            .unwrap_err(),
            ErrorCode::Required,
            "{b}"
        );
        store
            .record_upload(
                &yiwang_store::NewUpload {
                    owner_applicant_id: alice.id,
                    application_id: app.id,
                    material_key: "营业执照".into(),
                    filename: "营业执照（清晰）.pdf".into(),
                    kind: yiwang_domain::upload::FileKind::Pdf,
                    size: 100,
                    sha256: "ab".repeat(32),
                    storage_key: format!("sha256-{}", "ab".repeat(32)),
                },
                // After the notice (sent at minute 5 of the test clock).
                DEMO_NOW_MS + 6 * 60_000,
            )
            .await
            .unwrap();
        act(
            &store,
            &number,
            &req("resubmit", None),
            CaseActor::Applicant(&alice),
            clock(thursday, 1),
        )
        .await
        .unwrap();
        let case = store.case_record(&number).await.unwrap();
        assert_eq!(case.state(), "applied");
        assert_eq!(case.paused_since, None);
        assert_eq!(case.due_day, CivilDate::from_ymd(2026, 12, 10), "{b}");
        // Only one correction round.
        assert_eq!(
            act(
                &store,
                &number,
                &corr,
                CaseActor::Staff(&clerk),
                clock(thursday, 2)
            )
            .await
            .unwrap_err(),
            ErrorCode::TransitionNotAllowed
        );

        // Acceptance fixes the promised limit: 3 working days from Thu 3 Dec → Tue 8 Dec.
        act(
            &store,
            &number,
            &req("accept", None),
            CaseActor::Staff(&clerk),
            clock(thursday, 3),
        )
        .await
        .unwrap();
        let case = store.case_record(&number).await.unwrap();
        assert_eq!(case.state(), "reviewing");
        assert_eq!(case.due_day, CivilDate::from_ymd(2026, 12, 8), "{b}");
        let file = store.case_for_staff(&number, &market).await.unwrap();
        assert_eq!(file.tasks.len(), 2, "{b}: one task per department");
        let wl = store.worklist(&market, &calendar, thursday).await.unwrap();
        assert_eq!(wl.len(), 1);
        assert_eq!(
            wl[0].actions,
            vec!["market.approve".to_string(), "market.refuse".to_string()]
        );
        // The market reviewer cannot decide the health task.
        assert_eq!(
            act(
                &store,
                &number,
                &req("health.approve", None),
                CaseActor::Staff(&market),
                clock(thursday, 4)
            )
            .await
            .unwrap_err(),
            ErrorCode::TransitionNotAllowed,
            "{b}"
        );

        // Two reviewers act on the version they saw: exactly one wins.
        let seen = case.version;
        let mut m = req("market.approve", None);
        m.expected_version = Some(seen);
        let mut h = req("health.approve", None);
        h.expected_version = Some(seen);
        act(
            &store,
            &number,
            &m,
            CaseActor::Staff(&market),
            clock(thursday, 5),
        )
        .await
        .unwrap();
        assert_eq!(
            act(
                &store,
                &number,
                &h,
                CaseActor::Staff(&health),
                clock(thursday, 6)
            )
            .await
            .unwrap_err(),
            ErrorCode::CaseChanged,
            "{b}"
        );
        act(
            &store,
            &number,
            &req("health.approve", None),
            CaseActor::Staff(&health),
            clock(thursday, 7),
        )
        .await
        .unwrap();
        assert_eq!(
            store.case_record(&number).await.unwrap().state(),
            "deciding",
            "{b}: joined"
        );

        // The approver needs a written opinion.
        assert_eq!(
            act(
                &store,
                &number,
                &req("approve", None),
                CaseActor::Staff(&approver),
                clock(thursday, 8)
            )
            .await
            .unwrap_err(),
            ErrorCode::Required
        );
        for (who, action, opinion) in [
            (&approver, "approve", Some("符合条件，准予许可")),
            (&clerk, "conclude", None),
            (&clerk, "deliver", None),
        ] {
            act(
                &store,
                &number,
                &req(action, opinion),
                CaseActor::Staff(who),
                clock(thursday, 9),
            )
            .await
            .unwrap();
        }
        let file = store.case_for_applicant(&number, alice.id).await.unwrap();
        assert!(file.case.terminal, "{b}");
        assert_eq!(file.case.state(), "delivered");
        let actions: Vec<&str> = file.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "submit",
                "request_correction",
                "resubmit",
                "accept",
                "market.approve",
                "health.approve",
                "approve",
                "conclude",
                "deliver"
            ],
            "{b}"
        );
        assert!(
            store
                .worklist(&clerk, &calendar, thursday)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.cases_of_applicant(alice.id).await.unwrap().len(), 1);
        assert!(store.cases_of_applicant(bob.id).await.unwrap().is_empty());

        // The applicant was told at every status change, in the site and by SMS (outbox).
        let unread = store.unread_count(alice.id).await.unwrap();
        assert_eq!(unread, 8, "{b}: one message per status change");
        let outbox: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE applicant_id = $1")
            .bind(alice.id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(outbox.0, 8, "{b}");
        // The first SMS, of the submission, carries the query code for the progress lookup.
        let sms = store.outbox_for_applicant(alice.id, 100).await.unwrap();
        let first_sms = sms.iter().min_by_key(|m| m.id).unwrap();
        assert_eq!(first_sms.template_key, "notify.case_submitted_code", "{b}");
        assert_eq!(
            first_sms.args["query_code"].as_str(),
            Some(store.case_query_code(&number).unwrap().as_str()),
            "{b}"
        );
        assert!(
            sms.iter()
                .filter(|m| m.id != first_sms.id)
                .all(|m| m.template_key == "notify.case_status"
                    && m.args.get("query_code").is_none()),
            "{b}: later messages say the status only"
        );

        // Every step is in the audit log, attributed.
        let audit = store
            .audit_entries(&AuditFilter {
                object_prefix: Some(format!("case:{number}")),
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.len(), 9, "{b}");
        assert!(
            audit
                .iter()
                .any(|e| e.event.action == "case.accept" && e.event.actor == "clerk")
        );
        assert!(store.audit_verify(&mut |_| {}).await.unwrap().ok(), "{b}");
    }
}

#[tokio::test]
async fn overdue_cases_are_escalated_once_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let store = db.store.clone();
        let calendar = store.calendar().await.unwrap();
        let monday = CivilDate::from_ymd(2026, 11, 30).unwrap();
        let a = store
            .register_applicant(
                &NewApplicant {
                    id: ApplicantId::parse("11010519491231002X").unwrap(),
                    display_name: "张三".into(),
                    legal_rep: None,
                    phone: Phone::parse("13800138000").unwrap(),
                    password: PASSWORD.into(),
                },
                "t",
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        yiwang_testkit::verify_in_person(
            &store,
            "11010519491231002X",
            "张三",
            "13800138000",
            DEMO_NOW_MS,
        )
        .await;
        let app = store
            .create_application(
                a.id,
                &ImplCode::parse(FOOD).unwrap(),
                CaseSource::Online,
                None,
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let clock = CaseClock {
            now_ms: DEMO_NOW_MS,
            today: monday,
            calendar: &calendar,
        };
        let n = store
            .submit_application(app.id, CaseActor::Applicant(&a), "t", clock)
            .await
            .unwrap()
            .number;
        // Due Mon 7 Dec (five working days to accept): nothing on the due day itself.
        let due = CivilDate::from_ymd(2026, 12, 7).unwrap();
        assert!(
            store
                .escalate_overdue(due, DEMO_NOW_MS)
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );
        let clerk = staff(&store, "clerk", Role::Clerk, APPROVALS).await;
        let wl = store.worklist(&clerk, &calendar, due).await.unwrap();
        assert_eq!(
            wl[0].deadline,
            yiwang_domain::calendar::DeadlineState::Yellow,
            "{b}"
        );
        let tuesday = CivilDate::from_ymd(2026, 12, 8).unwrap();
        let first = store
            .escalate_overdue(tuesday, DEMO_NOW_MS + 1)
            .await
            .unwrap();
        assert_eq!(first, vec![n.clone()], "{b}");
        assert!(
            store
                .escalate_overdue(tuesday, DEMO_NOW_MS + 2)
                .await
                .unwrap()
                .is_empty(),
            "{b}: once"
        );
        let wl = store.worklist(&clerk, &calendar, tuesday).await.unwrap();
        assert_eq!(
            wl[0].deadline,
            yiwang_domain::calendar::DeadlineState::Red,
            "{b}"
        );
        let file = store.case_for_staff(&n, &clerk).await.unwrap();
        assert_eq!(file.events.last().unwrap().action, "escalate", "{b}");
        assert_eq!(
            file.case.state(),
            "applied",
            "{b}: escalation does not move the case"
        );
    }
}

/// 一次提交 is one business fact: every ready part of a bundle becomes its case and the bundle
/// is marked in one transaction. A part whose write fails (here: its item's case numbers for
/// the day are used up) leaves every part a draft, no case, no counter taken, the bundle
/// unmarked and no audit entry; once the cause is gone the same call submits them all, and a
/// retry adds nothing.
#[tokio::test]
async fn a_bundle_is_submitted_all_or_nothing_on_every_backend() {
    use yiwang_domain::case::{CASE_SEQ_MAX, CaseNumber};
    use yiwang_store::bundles::{BundleStatus, ReadyPart};
    const ITEM: &str = "11120112MB1W167324000112001001";
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let store = db.store.clone();
        let calendar = store.calendar().await.unwrap();
        let monday = CivilDate::from_ymd(2026, 11, 30).unwrap();
        let clock = CaseClock {
            now_ms: DEMO_NOW_MS,
            today: monday,
            calendar: &calendar,
        };
        let alice =
            yiwang_testkit::applicant(&store, "11010519491231002X", "13800138000", DEMO_NOW_MS)
                .await;
        let codes = [
            ImplCode::parse(ITEM).unwrap(),
            ImplCode::parse(FOOD).unwrap(),
        ];
        let id = store
            .create_bundle(alice.id, "open-restaurant", "开餐馆", &codes, DEMO_NOW_MS)
            .await
            .unwrap();
        let owner = DraftOwner::Applicant(alice.id);
        let mut drafts = Vec::new();
        for p in &store.bundle(id, alice.id).await.unwrap().parts {
            let (app, _, recipient) = store
                .application_with_uploads(p.application_id, owner)
                .await
                .unwrap();
            drafts.push((app, recipient));
        }
        let doc = serde_json::json!({ "pairs": [], "answers": {} });
        let parts: Vec<ReadyPart<'_>> = drafts
            .iter()
            .map(|(application, recipient)| ReadyPart {
                application,
                answers: &doc,
                recipient,
            })
            .collect();
        let count = |sql: &'static str| {
            let store = store.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(sql)
                    .bind(id)
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                n
            }
        };
        let cases = "SELECT COUNT(*) FROM cases c JOIN applications a ON a.id = c.application_id \
                     WHERE a.bundle_id = $1";
        let drafting =
            "SELECT COUNT(*) FROM applications WHERE bundle_id = $1 AND status = 'draft'";
        let marked = "SELECT COUNT(*) FROM bundles WHERE id = $1 AND submitted_at IS NOT NULL";
        let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'bundle.submit' \
                       AND object = 'bundle:' || CAST($1 AS TEXT)";
        let first_prefix = CaseNumber::prefix(&codes[0], monday);
        let second_prefix = CaseNumber::prefix(&codes[1], monday);
        sqlx::query("INSERT INTO case_counters (prefix, last_value) VALUES ($1, $2)")
            .bind(second_prefix.clone())
            .bind(CASE_SEQ_MAX)
            .execute(store.pool())
            .await
            .unwrap();

        let err = store
            .submit_bundle(id, &alice, &parts, "127.0.0.1", clock)
            .await
            .unwrap_err();
        assert_eq!(code(err), ErrorCode::OutOfRange, "{b}");
        assert_eq!(count(cases).await, 0, "{b}: no case of any part");
        assert_eq!(count(drafting).await, 2, "{b}: every part is still a draft");
        assert_eq!(count(marked).await, 0, "{b}: the bundle is not marked");
        assert_eq!(count(audited).await, 0, "{b}: nothing audited");
        let (taken,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM case_counters WHERE prefix = $1")
                .bind(first_prefix)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(taken, 0, "{b}: the first part's number was given back");

        sqlx::query("DELETE FROM case_counters WHERE prefix = $1")
            .bind(second_prefix)
            .execute(store.pool())
            .await
            .unwrap();
        store
            .submit_bundle(id, &alice, &parts, "127.0.0.1", clock)
            .await
            .unwrap();
        let bundle = store.bundle(id, alice.id).await.unwrap();
        assert!(bundle.parts.iter().all(|p| p.case_number.is_some()), "{b}");
        assert_eq!(bundle.status(), BundleStatus::InProgress, "{b}");
        assert_eq!(bundle.submitted_at, Some(DEMO_NOW_MS), "{b}");
        assert_eq!(count(cases).await, 2, "{b}");
        assert_eq!(count(audited).await, 1, "{b}");
        let (detail,): (String,) =
            sqlx::query_as("SELECT detail FROM audit_log WHERE action = 'bundle.submit'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        for p in &bundle.parts {
            assert!(
                detail.contains(p.case_number.as_ref().unwrap().as_str()),
                "{b}: {detail}"
            );
        }

        // A retry (with the drafts as read before) finds the cases: nothing new.
        store
            .submit_bundle(id, &alice, &parts, "127.0.0.1", clock)
            .await
            .unwrap();
        assert_eq!(count(cases).await, 2, "{b}");
        assert_eq!(count(audited).await, 1, "{b}");
    }
}
