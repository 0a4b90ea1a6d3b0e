//! The OpenAPI document: generated from the routes, OpenAPI 3.1, every `/api/v1` path, and
//! unchanged unless a reviewer accepts the new snapshot.

// Helpers outside #[test] functions may fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use yiwang_web::{AppState, WebConfig};

const PATHS: [&str; 14] = [
    "/api/v1/regions",
    "/api/v1/regions/{code}",
    "/api/v1/regions/{code}/children",
    "/api/v1/regions/{code}/path",
    "/api/v1/departments",
    "/api/v1/departments/{credit_code}",
    "/api/v1/standard-items",
    "/api/v1/implementations",
    "/api/v1/implementations/{code}",
    "/api/v1/drift",
    "/api/v1/search",
    "/api/v1/life-events",
    "/api/v1/life-events/{code}",
    "/api/v1/documents/verify/{code}",
];

#[test]
fn openapi_document_snapshot() {
    let doc = serde_json::to_value(yiwang_web::api::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in PATHS {
        assert!(paths[p]["get"].is_object(), "{p} missing");
    }
    assert_eq!(
        paths.len(),
        PATHS.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // Every error response points at the shared error envelope.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ErrorBody"));
    let mut ids = std::collections::HashSet::new();
    for (p, item) in paths {
        let id = item["get"]["operationId"].as_str().unwrap();
        assert!(ids.insert(id), "operationId {id} used twice");
        for (status, res) in item["get"]["responses"].as_object().unwrap() {
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
    let app = yiwang_web::router(AppState::new(
        db.store.clone(),
        WebConfig {
            secure_cookies: false,
            ..Default::default()
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let res = reqwest::get(format!("http://{addr}/api/openapi.json"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let served: Value = res.json().await.unwrap();
    assert_eq!(
        served,
        serde_json::to_value(yiwang_web::api::openapi()).unwrap()
    );
}
