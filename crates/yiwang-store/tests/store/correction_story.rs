//! A correction notice that can be answered, on every backend: the clerk names a material, a
//! form field and a new document from the case itself (a made-up name is refused and nothing
//! is written); the applicant cannot resubmit before every line is answered; a new file
//! supersedes the submitted one, which stays on record marked replaced; a field's new value
//! goes into the encrypted answers; each answer is recorded per round.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{ApplicantId, CaseSource, CorrectionItem, CorrectionTarget};
use yiwang_domain::codes::Phone;
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_domain::upload::FileKind;
use yiwang_domain::{CreditCode, ErrorCode, ImplCode, RegionCode};
use yiwang_store::applicants::NewApplicant;
use yiwang_store::applications::DraftOwner;
use yiwang_store::cases::{ActionRequest, CaseActor, CaseClock};
use yiwang_store::{Actor, NewUpload, NewUser, UploadStatus};
use yiwang_testkit::{DEMO_NOW_MS, backends};

const FOOD: &str = "11120112MB1W167324000123001001";
const BUREAU: &str = "11120112MB1W167324";

fn file(owner: i64, app: i64, material: &str, name: &str, byte: u8) -> NewUpload {
    NewUpload {
        owner_applicant_id: owner,
        application_id: app,
        material_key: material.into(),
        filename: name.into(),
        kind: FileKind::Pdf,
        size: 100 + i64::from(byte),
        sha256: format!("{byte:02x}").repeat(32),
        storage_key: format!("sha256-{}", format!("{byte:02x}").repeat(32)),
    }
}

fn line(target: &str, problem: &str) -> CorrectionItem {
    let target = CorrectionTarget::parse(target).unwrap();
    CorrectionItem {
        label: target.to_string(),
        target,
        problem: problem.into(),
    }
}

#[tokio::test]
async fn a_correction_is_answered_line_by_line_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let store = db.store.clone();
        let calendar = store.calendar().await.unwrap();
        let monday = CivilDate::from_ymd(2026, 11, 30).unwrap();
        let clock = |n: i64| CaseClock {
            now_ms: DEMO_NOW_MS + n * 60_000,
            today: monday,
            calendar: &calendar,
        };
        let alice = store
            .register_applicant(
                &NewApplicant {
                    id: ApplicantId::parse("11010519491231002X").unwrap(),
                    display_name: "张三".into(),
                    legal_rep: None,
                    phone: Phone::parse("13800138000").unwrap(),
                    password: "Shenqing-2026!".into(),
                },
                "127.0.0.1",
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
        let grants = vec![Grant {
            role: Role::Clerk,
            region: Some(RegionCode::parse("120112").unwrap()),
            department: Some(CreditCode::parse(BUREAU).unwrap()),
        }];
        let clerk_id = store
            .create_user(
                &NewUser {
                    username: "chuangkou".into(),
                    display_name: "窗口".into(),
                    password: "Staff-Password-2026".into(),
                    grants: grants.clone(),
                },
                &Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let clerk = Principal {
            user_id: clerk_id,
            username: "chuangkou".into(),
            display_name: "窗口".into(),
            grants,
        };
        let food = ImplCode::parse(FOOD).unwrap();
        let app = store
            .create_application(alice.id, &food, CaseSource::Online, None, DEMO_NOW_MS)
            .await
            .unwrap();
        let pairs =
            serde_json::json!({"pairs": [["business_name", "津南小馆"], ["phone", "13800138000"]]});
        store
            .save_answers(app.id, DraftOwner::Applicant(alice.id), &pairs, DEMO_NOW_MS)
            .await
            .unwrap();
        let old = store
            .record_upload(
                &file(alice.id, app.id, "营业执照", "执照.pdf", 1),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let number = store
            .submit_application(app.id, CaseActor::Applicant(&alice), "t", clock(1))
            .await
            .unwrap()
            .number;
        let case = store.case_record(&number).await.unwrap();

        // The case offers its own materials and answerable fields.
        let scope = store.correction_scope(&case).await.unwrap();
        assert!(scope.materials.iter().any(|m| m == "营业执照"), "{b}");
        assert!(scope.fields.iter().any(|f| f == "phone"), "{b}: {scope:?}");
        assert!(
            !scope.fields.iter().any(|f| f == "managers"),
            "{b}: a group is not answerable in one input"
        );

        // A free-text name that is not a material of the case: refused, nothing written.
        let mut ask = ActionRequest {
            action: "request_correction".into(),
            opinion: Some("请补正".into()),
            correction: vec![line("material:身份证", "不清晰")],
            expected_version: None,
        };
        let refused = store
            .act_on_case(&number, &ask, CaseActor::Staff(&clerk), "t", clock(2), None)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::InvalidInput, "{b}");
        let same = store.case_record(&number).await.unwrap();
        assert_eq!(same.version, case.version, "{b}: nothing written");
        assert!(store.open_correction(case.id).await.unwrap().is_none());

        ask.correction = vec![
            line("material:营业执照", "复印件不清晰"),
            line("field:phone", "电话无法接通"),
            line("new:房屋租赁合同", "请补充经营场所租赁合同"),
        ];
        store
            .act_on_case(&number, &ask, CaseActor::Staff(&clerk), "t", clock(3), None)
            .await
            .unwrap();
        let open = store.open_correction(case.id).await.unwrap().unwrap();
        assert_eq!(open.items.len(), 3, "{b}");
        assert!(open.answered.is_empty(), "{b}");

        let resubmit = ActionRequest {
            action: "resubmit".into(),
            ..Default::default()
        };
        let try_resubmit = |n: i64| {
            let store = store.clone();
            let number = number.clone();
            let resubmit = resubmit.clone();
            let alice = alice.clone();
            let calendar = calendar.clone();
            async move {
                store
                    .act_on_case(
                        &number,
                        &resubmit,
                        CaseActor::Applicant(&alice),
                        "t",
                        CaseClock {
                            now_ms: DEMO_NOW_MS + n * 60_000,
                            today: monday,
                            calendar: &calendar,
                        },
                        None,
                    )
                    .await
                    .map_err(|e| e.code())
            }
        };
        assert_eq!(
            try_resubmit(4).await.unwrap_err(),
            ErrorCode::Required,
            "{b}: nothing answered"
        );

        // A material the notice does not name stays locked; a target it does not name is no
        // answer.
        let other = file(
            alice.id,
            app.id,
            "法定代表人（负责人）居民身份证",
            "身份证.pdf",
            2,
        );
        let target = CorrectionTarget::Material(other.material_key.clone());
        assert_eq!(
            store
                .answer_correction_with_file(&case, &target, &other, DEMO_NOW_MS + 5 * 60_000)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::InvalidInput,
            "{b}"
        );

        // The named material: the new file supersedes the submitted one, kept on record.
        let licence = CorrectionTarget::Material("营业执照".into());
        let new = store
            .answer_correction_with_file(
                &case,
                &licence,
                &file(alice.id, app.id, "营业执照", "执照（清晰）.pdf", 3),
                DEMO_NOW_MS + 5 * 60_000,
            )
            .await
            .unwrap();
        let history = store.uploads_for_application(app.id, true).await.unwrap();
        let was = history.iter().find(|u| u.id == old.id).unwrap();
        assert_eq!(was.status, UploadStatus::Replaced, "{b}");
        assert_eq!(was.replaced_by, Some(new.id), "{b}");
        let current = store.uploads_for_application(app.id, false).await.unwrap();
        assert_eq!(
            current
                .iter()
                .filter(|u| u.material_key == "营业执照")
                .map(|u| u.id)
                .collect::<Vec<_>>(),
            vec![new.id],
            "{b}: one current file"
        );

        // The field: its new value is in the (encrypted) answers.
        let phone = CorrectionTarget::Field("phone".into());
        let doc =
            serde_json::json!({"pairs": [["business_name", "津南小馆"], ["phone", "13900139000"]]});
        store
            .answer_correction_fields(
                &case,
                std::slice::from_ref(&phone),
                &doc,
                DEMO_NOW_MS + 6 * 60_000,
            )
            .await
            .unwrap();
        let answers = store
            .application(app.id, DraftOwner::Applicant(alice.id))
            .await
            .unwrap()
            .answers;
        assert_eq!(answers, doc, "{b}");
        let raw: (Option<String>,) =
            sqlx::query_as("SELECT answers_enc FROM applications WHERE id = $1")
                .bind(app.id)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(!raw.0.unwrap().contains("13900139000"), "{b}: encrypted");
        assert_eq!(
            try_resubmit(7).await.unwrap_err(),
            ErrorCode::Required,
            "{b}: the new document is still missing"
        );

        // The new document slot takes a file of its own.
        let lease = CorrectionTarget::NewMaterial("房屋租赁合同".into());
        store
            .answer_correction_with_file(
                &case,
                &lease,
                &file(alice.id, app.id, "房屋租赁合同", "租赁合同.pdf", 4),
                DEMO_NOW_MS + 8 * 60_000,
            )
            .await
            .unwrap();
        let open = store.open_correction(case.id).await.unwrap().unwrap();
        assert_eq!(open.answered.len(), 3, "{b}: {:?}", open.answered);
        try_resubmit(9).await.unwrap();
        assert!(
            store.open_correction(case.id).await.unwrap().is_none(),
            "{b}"
        );
        let given = store.correction_answers(case.id).await.unwrap();
        assert_eq!(given.len(), 3, "{b}");
        assert!(given.iter().all(|g| g.round == 1), "{b}");
        assert_eq!(
            given
                .iter()
                .find(|g| g.target == licence)
                .unwrap()
                .upload_id,
            Some(new.id),
            "{b}"
        );
        // Answering after resubmission: nothing is open.
        assert_eq!(
            store
                .answer_correction_fields(&case, &[phone], &doc, DEMO_NOW_MS + 10 * 60_000)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NotEditable,
            "{b}"
        );
    }
}
