//! 一件事 over real HTTP on every backend: a bundle started from a life event's result page,
//! each part's missing answers and materials shown with links to fix them, and "submit all"
//! (一次提交): refused with what is missing (nothing submitted) until every part is complete,
//! then one case per part and the combined status; a retried submission creates nothing new;
//! parts submitted on their own are left as they are; another applicant gets 404.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::applicant::{
    FOOD, FOOD_MATERIALS, ID_A, ID_B, ITEM, MATERIALS, fill_food, fill_item, register, text,
    upload_all, upload_each,
};
use crate::support::auth::{Site, location, serve};
use reqwest::StatusCode;
use yiwang_testkit::{TestDb, backends};

const APPLY: &str = "/life-events/open-restaurant/apply";

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    n
}

/// The bundle page's path and its parts' application pages, in order.
async fn start(site: &Site, db: &TestDb, cookie: &str, items: &[&str]) -> (String, Vec<String>) {
    let form: Vec<(&str, &str)> = items.iter().map(|c| ("impl", *c)).collect();
    let res = site.post(APPLY, Some(cookie), &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = location(&res);
    let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM applications WHERE bundle_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let parts = rows
        .iter()
        .map(|(a,)| format!("/me/applications/{a}"))
        .collect();
    (page, parts)
}

#[tokio::test]
async fn a_life_event_bundle_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", ID_A).await;
        let bob = register(&site, "李四", ID_B).await;
        // An unknown implementation: refused, nothing created.
        let res = site
            .post(APPLY, Some(&alice), &[("impl", FOOD), ("impl", "NOPE")])
            .await;
        assert!(res.status().is_client_error(), "{b}: {}", res.status());
        assert_eq!(count(&db, "SELECT COUNT(*) FROM bundles").await, 0, "{b}");

        let (page, parts) = start(&site, &db, &alice, &[FOOD, ITEM]).await;
        assert!(page.starts_with("/me/bundles/"), "{b}: {page}");
        let (food, item) = (&parts[0], &parts[1]);
        let submit = format!("{page}/submit");
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert!(
            html.contains("开办餐饮店") && html.contains("还有事项未提交"),
            "{b}"
        );
        // Each part says what it lacks, with a link to fix each.
        for p in &parts {
            assert!(html.contains(&format!("href=\"{p}\"")), "{b}: {p}");
            assert!(html.contains(&format!("href=\"{p}#h-materials\"")), "{b}");
        }
        assert_eq!(html.matches("申请表还没有填完整").count(), 2, "{b}");
        assert!(html.contains("还缺少必需材料") && html.contains(FOOD_MATERIALS[4]));
        assert!(
            !html.contains(&format!("action=\"{submit}\"")),
            "{b}: {html}"
        );
        assert!(
            text(site.get("/me", Some(&alice)).await)
                .await
                .contains(&page),
            "{b}"
        );
        // Another applicant: not found, for the page and the submission.
        assert_eq!(
            site.get(&page, Some(&bob)).await.status(),
            StatusCode::NOT_FOUND,
            "{b}"
        );
        let res = site
            .post(&submit, Some(&bob), &[("_declaration", "1")])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}");

        // One part complete, the other's form done but a material missing: refused, the page
        // says what is missing, nothing submitted.
        fill_item(&site, &alice, item).await;
        upload_all(&site, &alice, item).await;
        fill_food(&site, &alice, food).await;
        upload_each(&site, &alice, food, &FOOD_MATERIALS[..4]).await;
        let res = site
            .post(&submit, Some(&alice), &[("_declaration", "1")])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
        assert!(html.contains("这次没有提交任何事项"), "{b}: {html}");
        assert!(html.contains(FOOD_MATERIALS[4]), "{b}");
        assert!(
            html.contains(&format!("href=\"{food}#h-materials\"")),
            "{b}"
        );
        assert!(!html.contains("申请表还没有填完整"), "{b}");
        assert!(html.contains("已准备好，可以提交"), "{b}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 0, "{b}");

        // Everything complete: the form is offered; the declaration is still required.
        upload_each(&site, &alice, food, &FOOD_MATERIALS[4..]).await;
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert!(html.contains(&format!("action=\"{submit}\"")), "{b}");
        assert!(html.contains("name=\"_declaration\""), "{b}");
        // The same page in English: the catalog's words, no Chinese punctuation of ours.
        let en = text(site.get(&format!("{page}?lang=en"), Some(&alice)).await).await;
        assert!(en.contains("Submit all services at once"), "{b}");
        assert!(en.contains("Ready to submit") && !en.contains("："), "{b}");
        let res = site.post(&submit, Some(&alice), &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("请先阅读并勾选承诺声明"), "{b}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 0, "{b}");

        // One submission: one case per part, in its department; the combined status.
        let res = site
            .post(&submit, Some(&alice), &[("_declaration", "1")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), page, "{b}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 2, "{b}");
        let depts = count(&db, "SELECT COUNT(DISTINCT impl_code) FROM cases").await;
        assert_eq!(depts, 2, "{b}");
        let html = text(site.get(&page, Some(&alice)).await).await;
        for code in [FOOD, ITEM] {
            assert!(
                html.contains(&format!("href=\"/me/cases/{code}-")),
                "{b}: {html}"
            );
        }
        assert!(html.contains("全部已提交，正在办理"), "{b}");
        assert!(html.contains("这些事项是一次提交的"), "{b}");
        assert!(!html.contains(&format!("action=\"{submit}\"")), "{b}");
        let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'bundle.submit'";
        assert_eq!(count(&db, audited).await, 1, "{b}");
        // A retried submission lands on the same cases and records nothing twice.
        let res = site
            .post(&submit, Some(&alice), &[("_declaration", "1")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 2, "{b}");
        assert_eq!(count(&db, audited).await, 1, "{b}");
        let res = site
            .post(&submit, Some(&bob), &[("_declaration", "1")])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}");

        // A part submitted on its own is left as it is; "submit all" submits the rest.
        let (page2, parts2) = start(&site, &db, &alice, &[ITEM, ITEM]).await;
        fill_item(&site, &alice, &parts2[0]).await;
        upload_all(&site, &alice, &parts2[0]).await;
        let res = site
            .post(
                &format!("{}/submit", parts2[0]),
                Some(&alice),
                &[("_declaration", "1")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let own = location(&res);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 3, "{b}");
        fill_item(&site, &alice, &parts2[1]).await;
        upload_each(&site, &alice, &parts2[1], &MATERIALS).await;
        let res = site
            .post(
                &format!("{page2}/submit"),
                Some(&alice),
                &[("_declaration", "1")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 4, "{b}");
        let html = text(site.get(&page2, Some(&alice)).await).await;
        assert!(html.contains(&format!("href=\"{own}\"")), "{b}");
        assert_eq!(html.matches("href=\"/me/cases/").count(), 2, "{b}");
        assert_eq!(count(&db, audited).await, 2, "{b}");
    }
}

/// `POST /api/v1/bundles/{id}/submit` with a JSON body; the status and the answer.
async fn submit_json(
    site: &Site,
    cookie: &str,
    path: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let res = site
        .client
        .post(site.url(path))
        .header(reqwest::header::ORIGIN, site.base.clone())
        .header(reqwest::header::COOKIE, cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = res.status();
    (s, res.json().await.unwrap())
}

#[tokio::test]
async fn submit_all_over_json_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", ID_A).await;
        let bob = register(&site, "李四", ID_B).await;
        let (page, parts) = start(&site, &db, &alice, &[ITEM, ITEM]).await;
        let api = format!("/api/v1{}/submit", page.trim_start_matches("/me"));
        let yes = serde_json::json!({"declaration": true});
        let (s, _) = submit_json(&site, &bob, &api, yes.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        let (s, v) = submit_json(&site, &alice, &api, serde_json::json!({"x": 1})).await;
        assert!(s.is_client_error(), "{b}: {v}");
        let (s, v) = submit_json(
            &site,
            &alice,
            &api,
            serde_json::json!({"declaration": false}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        // The first part complete, the second not: what is missing, per application. The
        // files uploaded for the first part serve the second (the same materials, 一次上传):
        // only its answers are missing.
        fill_item(&site, &alice, &parts[0]).await;
        upload_all(&site, &alice, &parts[0]).await;
        let (s, v) = submit_json(&site, &alice, &api, yes.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert_eq!(v["error"]["code"], "required", "{b}: {v}");
        let second = parts[1].rsplit('/').next().unwrap();
        let fields: Vec<&str> = v["error"]["issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["field"].as_str())
            .collect();
        assert!(
            fields.contains(&format!("application:{second}:answers").as_str()),
            "{b}: {v}"
        );
        assert_eq!(fields.len(), 1, "{b}: {v}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 0, "{b}");
        // Complete: one case per part; again: the same cases.
        fill_item(&site, &alice, &parts[1]).await;
        let (s, v) = submit_json(&site, &alice, &api, yes.clone()).await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["status"], "in_progress", "{b}: {v}");
        assert!(v["submitted_at"].is_i64(), "{b}: {v}");
        let numbers: Vec<String> = v["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["case_number"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(numbers.len(), 2, "{b}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 2, "{b}");
        // Each case holds its own record of the shared files (the same stored file).
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM uploads WHERE application_id = $1")
            .bind(second.parse::<i64>().unwrap())
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        assert_eq!(n, i64::try_from(MATERIALS.len()).unwrap(), "{b}");
        let (s, again) = submit_json(&site, &alice, &api, yes).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(again["parts"], v["parts"], "{b}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 2, "{b}");
    }
}
