//! 我的办事 over real HTTP on every backend, as a citizen and a hotline caller use it: the list
//! names each case's service and short number (the full one on the case page) and drafts by
//! service name; a draft is deleted with its files; a case is withdrawn (撤回) before
//! acceptance, on the timeline and in the audit log, but not after; the progress lookup
//! without signing in answers the case number with the right query code only, shows no
//! personal data, and stops a guesser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::applicant::{ID_A, ID_B, ITEM, fill_item, register, text, upload_all};
use crate::support::auth::{APPROVAL_BUREAU, PASSWORD, Site, location, serve};
use reqwest::StatusCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::{Actor, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends};

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    n
}

/// A submitted case of ITEM: its page.
async fn submitted(site: &Site, cookie: &str) -> String {
    let res = site
        .post(&format!("/items/{ITEM}/apply"), Some(cookie), &[])
        .await;
    let draft = location(&res);
    fill_item(site, cookie, &draft).await;
    upload_all(site, cookie, &draft).await;
    let res = site
        .post(
            &format!("{draft}/submit"),
            Some(cookie),
            &[("_declaration", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(&res)
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    html.split(start)
        .nth(1)
        .and_then(|s| s.split(end).next())
        .unwrap_or_default()
}

#[tokio::test]
async fn my_cases_withdrawal_drafts_and_progress_lookup_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        db.store
            .create_user(
                &NewUser {
                    username: "windowclerk".into(),
                    display_name: "窗口".into(),
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
        let alice = register(&site, "张三", ID_A).await;
        let bob = register(&site, "李四", ID_B).await;

        // Two cases; 我的办事 lists them by service with the short number, never the long one
        // as a line of its own.
        let first = submitted(&site, &alice).await;
        let second = submitted(&site, &alice).await;
        let number = first.rsplit('/').next().unwrap().to_string();
        let short = yiwang_domain::mine::short_number(
            &yiwang_domain::case::CaseNumber::parse(&number).unwrap(),
        );
        let home = text(site.get("/me", Some(&alice)).await).await;
        assert!(home.contains(&short), "{b}: {home}");
        assert!(home.contains("公共场所卫生许可"), "{b}");
        assert!(home.contains("办理对象") && home.contains("本人"), "{b}");
        assert!(!home.contains(&format!(">{number}<")), "{b}");
        let page = text(site.get(&first, Some(&alice)).await).await;
        assert!(
            page.contains(&number),
            "{b}: the full number on the case page"
        );

        // A draft is listed by its service's name and deleted with its files.
        let res = site
            .post(&format!("/items/{ITEM}/apply"), Some(&alice), &[])
            .await;
        let draft = location(&res);
        upload_all(&site, &alice, &draft).await;
        let home = text(site.get("/me", Some(&alice)).await).await;
        assert!(
            !home.contains(&format!(">{ITEM}<")),
            "{b}: no 实施编码 as a name"
        );
        let delete = format!("{draft}/delete");
        assert!(home.contains(&format!("action=\"{delete}\"")), "{b}");
        let res = site.post(&delete, Some(&bob), &[]).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "{b}: not another's draft"
        );
        let uploads = count(&db, "SELECT COUNT(*) FROM uploads").await;
        let res = site.post(&delete, Some(&alice), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(
            site.get(&draft, Some(&alice)).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM uploads").await,
            uploads - 6,
            "{b}"
        );
        // A submitted application is no draft to delete.
        let app_of_case: (i64,) =
            sqlx::query_as("SELECT application_id FROM cases WHERE case_number = $1")
                .bind(number.as_str())
                .fetch_one(db.store.pool())
                .await
                .unwrap();
        let res = site
            .post(
                &format!("/me/applications/{}/delete", app_of_case.0),
                Some(&alice),
                &[],
            )
            .await;
        assert!(res.status().is_client_error(), "{b}: {}", res.status());
        assert_eq!(count(&db, "SELECT COUNT(*) FROM cases").await, 2, "{b}");

        // The query code on the case page opens the progress lookup for anyone, with no
        // personal data; a wrong code and an unknown number get the same answer.
        let code = between(&page, "<span class=\"nowrap\">", "</span>").to_string();
        assert_eq!(code.len(), 8, "{b}: {page}");
        let anon = site.get("/progress", None).await;
        assert_eq!(anon.status(), StatusCode::OK, "{b}");
        let res = site
            .post("/progress", None, &[("number", &number), ("code", &code)])
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        let html = text(res).await;
        assert!(html.contains("公共场所卫生许可"), "{b}: {html}");
        assert!(html.contains("已提交，等待受理"), "{b}");
        assert!(
            !html.contains("张三") && !html.contains("13700137000"),
            "{b}"
        );
        let wrong = if code == "00000000" {
            "11111111"
        } else {
            "00000000"
        };
        let res = site
            .post("/progress", None, &[("number", &number), ("code", wrong)])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
        assert!(html.contains("办件编号或查询码不对") && !html.contains("已提交，等待受理"));
        let res = site
            .post(
                "/progress",
                None,
                &[("number", "不是编号"), ("code", &code)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("办件编号格式不对"), "{b}");
        // A guesser is stopped: ten tries per case number in the window, then even the right
        // code waits.
        for _ in 0..10 {
            site.post("/progress", None, &[("number", &number), ("code", wrong)])
                .await;
        }
        let res = site
            .post("/progress", None, &[("number", &number), ("code", &code)])
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{b}");

        // 撤回 before acceptance: another applicant cannot; the owner can, once; the timeline
        // and the audit log say so.
        let version = between(&page, "name=\"version\" value=\"", "\"").to_string();
        assert!(
            page.contains(&format!("action=\"{first}/withdraw\"")),
            "{b}"
        );
        let withdraw = format!("{first}/withdraw");
        let res = site
            .post(&withdraw, Some(&bob), &[("version", &version)])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}");
        let res = site
            .post(&withdraw, Some(&alice), &[("version", &version)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let page = text(site.get(&first, Some(&alice)).await).await;
        assert!(
            page.contains("已撤回") && page.contains("申请人撤回申请"),
            "{b}"
        );
        assert!(!page.contains(&format!("action=\"{withdraw}\"")), "{b}");
        let audited = count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE '%withdraw%'",
        )
        .await;
        assert!(audited >= 1, "{b}");
        let res = site.post(&withdraw, Some(&alice), &[]).await;
        assert!(res.status().is_client_error(), "{b}: {}", res.status());

        // After acceptance, no withdrawal.
        let clerk = site.sign_in(&db, "windowclerk").await;
        let n2 = second.rsplit('/').next().unwrap();
        let staff = text(
            site.get(&format!("/console/cases/{n2}"), Some(&clerk))
                .await,
        )
        .await;
        let v2 = between(&staff, "name=\"version\" value=\"", "\"").to_string();
        let res = site
            .post(
                &format!("/console/cases/{n2}/act"),
                Some(&clerk),
                &[("action", "accept"), ("version", &v2)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let page = text(site.get(&second, Some(&alice)).await).await;
        assert!(!page.contains("/withdraw\""), "{b}");
        let res = site
            .post(&format!("{second}/withdraw"), Some(&alice), &[])
            .await;
        assert!(res.status().is_client_error(), "{b}: {}", res.status());

        // Messages are grouped per case and name the service, with a link to the case.
        let html = text(site.get("/me/messages", Some(&alice)).await).await;
        assert!(html.contains("公共场所卫生许可"), "{b}: {html}");
        assert!(html.contains(&format!("href=\"{second}\"")), "{b}");
        // With the query code a caller can be told over the phone.
        assert!(html.contains(&code), "{b}: the query code in the messages");
        assert_eq!(
            html.matches("<section class=\"msg-case\"").count(),
            2,
            "{b}: {html}"
        );
    }
}
