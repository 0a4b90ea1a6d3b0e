//! The console's application-form editor over real HTTP on every backend: the policy (sign-in,
//! the implementation's department), an invalid definition listed and not saved, check-only,
//! a saved version with its audit entry, and hostile text coming back escaped.

use crate::support::console::*;
use reqwest::StatusCode;
use reqwest::header::ORIGIN;
use yiwang_domain::ImplCode;
use yiwang_store::{AuditFilter, FormScope};
use yiwang_testkit::{backends, with_demo};

const FOOD_IMPL: &str = "11120112MB1W167324000123001001";
/// 特种设备使用登记, implemented by the market bureau (not the catalog admin's department).
const OTHER_DEPT_IMPL: &str = "11120112MB1L902463000123006001";
const FOOD: &str = include_str!("../../../yiwang-app/demo/forms/food_business_licence.json");

#[tokio::test]
async fn form_editor_on_every_backend() {
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        create_users(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let path = format!("/console/forms/{FOOD_IMPL}");
        let scope = FormScope::Implementation(ImplCode::parse(FOOD_IMPL).unwrap());

        // Anonymous: to the sign-in page, nothing revealed.
        let res = http.get(&path, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(location(&res).starts_with("/console/login?next="), "{b}");

        let catalog = http.login("catalog").await;
        let (status, html) = http.page(&path, &catalog).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert!(
            html.contains("food_business_licence"),
            "{b}: the current JSON"
        );
        // The preview: the township picker under 津南区, a group row, the condition note.
        assert!(html.contains(r#"name="address.region""#), "{b}");
        assert!(html.contains("咸水沽镇"), "{b}: region names in the picker");
        assert!(html.contains(r#"name="managers[0].name""#), "{b}");
        assert!(
            html.contains("只在「是否从事网络经营」选择「是」时填写"),
            "{b}"
        );
        assert!(html.contains("本实施清单的申请表（第 1 版）"), "{b}");

        // Another department's implementation, and a township administrator: 403.
        let (status, _) = http
            .page(&format!("/console/forms/{OTHER_DEPT_IMPL}"), &catalog)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}");
        let township = http.login("township").await;
        let (status, _) = http.page(&path, &township).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}");
        let res = http
            .post_form(
                &path,
                &township,
                &pairs(&[("definition", FOOD), ("op", "save")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");

        // Invalid: every problem listed under the text, nothing saved.
        let bad = FOOD
            .replace(r#""any_of": ["yes"]"#, r#""any_of": ["perhaps"]"#)
            .replace(
                r#""key": "phone", "label""#,
                r#""key": "business_name", "label""#,
            );
        let res = http
            .post_form(
                &path,
                &catalog,
                &pairs(&[("definition", &bad), ("op", "save")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = res.text().await.unwrap();
        assert!(html.contains("定义有 2 处错误，未保存"), "{b}: {html}");
        assert!(
            html.contains("「website」的显示条件取值 perhaps 不是 online 的选项"),
            "{b}"
        );
        assert!(html.contains("标识「business_name」重复"), "{b}");
        assert!(html.contains("perhaps"), "{b}: the text comes back to fix");
        let res = http
            .post_form(
                &path,
                &catalog,
                &pairs(&[("definition", "{not json"), ("op", "save")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert_eq!(
            db.store.form_versions(&scope).await.unwrap().len(),
            1,
            "{b}"
        );

        // Check only: a preview of the posted text, still nothing saved. Hostile text is escaped.
        let hostile = FOOD.replace(
            "经营者名称",
            "<script>alert(1)</script>\\\"><img src=x onerror=alert(2)>",
        );
        let res = http
            .post_form(
                &path,
                &catalog,
                &pairs(&[("definition", &hostile), ("op", "check")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        let html = res.text().await.unwrap();
        assert!(html.contains("定义检查通过"), "{b}");
        assert!(!html.contains("<script>alert"), "{b}: script not escaped");
        assert!(!html.contains("<img src=x"), "{b}: markup not escaped");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{b}"
        );
        assert_eq!(
            db.store.form_versions(&scope).await.unwrap().len(),
            1,
            "{b}"
        );

        // Save: a new version, attributed in the audit log; saving it again changes nothing.
        let changed = FOOD.replace("食品经营许可申请书", "食品经营许可申请书（2026 版）");
        let res = http
            .post_form(
                &path,
                &catalog,
                &pairs(&[("definition", &changed), ("op", "save")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), format!("{path}?saved=2"), "{b}");
        let (_, html) = http.page(&location(&res), &catalog).await;
        assert!(html.contains("已保存为第 2 版"), "{b}");
        assert!(html.contains("食品经营许可申请书（2026 版）"), "{b}");
        let res = http
            .post_form(
                &path,
                &catalog,
                &pairs(&[("definition", &changed), ("op", "save")]),
            )
            .await;
        assert_eq!(location(&res), format!("{path}?unchanged=2"), "{b}");
        let versions = db.store.form_versions(&scope).await.unwrap();
        assert_eq!(versions.len(), 2, "{b}");
        assert_eq!(versions[0].created_by, "catalog", "{b}");
        let audits = db
            .store
            .audit_entries(&AuditFilter {
                object_prefix: Some(format!("form:implementation:{FOOD_IMPL}")),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            audits
                .iter()
                .any(|a| a.event.actor == "catalog" && a.event.detail == "food_business_licence@2"),
            "{b}"
        );

        // A cross-site post is refused before anything is read.
        let res = http
            .client
            .post(http.url(&path))
            .header(reqwest::header::COOKIE, catalog.clone())
            .header(ORIGIN, "https://evil.example")
            .form(&pairs(&[("definition", FOOD), ("op", "save")]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");

        // The implementation's edit page links here.
        let (_, html) = http
            .page(
                &format!("/console/implementations/{FOOD_IMPL}/edit"),
                &catalog,
            )
            .await;
        assert!(html.contains(&format!("href=\"{path}\"")), "{b}");
    }
}
