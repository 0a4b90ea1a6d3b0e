//! The staff console over real HTTP on every backend: sign-in and sessions, cross-site posts,
//! import (clean, bad, out of scope, unsupported, too large), publishing and history.

use crate::support::console::*;
use reqwest::StatusCode;
use reqwest::header::{ORIGIN, SET_COOKIE};
use yiwang_domain::catalog::{CatalogEntry, MaterialRequirement};
use yiwang_domain::{CreditCode, ImplCode};
use yiwang_testkit::{backends, with_demo};

#[tokio::test]
async fn sign_in_sessions_and_cross_site_posts() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let http = Http::new(&serve(&db, config()).await);

        // Anonymous: the console sends to the sign-in page and comes back afterwards.
        let res = http.get("/console", None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console/login?next=/console");
        let res = http.get("/console/drift?lang=en", None).await;
        assert_eq!(
            location(&res),
            "/console/login?next=/console/drift%3Flang%3Den&lang=en"
        );
        let login = http.get("/console/login?next=/console/drift", None).await;
        assert_eq!(login.status(), StatusCode::OK);
        let html = login.text().await.unwrap();
        assert!(html.contains(r#"for="username""#) && html.contains(r#"for="password""#));
        assert!(
            html.contains(r#"value="/console/drift""#),
            "next kept in the form"
        );

        // A wrong password: 401, the message, the username kept, no session.
        let res = http
            .post_login("platform", "Wrong-Password-1", "/console")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(session_cookie(&res).is_none());
        let html = res.text().await.unwrap();
        assert!(html.contains("用户名或密码不正确"), "{html}");
        assert!(html.contains(r#"value="platform""#));
        let res = http.post_login("nobody", PASSWORD, "/console").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // A correct password: on to the one-time code with a pending sign-in (HttpOnly
        // SameSite=Strict cookie), `next` carried along; only same-site paths.
        let res = http
            .post_login("platform", PASSWORD, "/console/drift")
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/console/login/totp?next=/console/drift");
        assert!(session_cookie(&res).is_none(), "no session before the code");
        let set = res
            .headers()
            .get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        for evil in [
            "//evil.example/x",
            "https://evil.example/",
            "/\\evil.example",
        ] {
            let res = http.post_login("platform", PASSWORD, evil).await;
            assert_eq!(
                location(&res),
                "/console/login/totp?next=/console",
                "next={evil}"
            );
        }
        let cookie = http.login("platform").await;
        let (status, html) = http.page("/console", &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Platform Pat"), "dashboard shows the name");
        assert!(html.contains("平台管理员"), "dashboard shows the role");
        let (_, html) = http.page("/console?lang=en", &cookie).await;
        assert!(html.contains("Platform Pat") && html.contains("Drafts waiting"));

        // The township admin may not use the catalog pages of the catalog admin's role, and
        // the catalog admin may not manage departments: 403, not a redirect.
        let catalog = http.login("catalog").await;
        let (status, _) = http.page("/console/departments", &catalog).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, html) = http.page("/console", &catalog).await;
        assert!(
            html.contains("天津市津南区行政审批局"),
            "scope names the department"
        );
        assert!(!html.contains(r#"href="/console/departments">部门管理</a> <span"#));

        // Cross-site posts are refused before anything happens, even with a valid session.
        let drafts_before = db.store.drafts_all().await.unwrap().len();
        for path in [
            "/console/publish",
            "/console/logout",
            "/console/departments",
            "/console/login",
        ] {
            let res = http
                .client
                .post(http.url(path))
                .header(reqwest::header::COOKIE, &cookie)
                .header(ORIGIN, "http://evil.example")
                .form(&[("username", "platform"), ("password", PASSWORD)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(db.store.drafts_all().await.unwrap().len(), drafts_before);
        let (status, _) = http.page("/console", &cookie).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the cross-site logout did not end the session"
        );

        // Sign out: the old cookie no longer works.
        let res = http.post_form("/console/logout", &cookie, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/");
        let cleared = res.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        let res = http.get("/console", Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).starts_with("/console/login"));
    }
}

fn entries_of(
    published: &[yiwang_store::PublishedImplementation],
    dept: &str,
) -> Vec<CatalogEntry> {
    published
        .iter()
        .filter(|p| p.implementation.department_code.as_str() == dept)
        .map(|p| p.entry())
        .collect()
}

#[tokio::test]
async fn import_publish_and_history() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let platform = http.login("platform").await;
        let catalog = http.login("catalog").await;
        let published = db.store.published_all().await.unwrap();
        let own = entries_of(&published, APPROVAL_BUREAU);
        let other = entries_of(&published, MARKET_BUREAU);
        assert!(
            own.len() >= 2 && other.len() >= 2,
            "demo has both departments"
        );

        // A bad file: every problem is listed and nothing is written.
        let mut bad: Vec<CatalogEntry> = own.iter().take(2).cloned().collect();
        bad.extend(other.iter().take(2).cloned());
        bad[0].implementation.materials.push(MaterialRequirement {
            name: "其他材料".into(),
            issuer: "申请人自备".into(),
            originals: 1,
            copies: 0,
            mandatory: true,
            licence_type: String::new(),
            instructions: String::new(),
            extras: Vec::new(),
        });
        let st = bad[1].implementation.statutory_limit;
        bad[1].implementation.promised_limit = yiwang_domain::catalog::TimeLimit {
            amount: st.amount + 10,
            unit: st.unit,
        };
        bad[1].implementation.charged = true;
        bad[1].implementation.fee_basis = String::new();
        bad[2].implementation.department_code =
            CreditCode::with_check_char("11120112MB9999999").unwrap();
        let (items, materials) = yiwang_interchange::write_csv(&bad);
        // The fourth row's department code gets a wrong check character (3 is right).
        let wrong = format!(",{}0,", &MARKET_BUREAU[..17]);
        let items =
            String::from_utf8(items)
                .unwrap()
                .replacen(&format!(",{MARKET_BUREAU},"), &wrong, 1);
        assert!(items.contains(&wrong), "bad code placed");
        let drafts_before = db.store.drafts_all().await.unwrap().len();
        let res = http
            .post_multipart(
                "/console/import",
                &platform,
                csv_upload(items.into_bytes(), materials),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        for needle in [
            "材料名称不具体",
            "承诺办结时限不得超过法定办结时限",
            "收费事项必须填写收费依据",
            "实施主体（部门）不存在",
            "校验位不正确",
        ] {
            assert!(html.contains(needle), "missing issue {needle}");
        }
        assert!(issue_rows(&html) >= 5, "one table row per issue");
        assert_eq!(
            db.store.drafts_all().await.unwrap().len(),
            drafts_before,
            "nothing written"
        );

        // The department-scoped admin: a row of another department is a forbidden issue.
        let mut mixed: Vec<CatalogEntry> = own.iter().take(1).cloned().collect();
        mixed.push(other[0].clone());
        let (items, materials) = yiwang_interchange::write_csv(&mixed);
        let res = http
            .post_multipart("/console/import", &catalog, csv_upload(items, materials))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("您没有权限进行此操作") && html.contains(MARKET_BUREAU),
            "forbidden row"
        );
        assert_eq!(issue_rows(&html), 1);
        assert_eq!(db.store.drafts_all().await.unwrap().len(), drafts_before);

        // A clean file of the admin's own department: drafts written, a link to publish.
        let mut clean: Vec<CatalogEntry> = own.iter().take(2).cloned().collect();
        for e in &mut clean {
            e.implementation.hall_address = "津南区政务服务中心二楼B区".into();
        }
        let (items, materials) = yiwang_interchange::write_csv(&clean);
        // Sent in the other order and named by content: the materials file is recognised.
        let form = reqwest::multipart::Form::new()
            .part(
                "upload1",
                reqwest::multipart::Part::bytes(materials).file_name("m.csv"),
            )
            .part(
                "upload2",
                reqwest::multipart::Part::bytes(items).file_name("i.csv"),
            );
        let res = http.post_multipart("/console/import", &catalog, form).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("已保存 2 条草稿"), "{html}");
        assert!(html.contains(r#"href="/console/drafts""#));
        assert_eq!(db.store.drafts_all().await.unwrap().len(), 2);

        // Unsupported type and one CSV alone.
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("notes.txt"),
        );
        let res = http.post_multipart("/console/import", &catalog, form).await;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(res.text().await.unwrap().contains("不支持的文件格式"));
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"a,b\n".to_vec()).file_name("items.csv"),
        );
        let res = http.post_multipart("/console/import", &catalog, form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // The drafts page lists them; publishing one makes version 2 public.
        let code = clean[0].implementation.code.to_string();
        let (status, html) = http.page("/console/drafts", &catalog).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(&code) && html.contains(clean[1].implementation.code.as_str()));
        let res = http
            .post_form("/console/publish", &catalog, &pairs(&[("code", &code)]))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("已发布 1 项"), "{html}");
        let imp_code = ImplCode::parse(&code).unwrap();
        let now = db
            .store
            .published_implementation(&imp_code)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.version, 2);
        assert_eq!(now.implementation.hall_address, "津南区政务服务中心二楼B区");
        assert_eq!(
            db.store.drafts_all().await.unwrap().len(),
            1,
            "only the chosen code"
        );

        let (status, html) = http
            .page(
                &format!("/console/implementations/{code}/history"),
                &catalog,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            html.matches(r#"<tr class="version">"#).count(),
            2,
            "two versions"
        );
        assert!(html.contains(&format!("/items/{code}/versions/1")));
        assert!(html.contains(&format!("/items/{code}/versions/2")));
        assert!(html.contains("Catalog Chen"), "who published");

        // History of another department's item is not for this admin.
        let other_code = other[0].implementation.code.as_str();
        let (status, _) = http
            .page(
                &format!("/console/implementations/{other_code}/history"),
                &catalog,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Publish all that is left; then nothing is left to publish.
        let res = http.post_form("/console/publish", &platform, &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(db.store.drafts_all().await.unwrap().is_empty());
        let res = http.post_form("/console/publish", &platform, &[]).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn too_large_upload_is_refused_with_a_message() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let mut cfg = config();
        cfg.max_upload_bytes = 16 * 1024;
        let http = Http::new(&serve(&db, cfg).await);
        let cookie = http.login("platform").await;
        let big = vec![b'x'; 12 * 1024];
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(big.clone()).file_name("a.json"),
            )
            .part(
                "materials",
                reqwest::multipart::Part::bytes(big).file_name("b.json"),
            );
        let res = http.post_multipart("/console/import", &cookie, form).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(res.text().await.unwrap().contains("文件过大"));
        assert!(db.store.drafts_all().await.unwrap().is_empty());
    }
}
