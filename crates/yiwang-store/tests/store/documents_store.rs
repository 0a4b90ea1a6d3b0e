//! Documents on every backend: issue inside a caller's transaction (and roll back with it),
//! look up by verification code and by case, render again from the stored JSON to the same
//! digest, revoke once (audited), and refuse bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_docs::{DocumentKind, Notice, render_pdf};
use yiwang_domain::ErrorCode;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::document::{DocumentStatus, VerifyCode};
use yiwang_i18n::Lang;
use yiwang_store::documents::{NewDocument, digest, issue_in};
use yiwang_store::{Actor, AuditFilter};
use yiwang_testkit::backends;

fn notice(kind: DocumentKind, case: &str, code: &VerifyCode) -> Notice {
    Notice {
        kind,
        lang: Lang::Zh,
        case_number: case.into(),
        item_name: "食品经营许可（新办）".into(),
        department_name: "天津市津南区市场监督管理局".into(),
        department_credit_code: "11120112MB1W167324".into(),
        applicant_name: "张三".into(),
        issued_on: CivilDate::parse("2026-03-05").unwrap(),
        accepted_on: Some(CivilDate::parse("2026-03-05").unwrap()),
        due_on: Some(CivilDate::parse("2026-03-27").unwrap()),
        opinion: None,
        corrections: Vec::new(),
        verify_url: format!("https://zwfw.example.gov.cn/verify/{code}"),
        verify_code: code.to_string(),
        licence: None,
        doc_number: None,
        seal: None,
        digest: None,
    }
}

fn code(seed: u8) -> VerifyCode {
    VerifyCode::from_random([seed; 13].map(|b| b.wrapping_mul(37).wrapping_add(11)))
}

#[tokio::test]
async fn documents_round_trip_on_every_backend() {
    for db in backends().await {
        let store = &db.store;
        let b = db.backend.name();
        let case = "1112011200001-20260305-000001";
        let c1 = code(1);
        let n1 = notice(DocumentKind::Acceptance, case, &c1);
        let json = serde_json::to_string(&n1).unwrap();
        let pdf = render_pdf(&n1).unwrap();
        let printed = yiwang_docs::content_digest(&n1);
        let new = NewDocument {
            verify_code: &c1,
            case_number: case,
            kind: DocumentKind::Acceptance,
            department_credit_code: &n1.department_credit_code,
            department_name: &n1.department_name,
            issued_at_ms: 1_772_668_800_000,
            notice_json: &json,
            pdf: &pdf,
            doc_number: Some("津南审批许〔2026〕1号"),
            printed_digest: Some(&printed),
        };

        // Inside a caller's transaction that rolls back: nothing is left.
        let mut tx = store.pool().begin().await.unwrap();
        issue_in(&mut tx, &new).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(
            store.document_by_verify_code(&c1).await.unwrap().is_none(),
            "{b}"
        );

        // Committed with the caller's transaction.
        let mut tx = store.pool().begin().await.unwrap();
        let id = issue_in(&mut tx, &new).await.unwrap();
        tx.commit().await.unwrap();
        let got = store.document_by_verify_code(&c1).await.unwrap().unwrap();
        assert_eq!(got.id, id, "{b}");
        assert_eq!(got.kind, DocumentKind::Acceptance);
        assert_eq!(got.status, DocumentStatus::Valid);
        assert_eq!(got.alg, "sm3");
        assert_eq!(got.digest, digest(&pdf).1);
        assert_eq!(got.digest.len(), 64);
        assert_eq!(got.issued_at_ms, 1_772_668_800_000);
        assert_eq!(got.doc_number.as_deref(), Some("津南审批许〔2026〕1号"));
        assert_eq!(got.printed_digest.as_deref(), Some(printed.as_str()));
        assert_eq!(
            got.public().doc_number,
            got.doc_number,
            "the number is public"
        );

        // The stored JSON renders the same bytes again.
        let back: Notice = serde_json::from_str(&got.notice_json).unwrap();
        let again = render_pdf(&back).unwrap();
        assert!(got.matches(&again), "{b}: re-rendered PDF differs");
        let mut other = back.clone();
        other.applicant_name = "李四".into();
        assert!(!got.matches(&render_pdf(&other).unwrap()), "{b}");
        // The public view carries no applicant and no rendering input.
        let public = serde_json::to_string(&got.public()).unwrap();
        assert!(
            !public.contains("张三") && !public.contains("notice"),
            "{public}"
        );

        // A second document of the same case, through the convenience function.
        let c2 = code(2);
        let mut n2 = notice(DocumentKind::Correction, case, &c2);
        n2.corrections.push(yiwang_docs::CorrectionEntry {
            subject: "营业执照".into(),
            problem: "不清晰".into(),
        });
        let json2 = serde_json::to_string(&n2).unwrap();
        let pdf2 = render_pdf(&n2).unwrap();
        store
            .issue_document(&NewDocument {
                verify_code: &c2,
                kind: DocumentKind::Correction,
                notice_json: &json2,
                pdf: &pdf2,
                doc_number: None,
                printed_digest: None,
                issued_at_ms: 1_772_668_900_000,
                ..new.clone()
            })
            .await
            .unwrap();
        let list = store.documents_for_case(case).await.unwrap();
        assert_eq!(
            list.iter().map(|d| d.kind).collect::<Vec<_>>(),
            [DocumentKind::Acceptance, DocumentKind::Correction],
            "{b}"
        );
        assert!(store.documents_for_case("other").await.unwrap().is_empty());

        // The same verification code twice is a conflict.
        let e = store.issue_document(&new).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict, "{b}");
        // Bad input is refused before any write.
        for bad in [
            NewDocument {
                verify_code: &code(3),
                notice_json: "not json",
                ..new.clone()
            },
            NewDocument {
                verify_code: &code(4),
                case_number: " ",
                ..new.clone()
            },
            NewDocument {
                verify_code: &code(5),
                pdf: &[],
                doc_number: None,
                printed_digest: None,
                ..new.clone()
            },
        ] {
            let e = store.issue_document(&bad).await.unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{b}");
        }
        assert_eq!(store.documents_for_case(case).await.unwrap().len(), 2);

        // Revoke: once, audited; the second time is a conflict; unknown codes are not found.
        let actor = Actor::system("test");
        let e = store
            .revoke_document(&c1, " ", &actor, 2_000)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        store
            .revoke_document(&c1, "决定已撤回", &actor, 2_000)
            .await
            .unwrap();
        let got = store.document_by_verify_code(&c1).await.unwrap().unwrap();
        assert_eq!(got.status, DocumentStatus::Revoked, "{b}");
        assert_eq!(got.revoked_at_ms, Some(2_000));
        assert_eq!(got.revoked_reason.as_deref(), Some("决定已撤回"));
        let e = store
            .revoke_document(&c1, "again", &actor, 3_000)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict, "{b}");
        let e = store
            .revoke_document(&code(9), "x", &actor, 3_000)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{b}");
        // The other document is untouched.
        let second = store.document_by_verify_code(&c2).await.unwrap().unwrap();
        assert_eq!(second.status, DocumentStatus::Valid);
        let audits = store
            .audit_entries(&AuditFilter {
                object_prefix: Some("document/".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audits.len(), 1, "{b}");
        assert_eq!(audits[0].event.action, "document.revoke");
        assert!(audits[0].event.detail.contains("决定已撤回"));
    }
}

/// Document numbers (文号, certificate numbers) come from counters drawn in the issuing
/// transaction: 1, 2, 3 per series, independent between series, and a rolled-back step gives
/// its number back (no gaps, no repeats).
#[tokio::test]
async fn document_numbers_are_drawn_in_the_issuing_transaction_on_every_backend() {
    use yiwang_store::documents::next_serial_in;
    for db in backends().await {
        let b = db.backend.name();
        let store = &db.store;
        let a = "docno:11120112MB1W167324:2026";
        let other = "licence:JY:120112000000";
        let mut tx = store.pool().begin().await.unwrap();
        assert_eq!(next_serial_in(&mut tx, a).await.unwrap(), 1, "{b}");
        assert_eq!(next_serial_in(&mut tx, a).await.unwrap(), 2, "{b}");
        assert_eq!(next_serial_in(&mut tx, other).await.unwrap(), 1, "{b}");
        tx.commit().await.unwrap();
        // A step that fails after drawing: rolled back, the number is given again.
        let mut tx = store.pool().begin().await.unwrap();
        assert_eq!(next_serial_in(&mut tx, a).await.unwrap(), 3, "{b}");
        tx.rollback().await.unwrap();
        let mut tx = store.pool().begin().await.unwrap();
        assert_eq!(next_serial_in(&mut tx, a).await.unwrap(), 3, "{b}");
        assert_eq!(
            next_serial_in(&mut tx, "docno:11120112MB1W167324:2027")
                .await
                .unwrap(),
            1
        );
        let e = next_serial_in(&mut tx, "").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{b}");
        tx.commit().await.unwrap();
    }
}
