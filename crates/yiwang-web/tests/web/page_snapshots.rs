//! Snapshots of key pages and error bodies (insta), so a refactoring that changes what a page
//! or an API answer says fails here. Every backend renders the same snapshot; the fixed clock
//! and fresh databases make them repeatable. Update with `INSTA_UPDATE=always` (or
//! `cargo insta review`) after an intended change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::applicant::{ITEM, fill_item, register, text, upload_all};
use crate::support::auth::{APPROVAL_BUREAU, PASSWORD, location, serve};
use crate::support::{TestApp, spawn_app};
use reqwest::StatusCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::{Actor, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

/// The body of a GET with this status; the server's random port replaced so that snapshots do
/// not depend on it.
async fn page(app: &TestApp, path: &str, cookie: Option<&str>, status: StatusCode) -> String {
    let res = app.get(path, cookie).await;
    assert_eq!(res.status(), status, "{path}");
    text(res).await.replace(&app.base, "http://[server]")
}

#[tokio::test]
async fn public_pages() {
    for db in backends().await {
        with_demo(&db).await;
        let app = spawn_app(&db).await;
        let ok = StatusCode::OK;
        insta::assert_snapshot!("home", page(&app, "/", None, ok).await);
        let guide = format!("/items/{ITEM}");
        insta::assert_snapshot!("guide", page(&app, &guide, None, ok).await);
        let search = "/search?q=%E5%8D%AB%E7%94%9F%E8%AE%B8%E5%8F%AF";
        insta::assert_snapshot!("search", page(&app, search, None, ok).await);
        insta::assert_snapshot!("sign_in", page(&app, "/login", None, ok).await);
        let staff = page(&app, "/console/login", None, ok).await;
        insta::assert_snapshot!("staff_sign_in", staff);
    }
}

#[tokio::test]
async fn error_bodies() {
    for db in backends().await {
        with_demo(&db).await;
        let app = spawn_app(&db).await;
        let missing = StatusCode::NOT_FOUND;
        let html = page(&app, "/items/11120112MB1W167324999999999999", None, missing).await;
        insta::assert_snapshot!("not_found_html", html);
        let html = page(&app, "/no-such-page", None, missing).await;
        insta::assert_snapshot!("no_route_html", html);
        let json = page(&app, "/api/v1/implementations/NOSUCHCODE", None, missing).await;
        insta::assert_snapshot!("not_found_json", json);
        let path = "/api/v1/implementations/NOSUCHCODE?lang=en";
        insta::assert_snapshot!("not_found_json_en", page(&app, path, None, missing).await);
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        let path = "/api/v1/departments/11120112MB1W16732X";
        insta::assert_snapshot!("invalid_json", page(&app, path, None, invalid).await);
    }
}

#[tokio::test]
async fn applicant_draft_and_console_case() {
    for mut db in backends().await {
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", crate::support::applicant::ID_A).await;
        let res = site
            .post(&format!("/items/{ITEM}/apply"), Some(&alice), &[])
            .await;
        let draft = location(&res);
        let ok = StatusCode::OK;
        insta::assert_snapshot!(
            "applicant_draft",
            page(&site, &draft, Some(&alice), ok).await
        );

        fill_item(&site, &alice, &draft).await;
        upload_all(&site, &alice, &draft).await;
        let res = site
            .post(
                &format!("{draft}/submit"),
                Some(&alice),
                &[("_declaration", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let number = location(&res)
            .trim_end_matches("?new=1")
            .trim_start_matches("/me/cases/")
            .to_string();
        db.store
            .create_user(
                &NewUser {
                    username: "windowclerk".into(),
                    display_name: "windowclerk (test)".into(),
                    password: PASSWORD.into(),
                    grants: vec![Grant {
                        role: Role::Clerk,
                        region: Some(RegionCode::parse("120112").unwrap()),
                        department: Some(CreditCode::parse(APPROVAL_BUREAU).unwrap()),
                    }],
                },
                &Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let clerk = site.sign_in(&db, "windowclerk").await;
        let case = page(&site, &format!("/console/cases/{number}"), Some(&clerk), ok).await;
        insta::assert_snapshot!("console_case", case);
    }
}
