//! A correction round over real HTTP on every backend, as a clerk and a citizen do it: the
//! due date labelled for what it is (受理期限 before acceptance, 承诺办结日期 after); the
//! worklist names the business and finds a case by number or name; the decision form
//! preselects nothing and keeps every entry on an error; the clerk picks the material and the
//! form field to correct from the case (a made-up target is refused, nothing sent) and asks for
//! one new document; the citizen answers in one form (a bad value keeps what was typed, a save
//! returns to the line), cannot resubmit before every line is answered, and the clerk then
//! sees the replaced file marked and the field's new value.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::applicant::{
    FOOD, FOOD_MATERIALS, ID_A, PDF, fill_food, register, text, upload_each,
};
use crate::support::auth::{APPROVAL_BUREAU, PASSWORD, Site, location, serve};
use reqwest::StatusCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::{Actor, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, backends};

async fn clerk(db: &yiwang_testkit::TestDb, name: &str) {
    db.store
        .create_user(
            &NewUser {
                username: name.into(),
                display_name: format!("{name} (test)"),
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
}

fn version_of(html: &str) -> String {
    html.split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string()
}

/// Posts the citizen's correction form: `files` as (line, name), `fields` as (line, value).
async fn fix(
    site: &Site,
    cookie: &str,
    case_path: &str,
    go: &str,
    files: &[(usize, &str)],
    fields: &[(usize, &str)],
) -> reqwest::Response {
    let html = text(site.get(case_path, Some(cookie)).await).await;
    let mut form = reqwest::multipart::Form::new()
        .text("version", version_of(&html))
        .text("go", go.to_string());
    for (n, v) in fields {
        form = form.text(format!("field_{n}"), (*v).to_string());
    }
    for (n, name) in files {
        form = form.part(
            format!("file_{n}"),
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name((*name).to_string()),
        );
    }
    site.client
        .post(site.url(&format!("{case_path}/resubmit")))
        .header(reqwest::header::ORIGIN, site.base.clone())
        .header(reqwest::header::COOKIE, cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_correction_round_that_can_be_answered_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", ID_A).await;
        let res = site
            .post(&format!("/items/{FOOD}/apply"), Some(&alice), &[])
            .await;
        let draft = location(&res);
        fill_food(&site, &alice, &draft).await;
        upload_each(&site, &alice, &draft, &FOOD_MATERIALS).await;
        let res = site
            .post(
                &format!("{draft}/submit"),
                Some(&alice),
                &[("_declaration", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let case_path = location(&res).split('?').next().unwrap().to_string();
        let number = case_path.trim_start_matches("/me/cases/").to_string();

        // Item 5: before acceptance the date is the acceptance deadline, and says so.
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("受理期限"), "{b}");
        assert!(!html.contains("承诺办结日期"), "{b}: not a promise yet");

        // The worklist names the business and the applicant (masked), and finds by either.
        clerk(&db, "windowclerk").await;
        let clerk = site.sign_in(&db, "windowclerk").await;
        let html = text(site.get("/console/cases", Some(&clerk)).await).await;
        assert!(html.contains("津南小馆餐饮店"), "{b}: the business");
        assert!(html.contains("张*"), "{b}: the applicant, masked");
        assert!(!html.contains("张三"), "{b}");
        let tail = &number[number.len() - 6..];
        for q in ["津南小馆", "张三", tail] {
            let html = text(
                site.get(
                    &format!("/console/cases?q={}", urlencoding(q)),
                    Some(&clerk),
                )
                .await,
            )
            .await;
            assert!(html.contains(&number), "{b}: found by {q}");
        }
        let html = text(
            site.get(
                &format!("/console/cases?q={}", urlencoding("李四")),
                Some(&clerk),
            )
            .await,
        )
        .await;
        assert!(!html.contains(&number), "{b}: not by another name");
        assert!(html.contains("没有找到"), "{b}");

        // Item 12: nothing preselected; an error names the field and keeps every entry.
        let staff_case = format!("/console/cases/{number}");
        let act = format!("{staff_case}/act");
        let html = text(site.get(&staff_case, Some(&clerk)).await).await;
        assert!(!html.contains(" checked"), "{b}: no action preselected");
        assert!(
            html.contains("id=\"h-correct\""),
            "{b}: a correction form of its own"
        );
        assert!(
            html.contains("受理期限"),
            "{b}: the clerk reads the same label"
        );
        let version = version_of(&html);
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "decision"),
                    ("version", &version),
                    ("opinion", "材料齐全"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
        assert!(html.contains("请选择操作"), "{b}");
        assert!(
            html.contains(">材料齐全</textarea>"),
            "{b}: the opinion is kept"
        );
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "decision"),
                    ("version", &version),
                    ("action", "reject"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
        assert!(
            html.contains("请填写办理意见"),
            "{b}: names the field: {html}"
        );
        assert!(
            html.contains("value=\"reject\" checked"),
            "{b}: the action is kept"
        );

        // Item 1: targets from the case only; a reason per line; entries kept on a problem.
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "correction"),
                    ("action", "request_correction"),
                    ("version", &version),
                    ("pick", "material:身份证"),
                    ("reason:material:身份证", "看不清"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("不是本办件的材料或填写项"), "{b}");
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "correction"),
                    ("action", "request_correction"),
                    ("version", &version),
                    ("pick", "material:营业执照"),
                    ("reason:material:营业执照", "复印件不清晰"),
                    ("pick", "field:phone"),
                    ("new_name_1", "房屋租赁合同"),
                    ("new_reason_1", "请补充经营场所的租赁合同"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
        assert!(html.contains("请写明存在的问题"), "{b}");
        assert!(html.contains("value=\"复印件不清晰\""), "{b}: reasons kept");
        assert!(
            html.contains("value=\"房屋租赁合同\""),
            "{b}: new slot kept"
        );
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("已提交，等待受理"), "{b}: nothing was sent");
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "correction"),
                    ("action", "request_correction"),
                    ("version", &version),
                    ("pick", "material:营业执照"),
                    ("reason:material:营业执照", "复印件不清晰"),
                    ("pick", "field:phone"),
                    ("reason:field:phone", "电话无法接通"),
                    ("opinion", "请按告知逐项补正"),
                    ("new_name_1", "房屋租赁合同"),
                    ("new_reason_1", "请补充经营场所的租赁合同"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");

        // The citizen sees a slot per line: two files and the phone, filled in as it was.
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        for s in [
            "name=\"file_1\"",
            "name=\"field_2\"",
            "name=\"file_3\"",
            "房屋租赁合同",
            "电话无法接通",
        ] {
            assert!(html.contains(s), "{b}: {s}");
        }
        assert!(
            html.contains("value=\"13900000000\""),
            "{b}: the current answer"
        );
        assert!(html.contains("20 MB"), "{b}: the size limit by the slot");

        // A bad value: the line says why, the value typed stays, nothing is lost.
        let res = fix(
            &site,
            &alice,
            &case_path,
            "save",
            &[(1, "执照（清晰）.pdf")],
            &[(2, "12345")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
        assert!(
            html.contains("href=\"#fix-2\""),
            "{b}: the summary links to the line"
        );
        assert!(
            html.contains("id=\"fix-2-error\""),
            "{b}: the line's own error"
        );
        assert!(
            html.contains("value=\"12345\""),
            "{b}: what was typed is kept"
        );
        assert!(
            html.contains("执照（清晰）.pdf"),
            "{b}: the file was saved all the same"
        );
        // Resubmitting too early is refused, each open line says what it needs.
        let res = fix(
            &site,
            &alice,
            &case_path,
            "resubmit",
            &[],
            &[(2, "13700001111")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
        assert!(html.contains("还有未补正的项目"), "{b}");
        assert!(html.contains("请选择更正后的文件"), "{b}");
        assert!(
            html.contains("已被替换"),
            "{b}: the old licence file is marked"
        );
        // A slot the notice does not have, or a file for the field: refused, never a 5xx.
        let res = fix(&site, &alice, &case_path, "save", &[], &[(9, "x")]).await;
        assert!(res.status().is_client_error(), "{b}: {}", res.status());
        let res = fix(&site, &alice, &case_path, "save", &[(2, "电话.pdf")], &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("id=\"fix-2-error\""), "{b}");
        // A save lands on the line answered (post/redirect/get).
        let res = fix(
            &site,
            &alice,
            &case_path,
            "save",
            &[(3, "租赁合同.pdf")],
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(
            location(&res).ends_with("?saved=1#fix-3"),
            "{b}: {}",
            location(&res)
        );
        let res = fix(&site, &alice, &case_path, "resubmit", &[], &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("已提交，等待受理"), "{b}");

        // The clerk sees which file is current, the replaced one, and the new phone.
        let html = text(site.get(&staff_case, Some(&clerk)).await).await;
        assert!(
            html.contains("已被替换") && html.contains("当前文件"),
            "{b}"
        );
        assert!(
            html.contains("137****1111"),
            "{b}: the field's new value, masked"
        );
        assert_eq!(html.matches("已补正").count(), 3, "{b}");
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "decision"),
                    ("version", &version_of(&html)),
                    ("action", "accept"),
                    ("opinion", "材料齐全，予以受理"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        // After acceptance: the promised date, as the acceptance notice prints it.
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("承诺办结日期"), "{b}");
        assert!(!html.contains("受理期限"), "{b}");
        assert!(html.contains("受理通知书"), "{b}");
    }
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from(c).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect()
}
