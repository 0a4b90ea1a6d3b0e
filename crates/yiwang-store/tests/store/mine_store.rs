//! The store's part of 一表申请 and 我的办事 on every backend: a bundle's answers saved into all
//! its drafts in one transaction (all or nothing, this bundle's drafts only); a file shared
//! with another part recorded once per part with the same stored file; a draft deleted with
//! its file records (not a submitted one, not another's, not a bundle's part); the query code
//! is stable per case, differs between cases, and a lookup answers only the right code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use yiwang_domain::case::{CaseNumber, CaseSource};
use yiwang_domain::upload::FileKind;
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_store::NewUpload;
use yiwang_store::applications::DraftOwner;
use yiwang_testkit::{DEMO_NOW_MS, applicant, backends};

const FOOD: &str = "11120112MB1W167324000123001001";

fn upload(owner: i64, app: i64, material: &str, byte: u8) -> NewUpload {
    NewUpload {
        owner_applicant_id: owner,
        application_id: app,
        material_key: material.into(),
        filename: "扫描件.pdf".into(),
        kind: FileKind::Pdf,
        size: 591,
        sha256: format!("{byte:02x}").repeat(32),
        storage_key: format!("sha256-{}", format!("{byte:02x}").repeat(32)),
    }
}

#[tokio::test]
async fn bundle_answers_shared_files_and_drafts_on_every_backend() {
    let now = DEMO_NOW_MS;
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let s = db.store.clone();
        let a = applicant(&s, "11010519491231002X", "13800138000", now).await;
        let other = applicant(&s, "120112199001011238", "13800138001", now).await;
        let food = ImplCode::parse(FOOD).unwrap();
        let id = s
            .create_bundle(
                a.id,
                "open-restaurant",
                "开办餐饮店",
                &[food.clone(), food.clone()],
                now,
            )
            .await
            .unwrap();
        let bundle = s.bundle(id, a.id).await.unwrap();
        let (p1, p2) = (
            bundle.parts[0].application_id,
            bundle.parts[1].application_id,
        );
        let doc = |phone: &str| json!({"pairs": [["phone", phone]]});

        // Both drafts in one go.
        s.save_bundle_answers(
            id,
            a.id,
            &[(p1, doc("13900000001")), (p2, doc("13900000002"))],
            now,
        )
        .await
        .unwrap();
        for (p, phone) in [(p1, "13900000001"), (p2, "13900000002")] {
            let app = s.application(p, DraftOwner::Applicant(a.id)).await.unwrap();
            assert_eq!(app.answers, doc(phone), "{b}");
        }
        // A draft of another bundle or applicant in the list: nothing saved at all.
        let loose = s
            .create_application(a.id, &food, CaseSource::Online, None, now)
            .await
            .unwrap();
        let e = s
            .save_bundle_answers(
                id,
                a.id,
                &[(p1, doc("13911111111")), (loose.id, doc("1"))],
                now,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotEditable, "{b}");
        let e = s
            .save_bundle_answers(id, other.id, &[(p1, doc("13911111111"))], now)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotEditable, "{b}");
        let app = s
            .application(p1, DraftOwner::Applicant(a.id))
            .await
            .unwrap();
        assert_eq!(app.answers, doc("13900000001"), "{b}: rolled back");

        // A file of part 1 shared with part 2: a record of part 2 with the same stored file.
        let up = s
            .record_upload(&upload(a.id, p1, "营业执照", 7), now)
            .await
            .unwrap();
        s.share_bundle_uploads(id, a.id, &[(up.clone(), p2)], now)
            .await
            .unwrap();
        let theirs = s.uploads_for_application(p2, false).await.unwrap();
        assert_eq!(theirs.len(), 1, "{b}");
        assert_eq!(theirs[0].storage_key, up.storage_key, "{b}");
        assert_eq!(theirs[0].material_key, "营业执照", "{b}");
        // Not into a draft outside the bundle, not by another applicant.
        let e = s
            .share_bundle_uploads(id, a.id, &[(up.clone(), loose.id)], now)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{b}");
        let e = s
            .share_bundle_uploads(id, other.id, &[(up.clone(), p2)], now)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{b}");

        // Deleting drafts: a bundle's part is refused; another's is not found; the loose one
        // goes with its records, and its file is reported unused only when nothing else
        // refers to it.
        let e = s.delete_draft(p1, a.id).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotEditable, "{b}");
        let e = s.delete_draft(loose.id, other.id).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{b}");
        s.record_upload(&upload(a.id, loose.id, "营业执照", 7), now)
            .await
            .unwrap();
        s.record_upload(&upload(a.id, loose.id, "食品安全管理制度文本", 9), now)
            .await
            .unwrap();
        let unused = s.delete_draft(loose.id, a.id).await.unwrap();
        assert_eq!(unused, vec![format!("sha256-{}", "09".repeat(32))], "{b}");
        assert!(
            s.uploads_for_application(loose.id, true)
                .await
                .unwrap()
                .is_empty()
        );
        let e = s
            .application(loose.id, DraftOwner::Applicant(a.id))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{b}");
    }
}

#[tokio::test]
async fn query_codes_answer_only_their_case_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let s = db.store.clone();
        let one = CaseNumber::parse(&format!("{FOOD}-20261208-000001")).unwrap();
        let two = CaseNumber::parse(&format!("{FOOD}-20261208-000002")).unwrap();
        let c1 = s.case_query_code(&one).unwrap();
        assert_eq!(c1, s.case_query_code(&one).unwrap(), "{b}: stable");
        assert_ne!(c1, s.case_query_code(&two).unwrap(), "{b}");
        assert_eq!(c1.len(), 8, "{b}");
        // No such case: nothing, even with its own code.
        assert!(
            s.progress_by_code(&one, &c1).await.unwrap().is_none(),
            "{b}"
        );
    }
}
