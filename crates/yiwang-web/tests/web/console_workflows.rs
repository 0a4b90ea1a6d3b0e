//! Workflow definitions edited as data in the console, on every backend: a broken definition is
//! refused with every problem named in plain Chinese and nothing saved; a good one is saved and
//! bound to an implementation only within the administrator's scope.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::auth::{create_users, serve};
use reqwest::StatusCode;
use yiwang_domain::workflow::promised_parallel;
use yiwang_domain::{BasicCode, CreditCode, ImplCode};
use yiwang_testkit::{backends, with_demo};

const ITEM: &str = "11120112MB1W167324000112001001";
/// An implementation of another department (the `clerk` catalog admin may not edit it).
const OTHER: &str = "11120112MB1L902463000123006001";

#[tokio::test]
async fn workflows_are_checked_saved_and_bound_on_every_backend() {
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, true).await;
        let admin = site.sign_in(&db, "admin").await;
        let clerk = site.sign_in(&db, "clerk").await;

        let res = site.get("/console/workflows", Some(&admin)).await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        // No end step and an unreachable state: both named, nothing saved.
        let broken = r#"{"key":"broken","version":1,"name":"x","states":[
            {"key":"a","applicant_status":"submitted","start":true},
            {"key":"b","applicant_status":"approved"},
            {"key":"c","applicant_status":"approved"}],
            "actions":[{"key":"go","from_state":"a","to_state":"b","roles":["clerk"]},
                       {"key":"back","from_state":"b","to_state":"a","roles":["clerk"]}]}"#;
        let res = site
            .post("/console/workflows", Some(&admin), &[("json", broken)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("没有结束环节"),
            "{b}: {}",
            &html[html.len().saturating_sub(3000)..]
        );
        assert!(
            html.contains("环节“c”从开始环节无法到达"),
            "{b}: {}",
            html.split("role=\"alert\"").nth(1).unwrap_or("")
        );
        let saved = db.store.saved_workflows().await.unwrap();
        assert!(
            saved.iter().all(|w| w.key != "broken"),
            "{b}: nothing saved"
        );

        let def = promised_parallel(
            "pool_licence",
            &[("market", CreditCode::parse("11120112MB1L902463").unwrap())],
        );
        let res = site
            .post(
                "/console/workflows",
                Some(&admin),
                &[("json", &def.to_json().unwrap())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        // The same key and version again: a clear conflict.
        let res = site
            .post(
                "/console/workflows",
                Some(&admin),
                &[("json", &def.to_json().unwrap())],
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{b}");

        // The department's catalog administrator binds it to their own implementation only.
        let res = site
            .post(
                "/console/workflows/bind",
                Some(&clerk),
                &[
                    ("impl_code", OTHER),
                    ("key", "pool_licence"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        let res = site
            .post(
                "/console/workflows/bind",
                Some(&clerk),
                &[
                    ("impl_code", ITEM),
                    ("key", "pool_licence"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let published = db
            .store
            .published_implementation(&ImplCode::parse(ITEM).unwrap())
            .await
            .unwrap()
            .unwrap();
        let bound = db
            .store
            .workflow_bindings_for(
                &ImplCode::parse(ITEM).unwrap(),
                &BasicCode::parse(published.standard.basic_code.as_str()).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(bound.len(), 1, "{b}");
        assert_eq!(bound[0].definition, def, "{b}");
    }
}
