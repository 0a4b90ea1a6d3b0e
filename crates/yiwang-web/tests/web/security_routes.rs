//! Every route has a declared policy, and every non-public route refuses outsiders.
//!
//! How the routes are enumerated (axum has no public route list):
//! 1. the router's own table, read from its `Debug` output (axum prints each path with the
//!    methods it has a handler for); the parser fails loudly if that output changes shape;
//! 2. independently, the source: every `.route("…")` literal and `#[utoipa::path(… path = "…")]`
//!    in `src/`;
//! 3. the OpenAPI document's paths.
//!
//! All three must equal `route_policies()` (each method of each path), so a route added without
//! a policy fails here; at run time the router also refuses to serve it (see `security.rs`).
//! Then, over real HTTP on every backend, every restricted route is sent an anonymous request and
//! requests from signed-in accounts without the permission: never 2xx, never 5xx, nothing
//! written; a platform administrator's GET gets 200 (so every entry is really routed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::console::*;
use crate::support::security::*;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN};
use std::collections::{BTreeMap, BTreeSet};
use yiwang_testkit::{backends, sqlite, with_demo};
use yiwang_web::routes::{Policy, markdown, route_policies};
use yiwang_web::{AppState, router};

type RouteSet = BTreeSet<(String, String)>;

fn declared() -> RouteSet {
    route_policies()
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect()
}

/// (method, path) of every handler in the router, from its `Debug` output.
fn routes_from_debug(app: &axum::Router) -> RouteSet {
    let dbg = format!("{app:?}");
    let start = dbg
        .find("path_router:")
        .expect("axum's Router Debug output changed: no `path_router`; update this parser");
    let end = dbg[start..]
        .find("fallback_router:")
        .map_or(dbg.len(), |e| start + e);
    let section = &dbg[start..end];
    let mut paths: BTreeMap<u64, String> = BTreeMap::new();
    let mut methods: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for chunk in section.split("RouteId(").skip(1) {
        let Some((id, rest)) = chunk.split_once("): ") else {
            continue;
        };
        let Ok(id) = id.parse::<u64>() else { continue };
        if let Some(p) = rest.strip_prefix('"') {
            paths.insert(id, p[..p.find('"').unwrap()].to_string());
        } else if rest.starts_with("MethodRouter(") {
            let fields = &rest[..rest.find("fallback:").unwrap_or(rest.len())];
            let mut ms = Vec::new();
            for m in [
                "get", "post", "put", "patch", "delete", "options", "trace", "connect",
            ] {
                let key = format!(" {m}: ");
                let i = fields
                    .find(&key)
                    .unwrap_or_else(|| panic!("no `{m}` in MethodRouter Debug; update parser"));
                if !fields[i + key.len()..].starts_with("None") {
                    ms.push(m.to_ascii_uppercase());
                }
            }
            methods.insert(id, ms);
        } else if rest.starts_with("Route(") {
            methods.insert(id, vec!["*any*".into()]);
        }
    }
    assert!(
        paths.len() > 10 && paths.len() == methods.len(),
        "could not read the router's routes from its Debug output (axum changed?): {} paths, {} \
         method sets",
        paths.len(),
        methods.len()
    );
    let mut out = RouteSet::new();
    for (id, path) in paths {
        for m in &methods[&id] {
            out.insert((m.clone(), path.clone()));
        }
    }
    out
}

/// Paths registered in the source: `.route("…"` literals and utoipa `path = "…"`.
fn routes_from_source() -> BTreeSet<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for marker in [".route(", ".route_service(", "path = "] {
            for (i, _) in text.match_indices(marker) {
                let rest = text[i + marker.len()..].trim_start();
                if let Some(lit) = rest.strip_prefix('"') {
                    let lit = &lit[..lit.find('"').unwrap()];
                    if lit.starts_with('/') {
                        found.insert(lit.to_string());
                    }
                }
            }
        }
        assert!(
            !text.contains(".nest("),
            "{}: nested routers are not enumerated by this test; extend it",
            f.display()
        );
    }
    found
}

#[tokio::test]
async fn every_route_has_a_declared_policy() {
    let db = sqlite().await;
    let app = router(AppState::new(db.store.clone(), config()));
    let table = declared();
    assert_eq!(table.len(), route_policies().len(), "duplicate entries");

    let routed: RouteSet = routes_from_debug(&app)
        .into_iter()
        .filter(|(m, _)| m != "HEAD")
        .collect();
    let missing: Vec<_> = routed.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes without a declared policy (add them to src/routes.rs): {missing:?}"
    );
    let stale: Vec<_> = table.difference(&routed).collect();
    assert!(
        stale.is_empty(),
        "declared routes the router does not have: {stale:?}"
    );

    let table_paths: BTreeSet<String> = table.iter().map(|(_, p)| p.clone()).collect();
    let source = routes_from_source();
    assert!(source.contains("/console/login") && source.contains("/api/v1/regions"));
    let undeclared: Vec<_> = source.difference(&table_paths).collect();
    assert!(
        undeclared.is_empty(),
        "paths registered in src/ without a policy: {undeclared:?}"
    );
    assert_eq!(source, table_paths, "paths in src/ and the table differ");

    // Every documented operation is routed with a declared policy, and the documented catalog
    // reads are public.
    let doc = serde_json::to_value(yiwang_web::api::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let m = method.to_ascii_uppercase();
            let policy = route_policies()
                .iter()
                .find(|(rm, rp, _)| rm.as_str() == m && rp == path)
                .map(|r| r.2);
            assert!(policy.is_some(), "API {m} {path} has no declared policy");
            let read = m == "GET"
                && !path.starts_with("/api/v1/my/")
                && !path.starts_with("/api/v1/feed/");
            if read {
                assert_eq!(policy, Some(Policy::Public), "API {m} {path}");
            }
        }
    }

    // The list for the closing note.
    for (m, p, policy) in route_policies() {
        println!("{m:6} {p:45} {}", policy.describe());
    }
}

#[tokio::test]
async fn routes_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/routes.md");
    let want = markdown();
    if std::env::var("YIWANG_BLESS").is_ok() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/routes.md is stale; regenerate with YIWANG_BLESS=1 cargo test -p yiwang-web --test \
         security_routes"
    );
}

/// An undeclared route is not served, and an undeclared method gets 405, even if a handler
/// exists for it.
#[tokio::test]
async fn undeclared_routes_and_methods_are_not_served() {
    use axum::routing::{get, post};
    use tower::ServiceExt;
    let db = sqlite().await;
    let state = AppState::new(db.store.clone(), config());
    let app = axum::Router::new()
        .route("/undeclared", get(|| async { "secret" }))
        .route("/console/drift", post(|| async { "secret" }))
        .route("/search", get(|| async { "fine" }));
    let app = yiwang_web::security::harden(app, &state).with_state(state);
    let call = |method: &str, uri: &str| {
        axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let res = app
        .clone()
        .oneshot(call("GET", "/undeclared"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .clone()
        .oneshot(call("POST", "/console/drift"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET");
    let res = app.clone().oneshot(call("GET", "/search")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn restricted_routes_refuse_outsiders() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        create_outsiders(&db).await;
        let samples = Samples::of(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let nobody = session_for(&db, NOBODY).await;
        let market = session_for(&db, MARKET).await;
        let platform = session_for(&db, "platform").await;
        let before = counts(&db).await;

        let mut restricted = 0;
        for (method, pattern, policy) in route_policies() {
            let path = samples.fill(pattern);
            let send = |cookie: Option<String>| {
                let mut req = http
                    .client
                    .request(method.clone(), http.url(&path))
                    .header(ORIGIN, http.base.clone());
                if let Some(c) = cookie {
                    req = req.header(COOKIE, c);
                }
                if method == "POST" {
                    req = req.form(&[("name", "x"), ("code", samples.impl_code.as_str())]);
                }
                async move { req.send().await.unwrap() }
            };
            if *policy == Policy::Public {
                let res = send(None).await;
                let s = res.status();
                if method == "GET" {
                    // A public page; the second sign-in step sends a visitor without a pending
                    // sign-in back to the first.
                    let ok = s == StatusCode::OK
                        || (s == StatusCode::SEE_OTHER
                            && (pattern.starts_with("/console/login")
                                || *pattern == "/login/code"));
                    assert!(ok, "public {method} {path}: {s}");
                } else {
                    assert!(!s.is_server_error(), "{method} {path}: {s}");
                }
                continue;
            }
            restricted += 1;

            // Anonymous: to the sign-in page (console, applicant space) or 401; never served.
            let res = send(None).await;
            let s = res.status();
            if *policy == Policy::Applicant && pattern.starts_with("/api/") {
                // The API answers 401 in its JSON envelope, never with the sign-in page.
                assert_eq!(s, StatusCode::UNAUTHORIZED, "anonymous {method} {path}");
                let body: serde_json::Value = res.json().await.unwrap();
                assert_eq!(
                    body["error"]["code"], "not_authenticated",
                    "{method} {path}"
                );
                let res = send(Some(platform.clone())).await;
                assert_eq!(
                    res.status(),
                    StatusCode::UNAUTHORIZED,
                    "staff {method} {path}"
                );
                continue;
            } else if *policy == Policy::Applicant {
                assert_eq!(s, StatusCode::SEE_OTHER, "anonymous {method} {path}");
                assert!(
                    location(&res).starts_with("/login?next="),
                    "anonymous {method} {path}"
                );
                // A staff session is no applicant session.
                let res = send(Some(platform.clone())).await;
                assert_eq!(res.status(), StatusCode::SEE_OTHER, "staff {method} {path}");
                assert!(
                    location(&res).starts_with("/login?next="),
                    "staff {method} {path}"
                );
                continue;
            } else if pattern.starts_with("/console") {
                assert_eq!(s, StatusCode::SEE_OTHER, "anonymous {method} {path}");
                assert!(
                    location(&res).starts_with("/console/login?next="),
                    "anonymous {method} {path}: {}",
                    location(&res)
                );
            } else {
                assert_eq!(s, StatusCode::UNAUTHORIZED, "anonymous {method} {path}");
            }

            let action = match policy {
                Policy::Staff(a) => Some(format!("{a:?}")),
                _ => None,
            };
            match policy {
                // A console session is no API token.
                Policy::ApiToken => {
                    let res = send(Some(platform.clone())).await;
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "cookie {method} {path}"
                    );
                    continue;
                }
                // Any account may see its own page; its posts change only itself (and logging
                // out everywhere would end the session this test still uses).
                Policy::SignedIn => {
                    if method == "GET" {
                        // The handler may still want a console role (403), never a sign-in.
                        let res = send(Some(nobody.clone())).await;
                        assert!(
                            matches!(res.status(), StatusCode::OK | StatusCode::FORBIDDEN),
                            "signed in {method} {path}: {}",
                            res.status()
                        );
                        let res = send(Some(platform.clone())).await;
                        assert_eq!(res.status(), StatusCode::OK, "platform {method} {path}");
                    }
                    continue;
                }
                _ => {}
            }

            // Signed in without any grant: 403 (or 404).
            let res = send(Some(nobody.clone())).await;
            assert!(
                matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "no-grant {method} {path}: {}",
                res.status()
            );

            // Another department's catalog administrator, where the object is not theirs or the
            // action is not a catalog administrator's at all.
            let foreign = pattern.contains("{code}")
                || matches!(action.as_deref(), Some("ManageDepartments" | "ManageUsers"));
            if foreign {
                let res = send(Some(market.clone())).await;
                assert!(
                    matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "other department {method} {path}: {}",
                    res.status()
                );
            }

            // The platform administrator reaches every page (so the entry is really routed),
            // except case work: administrators configure, they do not decide cases.
            if method == "GET" {
                let res = send(Some(platform.clone())).await;
                let want = match action.as_deref() {
                    Some("HandleCases" | "IntakeCases") => StatusCode::FORBIDDEN,
                    _ => StatusCode::OK,
                };
                assert_eq!(res.status(), want, "platform {method} {path}");
            }
        }
        assert!(restricted >= 10, "only {restricted} restricted routes");
        assert_eq!(
            counts(&db).await,
            before,
            "a refused request wrote something"
        );
    }
}
