//! `/api/v1/drift`: the 四级四同 report over the published catalog.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

#[tokio::test]
async fn drift_report_matches_the_domain() {
    for db in yiwang_testkit::backends().await {
        yiwang_testkit::with_demo(&db).await;
        let s = api_support::Server::start(&db).await;
        let (status, body) = s.get("/api/v1/drift").await;
        assert_eq!(status, 200);
        let all = yiwang_domain::policy::CatalogScope {
            all: true,
            grants: vec![],
        };
        let expected = yiwang_app::catalog::drift(&db.store, &all).await.unwrap();
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), expected.items.len());
        assert!(!items.is_empty());
        assert_eq!(
            items[0]["basic_code"],
            expected.items[0].basic_code.as_str()
        );
        assert_eq!(
            body["regions"].as_array().unwrap().len(),
            expected.regions.len()
        );
        // One township: nothing to compare inside it, so no drift.
        let (status, town) = s.get("/api/v1/drift?region=120112102").await;
        assert_eq!(status, 200);
        assert!(town["items"].as_array().unwrap().is_empty());
        let (status, bad) = s.get("/api/v1/drift?region=12x").await;
        assert_eq!(status, 422);
        assert_eq!(bad["error"]["code"], "invalid_region_code");
    }
}
