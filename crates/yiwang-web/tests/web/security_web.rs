//! Web hardening over real HTTP on every backend: security headers, cross-site requests refused
//! on every state-changing route (API included), URI and header limits, the request timeout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::console::*;
use crate::support::security::*;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yiwang_testkit::{backends, sqlite, with_demo};
use yiwang_web::WebConfig;
use yiwang_web::routes::route_policies;

#[tokio::test]
async fn security_headers_on_every_kind_of_response() {
    let db = sqlite().await;
    with_demo(&db).await;
    let http = Http::new(&serve(&db, config()).await);
    for path in [
        "/",
        "/console/login",
        "/console",
        "/api/v1/regions",
        "/no-such-page",
    ] {
        let res = http.get(path, None).await;
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin");
        assert!(
            h["permissions-policy"]
                .to_str()
                .unwrap()
                .contains("camera=()")
        );
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
        let no_store = h.get("cache-control").is_some_and(|v| v == "no-store");
        assert_eq!(
            no_store,
            path.starts_with("/console"),
            "{path} cache-control"
        );
    }
    // Behind HTTPS (secure cookies): HSTS.
    let secure = Http::new(&serve(&db, WebConfig::default()).await);
    let res = secure.get("/", None).await;
    let hsts = res.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
}

/// A server behind a TLS proxy on the same host listens on plain HTTP, but its public address is
/// https: cookies are `Secure` and answers carry HSTS, whatever `secure_cookies` says.
#[tokio::test]
async fn an_https_public_address_makes_cookies_secure_and_sends_hsts() {
    let db = sqlite().await;
    with_demo(&db).await;
    create_users(&db).await;
    let behind_proxy = WebConfig {
        secure_cookies: false,
        public_url: "https://zwfw.example.gov.cn".into(),
        ..Default::default()
    };
    assert!(behind_proxy.secure_transport());
    let http = Http::new(&serve(&db, behind_proxy).await);
    let res = http.get("/", None).await;
    let hsts = res.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
    let res = http.post_login("platform", PASSWORD, "/console").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(!cookies.is_empty());
    for c in cookies {
        assert!(c.contains("; Secure"), "{c}");
    }
    // A plain http public address and no setting: neither.
    let plain = Http::new(&serve(&db, config()).await);
    let res = plain.post_login("platform", PASSWORD, "/console").await;
    for c in res.headers().get_all("set-cookie") {
        assert!(!c.to_str().unwrap().contains("Secure"), "{c:?}");
    }
}

#[tokio::test]
async fn cross_site_requests_are_refused_on_every_route() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let samples = Samples::of(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let platform = session_for(&db, "platform").await;
        let before = counts(&db).await;

        // Every declared state-changing route, and the API and portal with methods they do not
        // even have: 403 before anything else, whatever the session.
        let mut targets: Vec<(reqwest::Method, String)> = route_policies()
            .iter()
            .filter(|(m, _, _)| m != "GET")
            .map(|(m, p, _)| (m.clone(), samples.fill(p)))
            .collect();
        for (m, p) in [
            ("POST", "/api/v1/regions"),
            ("PUT", "/api/v1/implementations"),
            ("DELETE", "/api/v1/departments"),
            ("PATCH", "/"),
            ("POST", "/search"),
        ] {
            targets.push((m.parse().unwrap(), p.to_string()));
        }
        assert!(targets.len() >= 10);
        type Forge = fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder;
        let forgeries: [(&str, Forge); 4] = [
            ("Origin: http://evil.example", |r| {
                r.header(ORIGIN, "http://evil.example")
            }),
            ("Origin: null", |r| r.header(ORIGIN, "null")),
            ("Sec-Fetch-Site: cross-site, no Origin", |r| {
                r.header("sec-fetch-site", "cross-site")
            }),
            ("Origin: same host, other port", |r| {
                r.header(ORIGIN, "http://127.0.0.1:1")
            }),
        ];
        for (method, path) in &targets {
            for (what, forge) in &forgeries {
                let req = http
                    .client
                    .request(method.clone(), http.url(path))
                    .header(COOKIE, &platform)
                    .form(&[("username", "platform"), ("password", PASSWORD)]);
                let res = forge(req).send().await.unwrap();
                assert_eq!(
                    res.status(),
                    StatusCode::FORBIDDEN,
                    "{method} {path} {what}"
                );
                if path.starts_with("/api/") {
                    let body: serde_json::Value = res.json().await.unwrap();
                    assert_eq!(body["error"]["code"], "forbidden");
                }
            }
        }
        assert_eq!(
            counts(&db).await,
            before,
            "a cross-site request wrote something"
        );
        let (status, _) = http.page("/console", &platform).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the cross-site logouts ended nothing"
        );

        // Same-origin, a method the API does not have: 405, not 403.
        let res = http
            .client
            .post(http.url("/api/v1/regions"))
            .header(ORIGIN, http.base.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        // No Origin and no Sec-Fetch-Site (a script, not a browser): goes through to the handler.
        let res = http
            .post_login("platform", "wrong-password", "/console")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn uri_and_header_limits() {
    let db = sqlite().await;
    with_demo(&db).await;
    let http = Http::new(&serve(&db, config()).await);
    let long = "a".repeat(yiwang_web::security::MAX_URI_BYTES + 1);
    for path in [
        format!("/search?q={long}"),
        format!("/api/v1/implementations?after={long}"),
        format!("/items/{long}"),
    ] {
        let res = http.get(&path, None).await;
        assert_eq!(res.status(), StatusCode::URI_TOO_LONG, "{}", &path[..20]);
    }
    let res = http
        .client
        .get(http.url("/"))
        .header(
            "x-padding",
            "b".repeat(yiwang_web::security::MAX_HEADER_BYTES),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    let res = http.get("/search?q=ok", None).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// A client that sends its headers and then stalls the body gets 408 when the time is up.
#[tokio::test]
async fn slow_requests_time_out() {
    let db = sqlite().await;
    let base = serve(
        &db,
        WebConfig {
            request_timeout_ms: 400,
            ..config()
        },
    )
    .await
    .base;
    let addr = base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /console/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=pla"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("the server answered before 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
