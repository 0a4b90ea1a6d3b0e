//! Malformed input to the JSON API: a 4xx JSON error with the right code, never a 5xx, with
//! messages in the reader's language (`?lang=`, then Accept-Language).

// Helpers outside #[test] functions may fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::api::Server;
use reqwest::StatusCode;
use yiwang_domain::{CreditCode, ErrorCode};
use yiwang_i18n::{Lang, error_message};
use yiwang_testkit::{backends, with_demo};

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

/// Signs the applicant (registered in the store) in through the form; the session cookie.
async fn sign_in(s: &Server, id: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(format!("{}/login", s.base))
        .form(&[
            ("id_number", id),
            ("password", yiwang_testkit::APPLICANT_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("yw_app="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no session cookie: {}", res.status()))
}

/// The applicant API answers in the documented envelope: no session is a 401 JSON error (never
/// the HTML sign-in page), a path id that is not a number a JSON 422 (never the framework's
/// plain-text 400), an undeclared method a JSON 405 with `Allow`, and `/api/v1/my/*` is never
/// cached. Every status seen here is one the OpenAPI document lists for the operation.
#[tokio::test]
async fn applicant_api_answers_in_the_documented_envelope() {
    use reqwest::Method;
    let doc = serde_json::to_value(yiwang_web::api::openapi()).unwrap();
    for mut db in backends().await {
        yiwang_testkit::with_cases(&mut db).await;
        let id = "11010519491231002X";
        yiwang_testkit::applicant(&db.store, id, "13800138000", yiwang_testkit::DEMO_NOW_MS).await;
        let s = Server::start(&db).await;
        let send = |method: Method, path: &str, cookie: Option<&str>, body: Option<&str>| {
            let mut req = s
                .http
                .request(method, format!("{}{path}", s.base))
                .header(reqwest::header::ACCEPT_LANGUAGE, "en");
            if let Some(c) = cookie {
                req = req.header(reqwest::header::COOKIE, c);
            }
            if let Some(b) = body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.to_string());
            }
            req.send()
        };
        let documented = |method: &str, op: &str, status: StatusCode| {
            let responses = &doc["paths"][op][method]["responses"];
            assert!(
                responses[status.as_str()].is_object(),
                "{method} {op}: {status} is not documented"
            );
        };
        let check = |res: reqwest::Response, status: StatusCode, code: ErrorCode| async move {
            let what = format!("{} {}", res.url(), res.status());
            assert_eq!(res.status(), status, "{what}");
            let ct = res.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_string();
            assert!(ct.starts_with("application/json"), "{what}: {ct}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], code.key(), "{what}: {body}");
            assert_eq!(
                body["error"]["message"],
                error_message(Lang::En, code),
                "{what}"
            );
        };

        // No session: 401 JSON on every applicant operation.
        let applicant_ops = [
            (
                Method::POST,
                "post",
                "/api/v1/applications",
                "/api/v1/applications",
            ),
            (
                Method::PUT,
                "put",
                "/api/v1/applications/1/answers",
                "/api/v1/applications/{id}/answers",
            ),
            (
                Method::POST,
                "post",
                "/api/v1/applications/1/materials",
                "/api/v1/applications/{id}/materials",
            ),
            (
                Method::POST,
                "post",
                "/api/v1/applications/1/submit",
                "/api/v1/applications/{id}/submit",
            ),
            (
                Method::POST,
                "post",
                "/api/v1/bundles/1/submit",
                "/api/v1/bundles/{id}/submit",
            ),
            (
                Method::GET,
                "get",
                "/api/v1/my/cases/X",
                "/api/v1/my/cases/{number}",
            ),
        ];
        for (m, method, path, op) in &applicant_ops {
            let res = send(m.clone(), path, None, Some("{}")).await.unwrap();
            check(res, StatusCode::UNAUTHORIZED, ErrorCode::NotAuthenticated).await;
            documented(method, op, StatusCode::UNAUTHORIZED);
        }

        // Signed in: ids that are not numbers (or overflow) are JSON errors naming `id`.
        let me = sign_in(&s, id).await;
        for (m, method, path, op) in &applicant_ops[1..5] {
            for bad in ["abc", "1.5", "99999999999999999999", "%E4%B8%80"] {
                let path = path.replace("/1/", &format!("/{bad}/"));
                let res = send(m.clone(), &path, Some(&me), Some("{\"declaration\":true}"))
                    .await
                    .unwrap();
                check(
                    res,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::NotAnInteger,
                )
                .await;
                documented(method, op, StatusCode::UNPROCESSABLE_ENTITY);
            }
        }
        // Malformed JSON and an empty multipart body: 422 JSON, documented.
        let res = send(
            Method::POST,
            "/api/v1/applications",
            Some(&me),
            Some("{\"impl"),
        )
        .await
        .unwrap();
        check(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidInput,
        )
        .await;
        documented(
            "post",
            "/api/v1/applications",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        let res = s
            .http
            .post(format!("{}/api/v1/applications/1/materials", s.base))
            .header(reqwest::header::COOKIE, &me)
            .header(reqwest::header::ACCEPT_LANGUAGE, "en")
            .header(
                reqwest::header::CONTENT_TYPE,
                "multipart/form-data; boundary=x",
            )
            .body("")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
        let status = res.status();
        assert!(
            res.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        documented("post", "/api/v1/applications/{id}/materials", status);
        // A case number that is not UTF-8: 422 JSON (not the framework's text/plain 400).
        let res = send(Method::GET, "/api/v1/my/cases/%FF", Some(&me), None)
            .await
            .unwrap();
        check(
            res,
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidInput,
        )
        .await;
        documented(
            "get",
            "/api/v1/my/cases/{number}",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        // A NUL byte: 400 JSON, documented.
        let res = send(Method::GET, "/api/v1/my/cases/A%00B", Some(&me), None)
            .await
            .unwrap();
        check(res, StatusCode::BAD_REQUEST, ErrorCode::InvalidInput).await;
        documented("get", "/api/v1/my/cases/{number}", StatusCode::BAD_REQUEST);
        // The applicant's own answers are never cached (the case page shows the ID number).
        let res = send(Method::GET, "/api/v1/my/cases/X", Some(&me), None)
            .await
            .unwrap();
        assert_eq!(res.headers()["cache-control"], "no-store");
        check(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = s
            .http
            .get(format!("{}/me", s.base))
            .header(reqwest::header::COOKIE, &me)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store", "/me");
        let res = send(Method::GET, "/api/v1/regions", None, None)
            .await
            .unwrap();
        assert!(
            res.headers()
                .get("cache-control")
                .is_none_or(|v| v != "no-store")
        );

        // A method the API does not have: 405 JSON with Allow.
        let res = send(Method::DELETE, "/api/v1/applications", Some(&me), None)
            .await
            .unwrap();
        assert_eq!(res.headers()["allow"], "POST");
        check(
            res,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
        )
        .await;
    }
}
