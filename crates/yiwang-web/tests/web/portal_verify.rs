//! Public document verification (文书核验) over real HTTP on every backend: the page and the
//! JSON show the document's status without personal data; revocation shows at once; unknown
//! and malformed codes get a clear 404, never a 5xx.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::portal::*;
use reqwest::StatusCode;
use yiwang_domain::document::{DocumentKind, VerifyCode};
use yiwang_store::Actor;
use yiwang_store::documents::{NewDocument, digest};
use yiwang_testkit::backends;

const CASE: &str = "1112011200001-20260305-000042";
const APPLICANT: &str = "王小明";

#[tokio::test]
async fn verification_page_and_api() {
    for db in backends().await {
        let b = db.backend.name();
        let code = VerifyCode::from_random([7, 1, 9, 3, 5, 200, 17, 44, 90, 3, 8, 250, 66]);
        let pdf = b"%PDF-1.7 test document".to_vec();
        let json = format!(r#"{{"applicant_name":"{APPLICANT}","case_number":"{CASE}"}}"#);
        db.store
            .issue_document(&NewDocument {
                verify_code: &code,
                case_number: CASE,
                kind: DocumentKind::Acceptance,
                department_credit_code: "11120112MB1W167324",
                department_name: "天津市津南区行政审批局",
                // 2026-03-05 10:00 Beijing time.
                issued_at_ms: 1_772_676_000_000,
                notice_json: &json,
                pdf: &pdf,
                doc_number: None,
                printed_digest: None,
            })
            .await
            .unwrap();
        let p = serve(&db).await;
        let path = format!("/verify/{code}");
        let body = p.ok(&path).await;
        let hex = digest(&pdf).1;
        for needle in [
            "文书核验",
            "受理通知书",
            CASE,
            "天津市津南区行政审批局",
            "11120112MB1W167324",
            "2026-03-05",
            "有效",
            "SM3",
            &hex[..8],
            &hex[56..],
        ] {
            assert!(body.contains(needle), "{b}: page lacks {needle}");
        }
        assert!(
            !body.contains(APPLICANT),
            "{b}: the page shows the applicant"
        );
        assert!(!body.contains("已撤销"), "{b}");
        // Typed in lower case, or in English.
        let lower = p
            .ok(&format!("/verify/{}", code.as_str().to_lowercase()))
            .await;
        assert!(lower.contains(CASE));
        let en = p.ok(&format!("{path}?lang=en")).await;
        assert!(
            en.contains("Notice of Acceptance") && en.contains("Valid"),
            "{en}"
        );

        // The JSON view.
        let res = p
            .http
            .get(format!("{}/api/v1/documents/verify/{code}", p.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        let text = res.text().await.unwrap();
        assert!(
            !text.contains(APPLICANT),
            "{b}: the API shows the applicant"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["kind"], "acceptance");
        assert_eq!(v["title"], "受理通知书");
        assert_eq!(v["case_number"], CASE);
        assert_eq!(v["status"], "valid");
        assert_eq!(v["issued_on"], "2026-03-05");
        assert_eq!(v["alg"], "sm3");
        assert_eq!(v["digest"], hex);

        // Revoked: both views say so.
        db.store
            .revoke_document(
                &code,
                "决定已依法撤回",
                &Actor::system("test"),
                1_772_800_000_000,
            )
            .await
            .unwrap();
        let body = p.ok(&path).await;
        assert!(body.contains("已撤销") && body.contains("不再有效"), "{b}");
        assert!(
            !body.contains("决定已依法撤回"),
            "{b}: internal reason shown"
        );
        let v: serde_json::Value = p
            .http
            .get(format!("{}/api/v1/documents/verify/{code}", p.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["status"], "revoked");
        assert_eq!(v["revoked_at_ms"], 1_772_800_000_000_i64);

        // Unknown and malformed codes: 404, a clear message, never a 5xx.
        let unknown = VerifyCode::from_random([1; 13]);
        let long = "A".repeat(5000);
        for bad in [
            unknown.as_str(),
            "abc",
            "0000000000000000000O",
            "%3Cscript%3E",
            "%FF%FE",
            long.as_str(),
        ] {
            let (status, body) = p.get(&format!("/verify/{bad}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{b}: /verify/{bad}");
            assert!(body.contains("没有找到这个核验码对应的文书"), "{b}: {bad}");
            let res = p
                .http
                .get(format!("{}/api/v1/documents/verify/{bad}", p.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}: api {bad}");
            let v: serde_json::Value = res.json().await.unwrap();
            assert_eq!(v["error"]["code"], "not_found", "{b}: {bad}");
        }
    }
}
