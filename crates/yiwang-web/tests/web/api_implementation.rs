//! `GET /api/v1/implementations/{code}`: the answer matches the store, and the catalog cache
//! follows publishing (after a second, or at once after `cache.clear()`).

// Helpers outside #[test] functions may fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::api::Server;
use reqwest::StatusCode;
use serde_json::Value;
use yiwang_domain::ImplCode;
use yiwang_domain::policy::CatalogScope;
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends, with_demo};

#[tokio::test]
async fn one_implementation_matches_the_store() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;
        let all = db.store.published_all().await.unwrap();
        // One with handling items and materials if the demo has it, else the first.
        let p = all
            .iter()
            .find(|p| {
                !p.implementation.handling_items.is_empty()
                    && !p.implementation.materials.is_empty()
            })
            .unwrap_or(&all[0]);
        let imp = &p.implementation;
        let res = s
            .http
            .get(format!("{}/api/v1/implementations/{}", s.base, imp.code))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], imp.code.as_str());
        assert_eq!(body["version"], p.version);
        assert_eq!(body["published_at"], DEMO_NOW_MS);
        assert_eq!(
            body["standard_item"]["basic_code"],
            p.standard.basic_code.as_str()
        );
        assert_eq!(body["standard_item"]["name"], p.standard.name);
        assert_eq!(body["standard_item"]["legal_basis"], p.standard.legal_basis);
        assert_eq!(body["department_name"], imp.department_name);
        assert_eq!(body["region"], imp.region.as_str());
        assert_eq!(body["hall_address"], imp.hall_address);
        assert_eq!(body["visits"], imp.visits);
        assert_eq!(
            body["statutory_limit"]["amount"],
            imp.statutory_limit.amount
        );
        assert_eq!(body["themes"], serde_json::json!(imp.themes));
        let materials: Vec<&str> = imp.materials.iter().map(|m| m.name.as_str()).collect();
        let got: Vec<&str> = body["materials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(got, materials, "materials in stored order");
        assert_eq!(
            body["materials"][0]["mandatory"],
            imp.materials[0].mandatory
        );
        assert_eq!(
            body["handling_items"].as_array().unwrap().len(),
            imp.handling_items.len()
        );
        assert_eq!(
            body["audiences"].as_array().unwrap().len(),
            imp.audiences.len()
        );
        // Served a second time from the cache: byte-identical.
        let (_, again) = s
            .get(&format!("/api/v1/implementations/{}", imp.code))
            .await;
        assert_eq!(again, body);
        assert!(!s.state.cache.is_empty());
    }
}

async fn republish(db: &TestDb, code: &ImplCode, hall: &str, now: i64) {
    let mut entry = db
        .store
        .published_implementation(code)
        .await
        .unwrap()
        .unwrap()
        .entry();
    entry.implementation.hall_address = hall.to_string();
    db.store
        .save_drafts(
            &[entry],
            &yiwang_store::Actor::system("test"),
            now,
            &mut |_| {},
        )
        .await
        .unwrap();
    let scope = CatalogScope {
        all: true,
        grants: Vec::new(),
    };
    db.store
        .publish_drafts(
            &scope,
            Some(&[code.to_string()]),
            &yiwang_store::Actor::system("test"),
            now,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn cache_follows_publishing() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;
        let all = db.store.published_all().await.unwrap();
        let code = all[3].implementation.code.clone();
        let path = format!("/api/v1/implementations/{code}");

        let (_, v1) = s.get(&path).await;
        assert_eq!(v1["version"], 1);

        // Published elsewhere: within the second the cached answer stands…
        republish(&db, &code, "New hall, room 2", DEMO_NOW_MS + 1).await;
        s.advance(500);
        let (_, cached) = s.get(&path).await;
        assert_eq!(cached, v1, "answers are cached for up to a second");
        // …after it the generation is re-read and the new version served.
        s.advance(600);
        let (_, v2) = s.get(&path).await;
        assert_eq!(v2["version"], 2);
        assert_eq!(v2["hall_address"], "New hall, room 2");
        assert_eq!(v2["published_at"], DEMO_NOW_MS + 1);

        // Published in this process: clearing the cache shows it at once.
        republish(&db, &code, "Third hall", DEMO_NOW_MS + 2).await;
        s.state.cache.clear();
        let (_, v3) = s.get(&path).await;
        assert_eq!(v3["version"], 3);
        assert_eq!(v3["hall_address"], "Third hall");

        // Other implementations were dropped from the cache too and still answer correctly.
        let other = all[4].implementation.code.clone();
        let (st, o) = s.get(&format!("/api/v1/implementations/{other}")).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(o["version"], 1);
    }
}
