//! The JSON API over real HTTP, on every backend, with the demo catalog loaded: regions,
//! departments, standard items and the implementation list with its keyset pages and filters.
//! Answers are compared with what the store itself returns.

// Helpers outside #[test] functions may fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::api::{Server, no_duplicates, store_codes, strings, walk};
use reqwest::StatusCode;
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};
use yiwang_i18n::Lang;
use yiwang_store::ImplementationFilter;
use yiwang_testkit::{backends, with_demo};

#[tokio::test]
async fn regions() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;

        let (st, body) = s.get("/api/v1/regions").await;
        assert_eq!(st, StatusCode::OK);
        let provinces: Vec<String> = db
            .store
            .region_children(None)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.code.to_string())
            .collect();
        assert_eq!(strings(&body, "code"), provinces);
        assert!(provinces.contains(&"120000000000".to_string()));

        let jinnan = RegionCode::parse("120112").unwrap();
        let stored = db.store.region(&jinnan).await.unwrap().unwrap();
        let (st, body) = s.get("/api/v1/regions/120112").await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["code"], "120112000000");
        assert_eq!(body["name"], stored.name);
        assert_eq!(body["level"], "county");
        assert_eq!(body["parent"], "120100000000");
        let (_, same) = s.get("/api/v1/regions/120112000000").await;
        assert_eq!(same, body, "short and 12-digit codes name the same region");
        let (_, tianjin) = s.get("/api/v1/regions/12").await;
        assert!(tianjin["parent"].is_null());
        assert_eq!(tianjin["level"], "province");

        let (st, body) = s.get("/api/v1/regions/120112/children").await;
        assert_eq!(st, StatusCode::OK);
        let children: Vec<String> = db
            .store
            .region_children(Some(&jinnan))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.code.to_string())
            .collect();
        assert!(!children.is_empty());
        assert_eq!(strings(&body, "code"), children);
        assert!(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["level"] == "township")
        );

        let (st, body) = s.get("/api/v1/regions/120112100/path").await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            strings(&body, "code"),
            [
                "120000000000",
                "120100000000",
                "120112000000",
                "120112100000"
            ]
        );

        for p in [
            "/api/v1/regions/99",
            "/api/v1/regions/99/children",
            "/api/v1/regions/99/path",
        ] {
            s.expect_error(p, StatusCode::NOT_FOUND, ErrorCode::NotFound, Lang::Zh)
                .await;
        }
        for p in [
            "/api/v1/regions/12a",
            "/api/v1/regions/1201123/children",
            "/api/v1/regions/00/path",
        ] {
            s.expect_error(
                p,
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidRegionCode,
                Lang::Zh,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn departments() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;

        let all = db.store.departments(None).await.unwrap();
        assert!(all.len() >= 10);
        let (st, body) = s.get("/api/v1/departments").await;
        assert_eq!(st, StatusCode::OK);
        let codes: Vec<String> = all.iter().map(|d| d.credit_code.to_string()).collect();
        assert_eq!(strings(&body, "credit_code"), codes);

        let town = RegionCode::parse("120112100").unwrap();
        let within = db.store.departments(Some(&town)).await.unwrap();
        assert!(!within.is_empty() && within.len() < all.len());
        let (_, body) = s.get("/api/v1/departments?region=120112100").await;
        let codes: Vec<String> = within.iter().map(|d| d.credit_code.to_string()).collect();
        assert_eq!(strings(&body, "credit_code"), codes);
        assert!(
            strings(&body, "region")
                .iter()
                .all(|r| r.starts_with("120112100"))
        );

        let d = &all[0];
        let (st, body) = s
            .get(&format!("/api/v1/departments/{}", d.credit_code))
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["name"], d.name);
        assert_eq!(body["region"], d.region.as_str());
        // Lower case is accepted (credit codes are upper case by definition).
        let (st, _) = s
            .get(&format!(
                "/api/v1/departments/{}",
                d.credit_code.as_str().to_ascii_lowercase()
            ))
            .await;
        assert_eq!(st, StatusCode::OK);

        let unknown = CreditCode::with_check_char("91350100M000100Y4").unwrap();
        s.expect_error(
            &format!("/api/v1/departments/{unknown}"),
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            Lang::Zh,
        )
        .await;
        let mut wrong_check = d.credit_code.to_string();
        let last = wrong_check.pop().unwrap();
        wrong_check.push(if last == '0' { '1' } else { '0' });
        s.expect_error(
            &format!("/api/v1/departments/{wrong_check}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CreditCodeCheckFailed,
            Lang::Zh,
        )
        .await;
        s.expect_error(
            "/api/v1/departments/123",
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidCreditCode,
            Lang::Zh,
        )
        .await;
        s.expect_error(
            "/api/v1/departments?region=12x",
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidRegionCode,
            Lang::Zh,
        )
        .await;
        s.expect_error(
            "/api/v1/departments?region=990000&lang=en",
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::UnknownRegion,
            Lang::En,
        )
        .await;
    }
}

#[tokio::test]
async fn standard_items_page_through_the_basic_catalog() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;
        let stored: Vec<String> = db
            .store
            .standard_items(None, 500)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.basic_code.to_string())
            .collect();
        assert!(stored.len() > 7);
        let walked = walk(&s, "/api/v1/standard-items", 7, "basic_code").await;
        no_duplicates(&walked);
        assert_eq!(walked, stored);
        let (_, first) = s.get("/api/v1/standard-items?limit=1").await;
        let item = &first["items"][0];
        assert_eq!(item["basic_code"], stored[0].as_str());
        assert!(item["item_type"].is_string() && item["levels"][0].is_string());
        s.expect_error(
            "/api/v1/standard-items?after=nothex",
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidCursor,
            Lang::Zh,
        )
        .await;
    }
}

#[tokio::test]
async fn implementations_keyset_pagination_and_filters() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;

        // Every implementation of 津南区, walked 7 at a time: no duplicates, no gaps.
        let jinnan = RegionCode::parse("120112").unwrap();
        let all = db.store.published_all().await.unwrap();
        let mut expected: Vec<String> = all
            .iter()
            .filter(|p| jinnan.contains(&p.implementation.region))
            .map(|p| p.implementation.code.to_string())
            .collect();
        expected.sort();
        assert!(expected.len() > 14, "demo too small: {}", expected.len());
        let walked = walk(&s, "/api/v1/implementations?region=120112", 7, "code").await;
        no_duplicates(&walked);
        assert_eq!(walked.len(), expected.len());
        assert_eq!(walked, expected);

        // The default page is 50; the fields of a summary match the store.
        let (_, page) = s.get("/api/v1/implementations").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 50.min(all.len()));
        let first = &page["items"][0];
        let p = all
            .iter()
            .find(|p| p.implementation.code.as_str() == first["code"])
            .unwrap();
        assert_eq!(first["name"], p.standard.name);
        assert_eq!(
            first["department_code"],
            p.implementation.department_code.as_str()
        );
        assert_eq!(
            first["promised_limit"]["amount"],
            p.implementation.promised_limit.amount
        );

        // A township's subtree.
        let town = RegionCode::parse("120112100").unwrap();
        let f = ImplementationFilter {
            region: Some(town),
            ..Default::default()
        };
        let want = store_codes(&db, &f).await;
        assert!(!want.is_empty() && want.len() < expected.len());
        assert_eq!(
            walk(&s, "/api/v1/implementations?region=120112100", 3, "code").await,
            want
        );

        // Department.
        let dept = all[0].implementation.department_code.clone();
        let f = ImplementationFilter {
            department: Some(dept.clone()),
            ..Default::default()
        };
        let want = store_codes(&db, &f).await;
        let got = walk(
            &s,
            &format!("/api/v1/implementations?department={dept}"),
            5,
            "code",
        )
        .await;
        assert_eq!(got, want);
        assert!(
            all.iter()
                .filter(|p| got.contains(&p.implementation.code.to_string()))
                .all(|p| p.implementation.department_code == dept)
        );

        // Theme (percent-encoded UTF-8).
        let (theme, n) = db.store.published_themes().await.unwrap()[0].clone();
        let f = ImplementationFilter {
            theme: Some(theme.clone()),
            ..Default::default()
        };
        let want = store_codes(&db, &f).await;
        assert_eq!(want.len() as i64, n);
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/implementations", s.base),
            &[("theme", theme.as_str()), ("limit", "200")],
        )
        .unwrap();
        let (_, page) = s
            .get(&format!("{}?{}", url.path(), url.query().unwrap()))
            .await;
        assert_eq!(strings(&page, "code"), want);

        // Audience: persons and legal bodies, each checked against the stored audiences.
        for (kind, persons) in [("person", true), ("legal", false)] {
            let got = walk(
                &s,
                &format!("/api/v1/implementations?audience={kind}&region=120112"),
                9,
                "code",
            )
            .await;
            let want: Vec<String> = all
                .iter()
                .filter(|p| {
                    p.implementation
                        .audiences
                        .iter()
                        .any(|a| a.is_person() == persons)
                })
                .map(|p| p.implementation.code.to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            assert!(!got.is_empty());
            assert_eq!(got, want, "audience={kind}");
        }

        // Standard item.
        let basic = all[1].standard.basic_code.clone();
        let (_, page) = s
            .get(&format!("/api/v1/implementations?basic_code={basic}"))
            .await;
        let got = strings(&page, "code");
        assert!(!got.is_empty());
        assert!(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["basic_code"] == basic.as_str())
        );

        // Filters combine; a known but empty combination is an empty page, not an error.
        let (st, page) = s
            .get("/api/v1/implementations?region=120112102&audience=person&basic_code=ZZZ")
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(page["items"].as_array().unwrap().len(), 0);
        assert!(page["next"].is_null());
    }
}
