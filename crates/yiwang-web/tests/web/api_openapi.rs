//! The OpenAPI document: generated from the routes, OpenAPI 3.1, every `/api/v1` path, and
//! unchanged unless a reviewer accepts the new snapshot.

// Helpers outside #[test] functions may fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

/// Every operation of the API: (method, path).
const OPERATIONS: [(&str, &str); 22] = [
    ("get", "/api/v1/regions"),
    ("get", "/api/v1/regions/{code}"),
    ("get", "/api/v1/regions/{code}/children"),
    ("get", "/api/v1/regions/{code}/path"),
    ("get", "/api/v1/departments"),
    ("get", "/api/v1/departments/{credit_code}"),
    ("get", "/api/v1/standard-items"),
    ("get", "/api/v1/implementations"),
    ("get", "/api/v1/implementations/{code}"),
    ("get", "/api/v1/drift"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/life-events"),
    ("get", "/api/v1/life-events/{code}"),
    ("get", "/api/v1/documents/verify/{code}"),
    ("post", "/api/v1/applications"),
    ("put", "/api/v1/applications/{id}/answers"),
    ("post", "/api/v1/applications/{id}/materials"),
    ("post", "/api/v1/applications/{id}/submit"),
    ("post", "/api/v1/bundles/{id}/submit"),
    ("get", "/api/v1/my/cases/{number}"),
    ("post", "/api/v1/cases/{number}/actions"),
    ("get", "/api/v1/feed/case-events"),
];

#[test]
fn openapi_document_snapshot() {
    let doc = serde_json::to_value(yiwang_web::api::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (m, p) in OPERATIONS {
        assert!(paths[p][m].is_object(), "{m} {p} missing");
    }
    let count: usize = paths
        .values()
        .map(|item| item.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        count,
        OPERATIONS.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // Every error response points at the shared error envelope.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ErrorBody"));
    let mut ids = std::collections::HashSet::new();
    for (m, p) in OPERATIONS {
        let op = &paths[p][m];
        let id = op["operationId"].as_str().unwrap();
        assert!(ids.insert(id), "operationId {id} used twice");
        for (status, res) in op["responses"].as_object().unwrap() {
            assert!(
                res["description"].is_string(),
                "{p} {status}: a response needs a description"
            );
            if status.starts_with('4') {
                let r = &res["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(r, "#/components/schemas/ErrorBody", "{p} {status}");
            }
        }
    }
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn served_document_is_the_generated_one() {
    let db = yiwang_testkit::sqlite().await;
    let app = crate::support::spawn_app(&db).await;
    let res = reqwest::get(app.url("/api/openapi.json")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let served: Value = res.json().await.unwrap();
    assert_eq!(
        served,
        serde_json::to_value(yiwang_web::api::openapi()).unwrap()
    );
}
