//! Hostile input to every `/api/v1` endpoint and query parameter over real HTTP on every
//! backend. Expected: 4xx JSON errors (or 200 JSON), never 5xx, never HTML, nothing written;
//! methods the API does not have and JSON bodies it never reads are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::console::*;
use crate::support::security::*;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use yiwang_testkit::{backends, with_demo};

#[tokio::test]
async fn api_refuses_hostile_input_with_json_errors() {
    for db in backends().await {
        with_demo(&db).await;
        let samples = Samples::of(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let before = counts(&db).await;
        let mut log = Log::new("api");
        let targets = [
            "/api/v1/regions?lang={}",
            "/api/v1/regions/{}",
            "/api/v1/regions/{}/children",
            "/api/v1/regions/{}/path",
            "/api/v1/departments?region={}",
            "/api/v1/departments/{}",
            "/api/v1/standard-items?after={}",
            "/api/v1/standard-items?limit={}",
            "/api/v1/implementations?region={}",
            "/api/v1/implementations?department={}",
            "/api/v1/implementations?theme={}",
            "/api/v1/implementations?audience={}",
            "/api/v1/implementations?basic_code={}",
            "/api/v1/implementations?after={}",
            "/api/v1/implementations?limit={}",
            "/api/v1/implementations/{}",
            "/api/v1/drift?region={}",
        ];
        let mut values: Vec<(String, String)> = hostile_values()
            .into_iter()
            .map(|(label, v)| (label, encode(&v)))
            .collect();
        for b in BAD_UTF8 {
            values.push((format!("bad UTF-8 `{b}`"), (*b).to_string()));
        }
        values.push(("negative number `-1`".into(), "-1".into()));
        values.push(("huge number".into(), "99999999999999999999999".into()));
        for target in targets {
            for (label, value) in &values {
                let path = target.replace("{}", value);
                if path.len() > 60_000 {
                    let (s, _) = raw_get(&http.base, &path).await;
                    let s = StatusCode::from_u16(s).unwrap();
                    log.record(target, label, s);
                    assert_eq!(s, StatusCode::URI_TOO_LONG, "{target} {label}");
                    continue;
                }
                let res = http.get(&path, None).await;
                let status = res.status();
                log.record(target, label, status);
                assert!(
                    status == StatusCode::OK || status.is_client_error(),
                    "{target} {label}: {status}"
                );
                let ct = res.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
                assert!(ct.starts_with("application/json"), "{target} {label}: {ct}");
                let body: serde_json::Value = res.json().await.unwrap();
                if status != StatusCode::OK {
                    assert!(
                        body["error"]["code"].is_string(),
                        "{target} {label}: {body}"
                    );
                }
            }
        }

        // Path traversal in the raw path (not normalised by a client): never a file.
        for path in [
            "/api/v1/../../../../etc/passwd",
            "/api/v1/regions/..%2F..%2F..%2Fetc%2Fpasswd",
            "/static/../../Cargo.toml",
            "/static/..%2F..%2FCargo.toml",
            "/api/v1/implementations/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        ] {
            let (s, body) = raw_get(&http.base, path).await;
            log.record(path, "raw path traversal", StatusCode::from_u16(s).unwrap());
            assert!((400..500).contains(&s), "{path}: {s}");
            assert!(
                !body.contains("root:") && !body.contains("[workspace]"),
                "{path}"
            );
        }

        // A token that is not one: 401 with the challenge, never 5xx.
        for (label, value) in hostile_values().into_iter().take(15) {
            let res = http
                .client
                .get(http.url("/api/v1/me"))
                .header(AUTHORIZATION, format!("Bearer {value}"))
                .send()
                .await;
            // Some values are not valid header text at all (the client refuses them).
            let Ok(res) = res else { continue };
            log.record("/api/v1/me (Authorization: Bearer …)", &label, res.status());
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{label}");
        }

        // Bodies the API never reads; methods it does not have.
        for (label, body) in [
            ("malformed JSON `{\"a\":`", "{\"a\":".to_string()),
            (
                "JSON with 1 MB string",
                format!("{{\"a\":\"{}\"}}", "x".repeat(1 << 20)),
            ),
            ("JSON nested 10000 deep", "[".repeat(10_000)),
        ] {
            for path in ["/api/v1/implementations", "/api/v1/regions/120112"] {
                for method in [reqwest::Method::POST, reqwest::Method::PUT] {
                    let res = http
                        .client
                        .request(method.clone(), http.url(path))
                        .header(ORIGIN, http.base.clone())
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    log.record(&format!("{method} {path}"), label, res.status());
                    assert_eq!(
                        res.status(),
                        StatusCode::METHOD_NOT_ALLOWED,
                        "{method} {path}"
                    );
                }
            }
            let res = http
                .client
                .get(http.url(&format!("/api/v1/implementations/{}", samples.impl_code)))
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            log.record(
                "GET /api/v1/implementations/{code} with a body",
                label,
                res.status(),
            );
            assert_eq!(res.status(), StatusCode::OK, "a GET body is ignored");
        }
        assert_eq!(counts(&db).await, before, "an API request wrote something");
        log.finish(&format!("{:?}", db.backend));
    }
}
