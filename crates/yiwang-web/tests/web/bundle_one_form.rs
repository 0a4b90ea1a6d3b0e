//! 一表申请 over real HTTP on every backend, as a citizen opening a noodle shop does it: the
//! 开办餐饮店 bundle (个体工商户设立登记, then 食品经营许可) as one form — the phone and the
//! business address asked once and saved into both drafts, each item's own questions under its
//! name, the 营业执照 and the credit code not asked of the food licence because part 1 issues
//! them — then one "submit all": two cases, the
//! food licence's case recording that part 1 provides the 营业执照.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::applicant::{FOOD, ID_A, ID_B, PDF, register, text};
use crate::support::auth::{TOWNSHIP, location, serve};
use reqwest::StatusCode;
use yiwang_testkit::backends;

/// 个体工商户设立登记 of 津南区 (the demo's standard-item form).
const REGISTRATION: &str = "11120112MB1W167324000123003001";

/// The number of the one form's file slot for material `name` (`<li id="m-N" …><h3>name`).
fn slot_of(html: &str, name: &str) -> usize {
    let at = html
        .find(&format!("<h3>{name}"))
        .unwrap_or_else(|| panic!("no slot for {name}"));
    let li = html[..at].rfind("<li id=\"m-").unwrap();
    html[li + 10..].split('"').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn one_form_for_a_bundle_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let alice = register(&site, "赵明", ID_A).await;
        let bob = register(&site, "李四", ID_B).await;
        let res = site
            .post(
                "/life-events/open-restaurant/apply",
                Some(&alice),
                &[("impl", REGISTRATION), ("impl", FOOD)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let page = location(&res);
        let form = format!("{page}/form");
        let parts: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM applications WHERE bundle_id = $1 ORDER BY id")
                .bind(page.rsplit('/').next().unwrap().parse::<i64>().unwrap())
                .fetch_all(db.store.pool())
                .await
                .unwrap();
        let (reg, food) = (
            format!("/me/applications/{}", parts[0].0),
            format!("/me/applications/{}", parts[1].0),
        );

        // The bundle page offers the one form; another applicant gets 404.
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert!(html.contains(&format!("href=\"{form}\"")), "{b}: {html}");
        assert_eq!(
            site.get(&form, Some(&bob)).await.status(),
            StatusCode::NOT_FOUND,
            "{b}"
        );

        // One form: the shared questions once, each item's own under its name; no credit code
        // (part 1's 营业执照 carries it) and no 营业执照 slot to upload.
        let html = text(site.get(&form, Some(&alice)).await).await;
        assert_eq!(html.matches("name=\"phone\"").count(), 1, "{b}: {html}");
        assert_eq!(html.matches("name=\"address.detail\"").count(), 1, "{b}");
        assert!(html.contains("name=\"p1_operator_name\""), "{b}");
        assert!(html.contains("name=\"p2_business_name\""), "{b}");
        assert!(!html.contains("credit_code"), "{b}");
        assert!(html.contains("个体工商户设立登记") && html.contains("食品经营许可"));
        assert!(
            html.contains("由本次一件事第1项办理结果提供"),
            "{b}: {html}"
        );

        // A name the form does not have: refused, nothing saved.
        let res = site
            .post(
                &form,
                Some(&alice),
                &[("p9_forged", "x"), ("_action", "save")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");

        // Everything typed once, saved into both drafts (post/redirect/get).
        let answers: Vec<(&str, &str)> = vec![
            ("phone", "13900000000"),
            ("address.region", TOWNSHIP),
            ("address.detail", "咸水沽镇津沽公路 88 号"),
            ("p1_operator_name", "赵明"),
            ("p1_operator_id", ID_A),
            ("p1_trade_name", "小李面馆"),
            ("p1_form", "personal"),
            ("p1_scope", "餐饮服务"),
            ("p1_employees", "3"),
            ("p2_business_name", "津南区小李面馆"),
            ("p2_legal_rep", "赵明"),
            ("p2_legal_rep_id", ID_A),
            ("p2_business_types", "hot_food"),
            ("p2_area", "45"),
            ("p2_online", "no"),
            ("p2_managers[0].name", "钱芳"),
            ("p2_managers[0].id_number", ID_A),
            ("p2_managers[0].phone", "13700137000"),
        ];
        let mut save = answers.clone();
        save.push(("_action", "save"));
        let res = site.post(&form, Some(&alice), &save).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{b}: {}",
            text(res).await
        );
        assert_eq!(location(&res), format!("{form}?saved=1"), "{b}");
        let html = text(site.get(&format!("{form}?saved=1"), Some(&alice)).await).await;
        assert!(html.contains("津南区小李面馆") && html.contains("咸水沽镇津沽公路 88 号"));
        for (draft, own) in [(&reg, "小李面馆"), (&food, "津南区小李面馆")] {
            let html = text(site.get(draft, Some(&alice)).await).await;
            assert!(html.contains("13900000000"), "{b}: {draft}");
            assert!(html.contains("咸水沽镇津沽公路 88 号"), "{b}: {draft}");
            assert!(html.contains(own), "{b}: {draft}");
        }

        // Each document once, in the one form together with the answers: one post holds a
        // changed answer and five files; a program renamed .pdf is its own slot's error, and
        // neither the answers nor the other files are lost.
        let html = text(site.get(&form, Some(&alice)).await).await;
        let materials = [
            "经营者居民身份证",
            "个体工商户登记（备案）申请书",
            "经营场所使用证明",
            "食品经营许可申请书",
            "法定代表人（负责人）居民身份证",
            "经营场所平面布局图和设备布局、操作流程文件",
        ];
        let bad = "食品安全管理制度文本";
        let mut post = reqwest::multipart::Form::new().text("_action", "save");
        for (k, v) in &answers {
            let v = if *k == "p1_employees" { "4" } else { v };
            post = post.text(k.to_string(), v.to_string());
        }
        for m in materials {
            post = post.part(
                format!("file-{}", slot_of(&html, m)),
                reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("a.pdf"),
            );
        }
        let bad_slot = slot_of(&html, bad);
        post = post.part(
            format!("file-{bad_slot}"),
            reqwest::multipart::Part::bytes(b"MZ\x90\x00\x03 a program".to_vec())
                .file_name("制度.pdf"),
        );
        let res = site
            .client
            .post(site.url(&form))
            .header(reqwest::header::ORIGIN, site.base.clone())
            .header(reqwest::header::COOKIE, alice.as_str())
            .multipart(post)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let to = location(&res);
        assert!(to.ends_with("#slot-errors"), "{b}: {to}");
        assert!(to.contains(&format!("m{bad_slot}=")), "{b}: {to}");
        let html = text(
            site.get(to.trim_end_matches("#slot-errors"), Some(&alice))
                .await,
        )
        .await;
        assert!(
            html.contains(&format!("href=\"#m-{bad_slot}\"")),
            "{b}: summary links the slot"
        );
        assert!(
            html.contains(&format!("id=\"e-m-{bad_slot}\"")),
            "{b}: the slot's own error"
        );
        assert!(
            html.contains("value=\"4\""),
            "{b}: the changed answer was saved"
        );
        assert!(
            html.contains("津南区小李面馆"),
            "{b}: the other answers kept"
        );
        // One material still missing: the bundle says which, and submits nothing.
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert!(html.contains(bad), "{b}: {html}");
        assert!(html.contains("由本次一件事第1项办理结果提供"), "{b}");
        // The browser posts the whole form again, answers and the chosen file.
        let mut post = reqwest::multipart::Form::new().text("_action", "save");
        for (k, v) in &answers {
            post = post.text(k.to_string(), v.to_string());
        }
        let post = post.part(
            format!("file-{bad_slot}"),
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("制度.pdf"),
        );
        let res = site
            .client
            .post(site.url(&form))
            .header(reqwest::header::ORIGIN, site.base.clone())
            .header(reqwest::header::COOKIE, alice.as_str())
            .multipart(post)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(location(&res).ends_with("#h-materials"), "{b}");
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert_eq!(html.matches("已准备好，可以提交").count(), 2, "{b}: {html}");

        // Submit all: two cases; the food licence records what part 1 provides.
        let res = site
            .post(
                &format!("{page}/submit"),
                Some(&alice),
                &[("_declaration", "1")],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{b}: {}",
            text(res).await
        );
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        assert_eq!(n, 2, "{b}");
        let app = db
            .store
            .application(
                parts[1].0,
                yiwang_store::applications::DraftOwner::Applicant(
                    sqlx::query_as::<_, (i64,)>("SELECT applicant_id FROM bundles")
                        .fetch_one(db.store.pool())
                        .await
                        .unwrap()
                        .0,
                ),
            )
            .await
            .unwrap();
        let provided = &app.answers["bundle_provided"];
        assert_eq!(provided[0]["material"], "营业执照", "{b}: {provided}");
        assert_eq!(provided[0]["part"], 1, "{b}");
        // The clerk of the food licence sees that part 1 provides the 营业执照, and the
        // answers as checked (the credit code not asked).
        db.store
            .create_user(
                &yiwang_store::NewUser {
                    username: "windowclerk".into(),
                    display_name: "窗口".into(),
                    password: crate::support::auth::PASSWORD.into(),
                    grants: vec![yiwang_domain::policy::Grant {
                        role: yiwang_domain::policy::Role::Clerk,
                        region: Some(yiwang_domain::RegionCode::parse("120112").unwrap()),
                        department: Some(
                            yiwang_domain::CreditCode::parse(crate::support::auth::APPROVAL_BUREAU)
                                .unwrap(),
                        ),
                    }],
                },
                &yiwang_store::Actor::system("test"),
                yiwang_testkit::DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let clerk = site.sign_in(&db, "windowclerk").await;
        let (food_case,): (String,) =
            sqlx::query_as("SELECT case_number FROM cases WHERE application_id = $1")
                .bind(parts[1].0)
                .fetch_one(db.store.pool())
                .await
                .unwrap();
        let html = text(
            site.get(&format!("/console/cases/{food_case}"), Some(&clerk))
                .await,
        )
        .await;
        assert!(
            html.contains("由本次一件事第1项办理结果提供"),
            "{b}: {html}"
        );
        assert!(html.contains("津南区小李面馆"), "{b}");
        // 我的办事 names the business each case is for.
        let html = text(site.get("/me", Some(&alice)).await).await;
        assert!(
            html.contains("津南区小李面馆") && html.contains("小李面馆"),
            "{b}"
        );
        // The form is gone once nothing is left to fill.
        let res = site.get(&form, Some(&alice)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
    }
}
