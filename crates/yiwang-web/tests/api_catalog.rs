//! The JSON API over real HTTP, on every backend, with the demo catalog loaded. Answers are
//! compared with what the store itself returns.

// Helpers outside #[test] functions may fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::{CreditCode, ErrorCode, ImplCode, RegionCode};
use yiwang_i18n::{Lang, error_message};
use yiwang_store::ImplementationFilter;
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends, with_demo};
use yiwang_web::{AppState, Clock, WebConfig};

/// A clock the test moves by hand, so cache expiry is deterministic.
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct Server {
    base: String,
    state: AppState,
    clock: Arc<TestClock>,
    http: reqwest::Client,
}

impl Server {
    async fn start(db: &TestDb) -> Self {
        let clock = Arc::new(TestClock(AtomicI64::new(DEMO_NOW_MS + 60_000)));
        let mut state = AppState::new(
            db.store.clone(),
            WebConfig {
                secure_cookies: false,
                ..Default::default()
            },
        );
        state.clock = clock.clone();
        let app = yiwang_web::router(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base: format!("http://{addr}"),
            state,
            clock,
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_with(path, None).await
    }

    /// GETs `path`; the answer must be JSON whatever the status.
    async fn get_with(&self, path: &str, accept_language: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(al) = accept_language {
            req = req.header("accept-language", al);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "{path}: content-type {ct:?}"
        );
        let body: Value = res.json().await.unwrap();
        (status, body)
    }

    /// Asserts a 4xx JSON error with `code`, its message in `lang`, and returns the body.
    async fn expect_error(
        &self,
        path: &str,
        status: StatusCode,
        code: ErrorCode,
        lang: Lang,
    ) -> Value {
        let (s, body) = self.get(path).await;
        assert_eq!(s, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code.key(), "{path}: {body}");
        assert_eq!(
            body["error"]["message"],
            error_message(lang, code),
            "{path}"
        );
        body
    }

    fn advance(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::SeqCst);
    }
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}

/// Follows `next` from the first page to the last; every page but the last is full.
async fn walk(s: &Server, path: &str, limit: usize, key: &str) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..1000 {
        let url = match &after {
            Some(a) => format!("{path}{sep}limit={limit}&after={a}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (status, page) = s.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        let keys = strings(&page, key);
        assert!(keys.len() <= limit, "{url}: page larger than limit");
        out.extend(keys.iter().cloned());
        match page["next"].as_str() {
            Some(n) => {
                assert_eq!(
                    keys.len(),
                    limit,
                    "{url}: a page before the last must be full"
                );
                after = Some(n.to_string());
            }
            None => {
                assert!(page["next"].is_null());
                return out;
            }
        }
    }
    panic!("{path}: paging did not end");
}

fn no_duplicates(v: &[String]) {
    let set: HashSet<&String> = v.iter().collect();
    assert_eq!(set.len(), v.len(), "duplicates in {v:?}");
}

async fn store_codes(db: &TestDb, f: &ImplementationFilter) -> Vec<String> {
    db.store
        .list_published(f, None, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code)
        .collect()
}

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
        assert!(item["item_type"].is_string() && item["level"].is_string());
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

#[tokio::test]
async fn malformed_input_gets_a_json_4xx_with_the_right_code() {
    for db in backends().await {
        with_demo(&db).await;
        let s = Server::start(&db).await;
        let u = StatusCode::UNPROCESSABLE_ENTITY;
        let cases: &[(&str, ErrorCode)] = &[
            ("/api/v1/implementations?limit=0", ErrorCode::OutOfRange),
            ("/api/v1/implementations?limit=201", ErrorCode::OutOfRange),
            ("/api/v1/implementations?limit=-5", ErrorCode::OutOfRange),
            ("/api/v1/implementations?limit=ten", ErrorCode::NotAnInteger),
            (
                "/api/v1/implementations?limit=1&limit=2",
                ErrorCode::InvalidInput,
            ),
            ("/api/v1/implementations?after=zz", ErrorCode::InvalidCursor),
            (
                "/api/v1/implementations?after=2020",
                ErrorCode::InvalidCursor,
            ),
            (
                "/api/v1/implementations?after=%FF",
                ErrorCode::InvalidCursor,
            ),
            (
                "/api/v1/implementations?audience=robot",
                ErrorCode::UnknownEnumValue,
            ),
            (
                "/api/v1/implementations?region=1299",
                ErrorCode::UnknownRegion,
            ),
            (
                "/api/v1/implementations?region=12011",
                ErrorCode::InvalidRegionCode,
            ),
            (
                "/api/v1/implementations?department=xyz",
                ErrorCode::InvalidCreditCode,
            ),
            (
                "/api/v1/implementations?basic_code=00000000000000",
                ErrorCode::InvalidBasicCode,
            ),
            ("/api/v1/standard-items?limit=abc", ErrorCode::NotAnInteger),
            (
                "/api/v1/implementations/has%20space",
                ErrorCode::InvalidImplCode,
            ),
            ("/api/v1/implementations/%FF%FE", ErrorCode::InvalidInput),
        ];
        for (path, code) in cases {
            let body = s.expect_error(path, u, *code, Lang::Zh).await;
            if *code != ErrorCode::InvalidInput && !path.contains("/implementations/") {
                let issue = &body["error"]["issues"][0];
                assert_eq!(issue["code"], code.key(), "{path}: {body}");
                assert!(issue["field"].is_string(), "{path}: {body}");
            }
        }
        let long = "A".repeat(37);
        s.expect_error(
            &format!("/api/v1/implementations/{long}"),
            u,
            ErrorCode::InvalidImplCode,
            Lang::Zh,
        )
        .await;
        let long_theme = "x".repeat(101);
        s.expect_error(
            &format!("/api/v1/implementations?theme={long_theme}"),
            u,
            ErrorCode::TooLong,
            Lang::Zh,
        )
        .await;
        let unknown_dept = CreditCode::with_check_char("91350100M000100Y4").unwrap();
        s.expect_error(
            &format!("/api/v1/implementations?department={unknown_dept}"),
            u,
            ErrorCode::UnknownDepartment,
            Lang::Zh,
        )
        .await;
        s.expect_error(
            "/api/v1/implementations/NOSUCHCODE",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            Lang::Zh,
        )
        .await;
        s.expect_error(
            "/api/v1/no-such-endpoint",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            Lang::Zh,
        )
        .await;

        // English, by query string or by Accept-Language; the query string wins.
        let body = s
            .expect_error(
                "/api/v1/implementations?limit=0&lang=en",
                u,
                ErrorCode::OutOfRange,
                Lang::En,
            )
            .await;
        let message = body["error"]["issues"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("limit") && message.contains("1-200"),
            "{message}"
        );
        s.expect_error(
            "/api/v1/implementations/NOSUCHCODE?lang=en",
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            Lang::En,
        )
        .await;
        let (_, body) = s
            .get_with("/api/v1/regions/12a", Some("en-US,en;q=0.9"))
            .await;
        assert_eq!(
            body["error"]["message"],
            error_message(Lang::En, ErrorCode::InvalidRegionCode)
        );
        let (_, body) = s
            .get_with("/api/v1/regions/12a?lang=zh-CN", Some("en"))
            .await;
        assert_eq!(
            body["error"]["message"],
            error_message(Lang::Zh, ErrorCode::InvalidRegionCode)
        );
        assert_ne!(
            error_message(Lang::Zh, ErrorCode::InvalidRegionCode),
            error_message(Lang::En, ErrorCode::InvalidRegionCode)
        );
    }
}

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
        .save_drafts(&[entry], None, now, &mut |_| {})
        .await
        .unwrap();
    let scope = CatalogScope {
        all: true,
        grants: Vec::new(),
    };
    db.store
        .publish_drafts(&scope, Some(&[code.to_string()]), None, now)
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
