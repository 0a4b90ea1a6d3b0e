//! Malformed input to the JSON API: a 4xx JSON error with the right code, never a 5xx, with
//! messages in the reader's language (`?lang=`, then Accept-Language).

// Helpers outside #[test] functions may fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::Server;
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
