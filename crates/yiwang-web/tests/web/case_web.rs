//! Full online handling over real HTTP on every backend: an applicant registers, applies
//! (draft saved, errors per field, check page, declaration), submits (twice: one case), the
//! clerk sends a correction notice from the worklist, the applicant sees exactly what to fix
//! and resubmits, the clerk accepts; another applicant and staff outside the department get
//! 404; the applicant's messages and "who used my data" show what happened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::applicant::{
    APPLICANT_PASSWORD, ID_A, ID_B, ITEM, MATERIALS, PDF, fill_item, register, text, upload,
    upload_all,
};
use crate::support::auth::{APPROVAL_BUREAU, PASSWORD, Site, location, serve};
use reqwest::StatusCode;
use yiwang_domain::case::CaseNumber;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::{Actor, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, backends};

async fn staff(db: &yiwang_testkit::TestDb, name: &str, role: Role, dept: &str) {
    db.store
        .create_user(
            &NewUser {
                username: name.into(),
                display_name: format!("{name} (test)"),
                password: PASSWORD.into(),
                grants: vec![Grant {
                    role,
                    region: Some(RegionCode::parse("120112").unwrap()),
                    department: Some(CreditCode::parse(dept).unwrap()),
                }],
            },
            &Actor::system("test"),
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn apply_correct_and_accept_over_http_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;

        // The applicant's space needs an applicant session.
        let res = site.get("/me", None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(location(&res).starts_with("/login?next="), "{b}");

        // Registration checks the ID number's check digit and explains.
        let res = site
            .post(
                "/register",
                None,
                &[
                    ("name", "张三"),
                    ("id_number", "110105194912310021"),
                    ("phone", "13800138000"),
                    ("password", APPLICANT_PASSWORD),
                    ("again", APPLICANT_PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("公民身份号码"));
        let alice = register(&site, "张三", ID_A).await;
        let bob = register(&site, "李四", ID_B).await;
        // The same ID twice: the usual answer (nobody learns the number is registered),
        // nothing written.
        let res = site
            .post(
                "/register",
                None,
                &[
                    ("name", "张三"),
                    ("id_number", ID_A),
                    ("phone", "13800138000"),
                    ("password", APPLICANT_PASSWORD),
                    ("again", APPLICANT_PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        // Sign-in with the ID number works; a wrong password is 401.
        let res = site
            .post(
                "/login",
                None,
                &[("id_number", ID_A), ("password", "wrong-Password-1")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        let res = site
            .post(
                "/login",
                None,
                &[
                    ("id_number", ID_A),
                    ("password", APPLICANT_PASSWORD),
                    ("next", "/me"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");

        // 在线申请 → a draft.
        let res = site
            .post(&format!("/items/{ITEM}/apply"), Some(&alice), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let form_path = location(&res);
        assert!(
            form_path.starts_with("/me/applications/"),
            "{b}: {form_path}"
        );
        let html = text(site.get(&form_path, Some(&alice)).await).await;
        assert!(
            html.contains("name=\"contact_phone\""),
            "{b}: the form is rendered"
        );
        // Another applicant cannot open it.
        assert_eq!(
            site.get(&form_path, Some(&bob)).await.status(),
            StatusCode::NOT_FOUND,
            "{b}"
        );
        // Continue with a bad phone: per-field error, values kept; then a forged field is refused.
        let res = site
            .post(
                &form_path,
                Some(&alice),
                &[
                    ("description", "开办小型游泳馆<script>alert(1)</script>"),
                    ("contact_name", "张三"),
                    ("contact_phone", "12345"),
                    ("_action", "continue"),
                ],
            )
            .await;
        // Post/redirect/get: back to the form's error summary, the answers kept as a draft.
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let back = location(&res);
        assert!(back.ends_with("#error-summary"), "{b}: {back}");
        let back = back.trim_end_matches("#error-summary").to_string();
        let html = text(site.get(&back, Some(&alice)).await).await;
        assert!(
            html.contains("请填写 11 位手机号码"),
            "{b}: the field's error"
        );
        assert!(html.contains("&lt;script&gt;"), "{b}: escaped");
        assert!(!html.contains("<script>alert(1)"), "{b}");
        let res = site
            .post(
                &form_path,
                Some(&alice),
                &[("is_admin", "1"), ("_action", "save")],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: forged field"
        );
        let res = site
            .post(
                &form_path,
                Some(&alice),
                &[
                    ("description", "开办小型游泳馆"),
                    ("contact_name", "张三"),
                    ("contact_phone", "13800138000"),
                    ("_action", "continue"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let check = location(&res);
        assert!(check.ends_with("/check"));
        // Submitting without the required materials is refused and names them.
        let res = site
            .post(
                &check.replace("/check", "/submit"),
                Some(&alice),
                &[("_declaration", "yes")],
            )
            .await;
        // Back to the form (post/redirect/get), whose summary names the missing material.
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let back = location(&res);
        assert!(back.ends_with("#error-summary"), "{b}: {back}");
        let html = text(
            site.get(back.trim_end_matches("#error-summary"), Some(&alice))
                .await,
        )
        .await;
        let summary = html.split("id=\"error-summary\"").nth(1).unwrap_or("");
        assert!(summary.contains("公共场所卫生检测报告"), "{b}: {summary}");
        // A renamed program is refused by its content, whatever its name says.
        let res = upload(
            &site,
            &alice,
            &form_path,
            MATERIALS[0],
            "申请表.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00program",
            &form_path,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");
        // Someone else cannot upload into this application.
        let res = upload(
            &site,
            &bob,
            &form_path,
            MATERIALS[0],
            "a.pdf",
            PDF,
            &form_path,
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}");
        upload_all(&site, &alice, &form_path).await;
        // A photo besides the scan: staff may view images in the browser.
        let res = upload(
            &site,
            &alice,
            &form_path,
            MATERIALS[0],
            "照片.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            &form_path,
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let html = text(site.get(&form_path, Some(&alice)).await).await;
        assert_eq!(
            html.matches("扫描件.pdf <span").count(),
            6,
            "{b}: each material lists its file"
        );
        let html = text(site.get(&check, Some(&alice)).await).await;
        assert!(html.contains("开办小型游泳馆"), "{b}: check your answers");
        // Without the declaration: refused, nothing submitted.
        let submit = check.replace("/check", "/submit");
        let res = site.post(&submit, Some(&alice), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let back = location(&res);
        assert!(
            back.starts_with(&format!("{check}?declare=1#")),
            "{b}: {back}"
        );
        let html = text(
            site.get(back.split('#').next().unwrap(), Some(&alice))
                .await,
        )
        .await;
        assert!(
            html.contains("field-error"),
            "{b}: the declaration says what is missing"
        );
        // With it: the case number at once; a double click lands on the same case.
        let res = site
            .post(&submit, Some(&alice), &[("_declaration", "yes")])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let case_path = location(&res);
        assert!(
            case_path.starts_with(&format!("/me/cases/{ITEM}-")),
            "{b}: {case_path}"
        );
        let res = site
            .post(&submit, Some(&alice), &[("_declaration", "yes")])
            .await;
        assert_eq!(location(&res), case_path, "{b}: one case");
        let case_path = case_path.trim_end_matches("?new=1").to_string();
        let number = case_path.trim_start_matches("/me/cases/").to_string();
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("已提交，等待受理"), "{b}");
        assert_eq!(
            site.get(&case_path, Some(&bob)).await.status(),
            StatusCode::NOT_FOUND,
            "{b}: someone else's case does not exist for them"
        );

        // The clerk of the bureau sees it; a reviewer of another department does not.
        staff(&db, "windowclerk", Role::Clerk, APPROVAL_BUREAU).await;
        staff(&db, "otherdept", Role::Clerk, "11120112MB1L902463").await;
        let clerk = site.sign_in(&db, "windowclerk").await;
        let other = site.sign_in(&db, "otherdept").await;
        let html = text(site.get("/console/cases", Some(&clerk)).await).await;
        assert!(html.contains(&number), "{b}: on the clerk's worklist");
        let html = text(site.get("/console/cases", Some(&other)).await).await;
        assert!(!html.contains(&number), "{b}");
        let staff_case = format!("/console/cases/{number}");
        assert_eq!(
            site.get(&staff_case, Some(&other)).await.status(),
            StatusCode::NOT_FOUND,
            "{b}"
        );
        // Applicants have no business in the console, staff none in the applicant's space.
        assert_ne!(
            site.get("/console/cases", Some(&alice)).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            site.get("/me", Some(&clerk)).await.status(),
            StatusCode::SEE_OTHER
        );

        let html = text(site.get(&staff_case, Some(&clerk)).await).await;
        assert!(
            html.contains("开办小型游泳馆"),
            "{b}: the clerk reads the form"
        );
        // Materials: the image has a view link (inline, sandboxed), every file a download.
        let hrefs: Vec<String> = html
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|h| h.contains("/files/"))
            .map(str::to_string)
            .collect();
        let views: Vec<&String> = hrefs.iter().filter(|h| h.ends_with("/view")).collect();
        assert_eq!(views.len(), 1, "{b}: only the image is viewable: {hrefs:?}");
        let res = site.get(views[0], Some(&clerk)).await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        assert_eq!(res.headers()["content-type"], "image/png");
        let h = |name: &str| res.headers()[name].to_str().unwrap().to_string();
        assert!(h("content-disposition").starts_with("inline"), "{b}");
        assert!(h("content-security-policy").contains("sandbox"), "{b}");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(
            site.get(views[0], Some(&other)).await.status(),
            StatusCode::NOT_FOUND,
            "{b}: not for another department"
        );
        let pdf = hrefs
            .iter()
            .find(|h| !h.ends_with("/view") && !hrefs.contains(&format!("{h}/view")))
            .unwrap();
        let res = site.get(&format!("{pdf}/view"), Some(&clerk)).await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment"),
            "{b}: a PDF is downloaded, never shown in the sandbox"
        );
        let version = html
            .split("name=\"version\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        // A correction without a list is refused with a message, nothing changes.
        let act = format!("{staff_case}/act");
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "correction"),
                    ("action", "request_correction"),
                    ("opinion", "请补正"),
                    ("version", &version),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            text(res).await.contains("请至少勾选一项"),
            "{b}: the clerk is told what is missing"
        );
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("form", "correction"),
                    ("action", "request_correction"),
                    ("opinion", "请补正"),
                    ("version", &version),
                    ("pick", "material:公共场所卫生检测报告"),
                    (
                        "reason:material:公共场所卫生检测报告",
                        "检测报告已超过一年，请上传一年内的报告",
                    ),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        // A stale form (the old version) now gets a clear conflict.
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[("action", "accept"), ("version", &version)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{b}");

        // The applicant sees exactly what to fix and resubmits.
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("检测报告已超过一年"), "{b}");
        // Only the named material may be replaced now; the others are locked with the submission.
        let res = upload(
            &site,
            &alice,
            &form_path,
            "营业执照",
            "a.pdf",
            PDF,
            &case_path,
        )
        .await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{b}: locked");
        let res = upload(
            &site,
            &alice,
            &form_path,
            "公共场所卫生检测报告",
            "新检测报告.pdf",
            PDF,
            &case_path,
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), case_path, "{b}: back to the case");
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("新检测报告.pdf"), "{b}");
        assert!(html.contains("需要补正材料"), "{b}");
        let v2 = html
            .split("name=\"version\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        let res = site
            .post(
                &format!("{case_path}/resubmit"),
                Some(&bob),
                &[("version", &v2)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}");
        let res = site
            .post(
                &format!("{case_path}/resubmit"),
                Some(&alice),
                &[("version", &v2)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let html = text(site.get(&staff_case, Some(&clerk)).await).await;
        let v3 = html
            .split("name=\"version\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[("action", "accept"), ("version", &v3)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let html = text(site.get(&case_path, Some(&alice)).await).await;
        assert!(html.contains("审查中"), "{b}");
        // The notices issued so far: the correction notice and the acceptance notice, as PDF,
        // for the applicant only; each verifiable in public without personal data.
        assert!(
            html.contains("补正材料通知书") && html.contains("受理通知书"),
            "{b}"
        );
        let links: Vec<String> = html
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter(|h| h.contains("/documents/"))
            .map(str::to_string)
            .collect();
        assert_eq!(links.len(), 2, "{b}: {links:?}");
        for link in &links {
            let res = site.get(link, Some(&alice)).await;
            assert_eq!(res.status(), StatusCode::OK, "{b}: {link}");
            assert_eq!(res.headers()["content-type"], "application/pdf");
            assert!(
                res.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment")
            );
            let body = res.bytes().await.unwrap();
            assert!(body.starts_with(b"%PDF"), "{b}");
            assert_eq!(
                site.get(link, Some(&bob)).await.status(),
                StatusCode::NOT_FOUND,
                "{b}"
            );
            let code = link.rsplit('/').next().unwrap();
            let res = site.get(&format!("/verify/{code}"), None).await;
            assert_eq!(res.status(), StatusCode::OK, "{b}");
            let page = text(res).await;
            assert!(page.contains(&number), "{b}");
            assert!(
                !page.contains("张三"),
                "{b}: no personal data on the public page"
            );
        }

        // A staff download of a notice: served, and on the record like the materials above.
        let code = links[0].rsplit('/').next().unwrap();
        let res = site
            .get(&format!("{staff_case}/documents/{code}"), Some(&clerk))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        assert_eq!(
            site.get(&format!("{staff_case}/documents/{code}"), Some(&other))
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "{b}"
        );
        let downloads: Vec<String> = db
            .store
            .audit_entries(&yiwang_store::AuditFilter {
                object_prefix: Some(format!("case:{number}")),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event.actor == "windowclerk")
            .map(|e| e.event.action)
            .filter(|a| a == "case.material" || a == "case.document")
            .collect();
        assert_eq!(
            downloads,
            ["case.material", "case.material", "case.document"],
            "{b}: every staff download is audited (refused ones are not downloads)"
        );

        // Messages for every status change; the clerk's reads show on "who used my data".
        // Grouped under the case, each message with the short number (date and sequence).
        let html = text(site.get("/me/messages", Some(&alice)).await).await;
        let short = yiwang_domain::mine::short_number(&CaseNumber::parse(&number).unwrap());
        assert!(html.matches(&short).count() >= 4, "{b}: {html}");
        assert!(
            html.contains(&format!("href=\"/me/cases/{number}\"")),
            "{b}"
        );
        let html = text(site.get("/me/data-use", Some(&alice)).await).await;
        assert!(html.contains("天津市津南区行政审批局"), "{b}");
        assert!(html.contains("查看办件材料"), "{b}");
        assert!(
            html.contains("下载申请材料") && html.contains("下载办件文书"),
            "{b}: downloads are uses of the data too"
        );
        assert!(
            html.contains("实名核验（窗口查验身份证件）") && html.contains("test counter"),
            "{b}: the identity check at the counter is a use of the data too"
        );
        let html = text(site.get("/me/data-use", Some(&bob)).await).await;
        assert!(!html.contains(&number), "{b}");
    }
}

async fn fill_and_submit(site: &Site, cookie: &str, draft: &str) -> String {
    let res = try_submit(site, cookie, draft).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    location(&res)
}

/// Fills the draft, uploads every material and submits with the declaration ticked; the answer
/// as it comes (a refusal is the point of some tests).
async fn try_submit(site: &Site, cookie: &str, draft: &str) -> reqwest::Response {
    fill_item(site, cookie, draft).await;
    upload_all(site, cookie, draft).await;
    site.post(
        &format!("{draft}/submit"),
        Some(cookie),
        &[("_declaration", "yes")],
    )
    .await
}

/// Starts a draft of the demo item and [`try_submit`]s it.
async fn apply_and_try_submit(site: &Site, cookie: &str) -> reqwest::Response {
    let res = site
        .post(&format!("/items/{ITEM}/apply"), Some(cookie), &[])
        .await;
    try_submit(site, cookie, &location(&res)).await
}

#[tokio::test]
async fn counter_intake_and_service_point_agents_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        staff(&db, "windowclerk", Role::Clerk, APPROVAL_BUREAU).await;
        // A service-point worker of 咸水沽镇 (no department; a region grant).
        db.store
            .create_user(
                &NewUser {
                    username: "villageagent".into(),
                    display_name: "代办员".into(),
                    password: PASSWORD.into(),
                    grants: vec![Grant {
                        role: Role::Agent,
                        region: Some(RegionCode::parse("120112100000").unwrap()),
                        department: None,
                    }],
                },
                &Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let clerk = site.sign_in(&db, "windowclerk").await;
        let agent = site.sign_in(&db, "villageagent").await;

        let html = text(site.get("/console/intake", Some(&clerk)).await).await;
        assert!(
            html.contains(ITEM),
            "{b}: the clerk's own department's items are offered"
        );
        // A walk-in without an account: ID number, name, phone and the document checked
        // register them, verified in person.
        let res = site
            .post(
                "/console/intake",
                Some(&clerk),
                &[("id_number", ID_A), ("item", ITEM)],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: name, phone and document needed"
        );
        let res = site
            .post(
                "/console/intake",
                Some(&clerk),
                &[
                    ("id_number", ID_A),
                    ("name", "王五"),
                    ("phone", "13700137000"),
                    ("item", ITEM),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{b}: the document checked is needed"
        );
        let res = site
            .post(
                "/console/intake",
                Some(&clerk),
                &[
                    ("id_number", ID_A),
                    ("name", "王五"),
                    ("phone", "13700137000"),
                    ("item", ITEM),
                    ("document", "resident_id_card"),
                    ("place", "津南区政务服务中心 3 号窗口"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let draft = location(&res);
        assert!(draft.starts_with("/console/intake/"), "{b}: {draft}");
        // Only the staff member who entered it may open the draft.
        assert_eq!(
            site.get(&draft, Some(&agent)).await.status(),
            StatusCode::NOT_FOUND,
            "{b}"
        );
        let receipt = fill_and_submit(&site, &clerk, &draft).await;
        assert!(
            receipt.starts_with("/console/intake/done/"),
            "{b}: {receipt}"
        );
        let html = text(site.get(&receipt, Some(&clerk)).await).await;
        let number = receipt.trim_start_matches("/console/intake/done/");
        assert!(html.contains(number), "{b}");
        let case = db
            .store
            .case_record(&yiwang_domain::case::CaseNumber::parse(number).unwrap())
            .await
            .unwrap();
        assert_eq!(case.source, yiwang_domain::case::CaseSource::Counter, "{b}");
        assert!(case.staff_id.is_some());
        // The walk-in has no password: nobody signs in to that account yet.
        let res = site
            .post("/login", None, &[("id_number", ID_A), ("password", "!")])
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");

        // The village agent applies for the same citizen (same number, name and phone):
        // source 代办.
        let html = text(site.get("/console/intake", Some(&agent)).await).await;
        assert!(
            html.contains(ITEM),
            "{b}: county items are offered at the village"
        );
        let res = site
            .post(
                "/console/intake",
                Some(&agent),
                &[
                    ("id_number", ID_A),
                    ("name", "王五"),
                    ("phone", "13700137000"),
                    ("item", ITEM),
                    ("document", "resident_id_card"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let receipt = fill_and_submit(&site, &agent, &location(&res)).await;
        let number2 = receipt
            .trim_start_matches("/console/intake/done/")
            .to_string();
        let case2 = db
            .store
            .case_record(&yiwang_domain::case::CaseNumber::parse(&number2).unwrap())
            .await
            .unwrap();
        assert_eq!(case2.source, yiwang_domain::case::CaseSource::Agent, "{b}");
        assert_eq!(
            case2.applicant_id, case.applicant_id,
            "{b}: the same citizen"
        );
        assert_ne!(number2, number);
        // Both cases wait on the clerk's worklist, entered the same way as online ones.
        let html = text(site.get("/console/cases", Some(&clerk)).await).await;
        assert!(html.contains(number) && html.contains(&number2), "{b}");
        // The agent takes in but does not handle cases.
        assert_eq!(
            site.get("/console/cases", Some(&agent)).await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

/// The account a citizen's ID number belongs to, as the store finds it.
async fn holder(
    db: &yiwang_testkit::TestDb,
    id: &str,
) -> Option<yiwang_store::applicants::Applicant> {
    db.store
        .applicant_by_id_number(&yiwang_domain::case::ApplicantId::parse(id).unwrap())
        .await
        .unwrap()
}

fn registration<'a>(
    name: &'a str,
    id: &'a str,
    phone: &'a str,
    pw: &'a str,
) -> [(&'a str, &'a str); 5] {
    [
        ("name", name),
        ("id_number", id),
        ("phone", phone),
        ("password", pw),
        ("again", pw),
    ]
}

/// Issue #13, item 3: a squatter registers a citizen's ID number. Registration answers the same
/// for a registered and a new number and never hands over the account; the squatter's account
/// is unverified and cannot submit; counter intake for the real citizen (another name and
/// phone) never files into it: the verified owner takes the number back, the squatter's
/// account is detached, and a verified account is never overridden. An online registrant
/// verified in person at the console can submit.
#[tokio::test]
async fn a_squatted_id_number_goes_back_to_its_verified_owner_on_every_backend() {
    const SQUATTER_PW: &str = "Maoming-2026!x";
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        staff(&db, "windowclerk", Role::Clerk, APPROVAL_BUREAU).await;
        let clerk = site.sign_in(&db, "windowclerk").await;

        // The squatter registers the citizen's number under another name and phone.
        let res = site
            .post(
                "/register",
                None,
                &registration("冒名者", ID_A, "13600136000", SQUATTER_PW),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        assert!(
            crate::support::auth::named_cookie(&res, "yw_app").is_none(),
            "{b}"
        );
        let first = text(res).await;
        assert!(first.contains("注册申请已收到"), "{b}: {first}");
        // A registered number and a new one get the very same answer; the second changes nothing.
        let taken = site
            .post(
                "/register",
                None,
                &registration("张三", ID_A, "13800138000", APPLICANT_PASSWORD),
            )
            .await;
        let fresh = site
            .post(
                "/register",
                None,
                &registration("李四", ID_B, "13900139000", APPLICANT_PASSWORD),
            )
            .await;
        assert_eq!(taken.status(), fresh.status(), "{b}");
        assert_eq!(
            text(taken).await,
            text(fresh).await,
            "{b}: no account enumeration"
        );
        let res = site
            .post(
                "/login",
                None,
                &[("id_number", ID_A), ("password", APPLICANT_PASSWORD)],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{b}: not taken over"
        );
        let squatter_id = holder(&db, ID_A).await.unwrap().id;

        // The squatter signs in, fills a draft, and cannot submit: unverified.
        let res = site
            .post(
                "/login",
                None,
                &[("id_number", ID_A), ("password", SQUATTER_PW)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let squatter = crate::support::auth::named_cookie(&res, "yw_app").unwrap();
        let res = site
            .post(&format!("/items/{ITEM}/apply"), Some(&squatter), &[])
            .await;
        let draft = location(&res);
        let res = try_submit(&site, &squatter, &draft).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        let html = text(res).await;
        assert!(
            html.contains("实名核验") && html.contains("草稿已为您保存"),
            "{b}: {html}"
        );
        assert_eq!(
            site.get(&format!("{draft}/check"), Some(&squatter))
                .await
                .status(),
            StatusCode::OK,
            "{b}: the draft is kept"
        );
        let res = site
            .post(
                &format!("{draft}/submit?lang=en"),
                Some(&squatter),
                &[("_declaration", "yes")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        let html = text(res).await;
        assert!(
            html.contains("not verified") && html.contains("counter"),
            "{b}: {html}"
        );

        // The real citizen walks in: the clerk checks the ID card. The draft does not go into
        // the squatter's account; the clerk is told the number was taken back.
        let res = site
            .post(
                "/console/intake",
                Some(&clerk),
                &[
                    ("id_number", ID_A),
                    ("name", "张三"),
                    ("phone", "13800138000"),
                    ("item", ITEM),
                    ("document", "resident_id_card"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        let html = text(res).await;
        assert!(html.contains("id=\"reclaimed\""), "{b}: {html}");
        let owner = holder(&db, ID_A).await.expect("the number has an owner");
        assert_ne!(owner.id, squatter_id, "{b}: not the squatter's account");
        assert_eq!(owner.display_name, "张三", "{b}");
        assert!(db.store.identity_verified(owner.id).await.unwrap(), "{b}");
        let intake_draft = html
            .split("href=\"/console/intake/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(|id| format!("/console/intake/{id}"))
            .expect("a link to the draft");
        let receipt = fill_and_submit(&site, &clerk, &intake_draft).await;
        let number = receipt.trim_start_matches("/console/intake/done/");
        let case = db
            .store
            .case_record(&yiwang_domain::case::CaseNumber::parse(number).unwrap())
            .await
            .unwrap();
        assert_eq!(
            case.applicant_id, owner.id,
            "{b}: the case is the citizen's"
        );
        // The squatter's account is detached: its session and its password no longer work.
        let res = site.get("/me", Some(&squatter)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}: signed out");
        let res = site
            .post(
                "/login",
                None,
                &[("id_number", ID_A), ("password", SQUATTER_PW)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");
        let detach: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'identity.detach' AND object = $1",
        )
        .bind(format!("applicant:applicant-{squatter_id}"))
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert_eq!(detach.0, 1, "{b}: the detachment is audited");

        // A verified account is never overridden: another name for the number is refused
        // with the reason.
        let res = site
            .post(
                "/console/intake",
                Some(&clerk),
                &[
                    ("id_number", ID_A),
                    ("name", "冒名者"),
                    ("phone", "13600136000"),
                    ("item", ITEM),
                    ("document", "resident_id_card"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{b}");
        assert!(text(res).await.contains("已由本人实名核验"), "{b}");
        assert_eq!(holder(&db, ID_A).await.unwrap().id, owner.id, "{b}");

        // 李四 registered online (unverified), is verified in person at the console, and then
        // submits.
        let res = site
            .post(
                "/login",
                None,
                &[("id_number", ID_B), ("password", APPLICANT_PASSWORD)],
            )
            .await;
        let bob = crate::support::auth::named_cookie(&res, "yw_app").unwrap();
        let res = site
            .post(&format!("/items/{ITEM}/apply"), Some(&bob), &[])
            .await;
        let bob_draft = location(&res);
        fill_item(&site, &bob, &bob_draft).await;
        upload_all(&site, &bob, &bob_draft).await;
        let submit = |cookie: String, draft: String| {
            let site = &site;
            async move {
                site.post(
                    &format!("{draft}/submit"),
                    Some(&cookie),
                    &[("_declaration", "yes")],
                )
                .await
            }
        };
        let res = submit(bob.clone(), bob_draft.clone()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        assert!(
            site.get("/console/identity", Some(&clerk))
                .await
                .status()
                .is_success()
        );
        let res = site
            .post(
                "/console/identity",
                Some(&clerk),
                &[
                    ("id_number", ID_B),
                    ("name", "李四"),
                    ("phone", "13900139000"),
                    ("document", "resident_id_card"),
                    ("place", "咸水沽镇便民服务中心"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        assert!(
            text(res).await.contains("账户的姓名和手机号码与证件一致"),
            "{b}"
        );
        let res = submit(bob.clone(), bob_draft.clone()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(location(&res).starts_with("/me/cases/"), "{b}");
        let (source, document, place): (String, String, String) = sqlx::query_as(
            "SELECT v.source, v.document, v.place FROM identity_verifications v \
             JOIN applicants a ON a.id = v.applicant_id WHERE a.display_name = '李四'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert_eq!(
            (source.as_str(), document.as_str(), place.as_str()),
            ("in_person", "resident_id_card", "咸水沽镇便民服务中心"),
            "{b}: who, where and which document are recorded"
        );
        // An agent without intake rights elsewhere: applicants never reach the page.
        assert_ne!(
            site.get("/console/identity", Some(&bob)).await.status(),
            StatusCode::OK,
            "{b}"
        );
    }
}

/// The identity-verification seam with an external verifier configured (here the file-backed
/// one): a registration whose name, number and phone it confirms is verified at once and can
/// submit; one it does not know stays unverified.
#[tokio::test]
async fn a_configured_verifier_verifies_new_registrations_online_on_every_backend() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let verifier = yiwang_app::identity::FileVerifier::parse(&format!(
            "# id_number,name,phone\n{ID_A},张三,13800138000\n"
        ));
        let site = crate::support::auth::serve_with(&db, true, false, |s| {
            s.with_identity_verifier(std::sync::Arc::new(verifier))
        })
        .await;
        for (name, id, phone) in [("张三", ID_A, "13800138000"), ("李四", ID_B, "13900139000")]
        {
            let res = site
                .post(
                    "/register",
                    None,
                    &registration(name, id, phone, APPLICANT_PASSWORD),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK, "{b}");
        }
        let a = holder(&db, ID_A).await.unwrap();
        let other = holder(&db, ID_B).await.unwrap();
        assert!(
            db.store.identity_verified(a.id).await.unwrap(),
            "{b}: confirmed online"
        );
        assert!(
            !db.store.identity_verified(other.id).await.unwrap(),
            "{b}: unknown to it"
        );
        let source: (String, String) = sqlx::query_as(
            "SELECT source, verifier FROM identity_verifications WHERE applicant_id = $1",
        )
        .bind(a.id)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert_eq!(source, ("external".to_string(), "file".to_string()), "{b}");
        let res = site
            .post(
                "/login",
                None,
                &[("id_number", ID_A), ("password", APPLICANT_PASSWORD)],
            )
            .await;
        let alice = crate::support::auth::named_cookie(&res, "yw_app").unwrap();
        let res = apply_and_try_submit(&site, &alice).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(location(&res).starts_with("/me/cases/"), "{b}");
    }
}

/// Several applicants upload materials to their own drafts at the same time (over real HTTP):
/// no upload answers 5xx, and every one is on record. On SQLite a transaction that reads and then
/// writes must take the write lock at its start (`BEGIN IMMEDIATE`), or it fails with
/// `database is locked` instead of waiting.
#[tokio::test]
async fn parallel_uploads_to_own_drafts_all_succeed_on_every_backend() {
    const CLIENTS: usize = 6;
    const EACH: usize = 5;
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = std::sync::Arc::new(serve(&db, false).await);
        let mut drafts = Vec::new();
        for i in 0..CLIENTS {
            let id = yiwang_domain::codes::ResidentId::with_check_char(&format!(
                "120112199001{:02}123",
                10 + i
            ))
            .unwrap();
            let cookie = register(&site, &format!("并发{i}"), id.reveal()).await;
            let res = site
                .post(&format!("/items/{ITEM}/apply"), Some(&cookie), &[])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
            drafts.push((cookie, location(&res)));
        }
        let mut tasks = Vec::new();
        for (i, (cookie, path)) in drafts.iter().cloned().enumerate() {
            let site = site.clone();
            tasks.push(tokio::spawn(async move {
                let mut statuses = Vec::new();
                for k in 0..EACH {
                    // Distinct content per file: every upload writes a new stored file.
                    let mut pdf = PDF.to_vec();
                    pdf.extend_from_slice(format!("% client {i} file {k}\n").as_bytes());
                    let res = upload(
                        &site,
                        &cookie,
                        &path,
                        MATERIALS[k % MATERIALS.len()],
                        "扫描件.pdf",
                        &pdf,
                        &path,
                    )
                    .await;
                    statuses.push(res.status());
                }
                statuses
            }));
        }
        for t in tasks {
            for s in t.await.unwrap() {
                assert_eq!(s, StatusCode::SEE_OTHER, "{b}: every upload stored");
            }
        }
        for (_, path) in &drafts {
            let app_id: i64 = path
                .trim_start_matches("/me/applications/")
                .split('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let ups = db
                .store
                .uploads_for_application(app_id, false)
                .await
                .unwrap();
            assert_eq!(ups.len(), EACH, "{b}: {path}");
        }
    }
}

/// One account cannot pile up drafts or upload bytes without end: past the limits the answer
/// is a clear message in the user's language (never a 5xx), and nothing already stored is lost.
#[tokio::test]
async fn drafts_and_upload_bytes_are_limited_per_account() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let file = |i: usize| {
            let mut v = PDF.to_vec();
            v.extend_from_slice(format!("%{i:03}\n").as_bytes());
            v
        };
        let len = i64::try_from(file(0).len()).unwrap();
        db.store = db.store.clone().with_quotas(yiwang_store::Quotas {
            open_drafts: 2,
            draft_upload_bytes: 2 * len + 1,
            account_upload_bytes: 3 * len + 1,
        });
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", ID_A).await;
        let mut drafts = Vec::new();
        for _ in 0..2 {
            let res = site
                .post(&format!("/items/{ITEM}/apply"), Some(&alice), &[])
                .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
            drafts.push(location(&res));
        }
        let res = site
            .post(&format!("/items/{ITEM}/apply"), Some(&alice), &[])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("草稿已达上限"), "{b}");
        let res = site
            .post(&format!("/items/{ITEM}/apply?lang=en"), Some(&alice), &[])
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            text(res).await.contains("too many unsubmitted drafts"),
            "{b}"
        );
        assert_eq!(
            db.store.drafts_of(alice_id(&db).await).await.unwrap().len(),
            2,
            "{b}"
        );

        // Per draft: two files fit, the third does not; the two stay.
        let post = |path: String, i: usize, cookie: String| {
            let site = &site;
            async move {
                upload(
                    site,
                    &cookie,
                    &path,
                    MATERIALS[i % MATERIALS.len()],
                    "扫描件.pdf",
                    &file(i),
                    &path,
                )
                .await
            }
        };
        for i in 0..2 {
            let res = post(drafts[0].clone(), i, alice.clone()).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        }
        let res = post(drafts[0].clone(), 2, alice.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("总大小已达上限"), "{b}");
        assert_eq!(files_of(&db, &drafts[0]).await, 2, "{b}: nothing lost");
        // Per account: the second draft takes one more file, then the account is full.
        let res = post(drafts[1].clone(), 3, alice.clone()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let res = post(drafts[1].clone(), 4, format!("{alice}; lang=en")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("total size limit"), "{b}");
        assert_eq!(files_of(&db, &drafts[1]).await, 1, "{b}");
    }
}

async fn alice_id(db: &yiwang_testkit::TestDb) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT id FROM applicants ORDER BY id LIMIT 1")
        .fetch_one(db.store.pool())
        .await
        .unwrap()
        .get(0)
}

async fn files_of(db: &yiwang_testkit::TestDb, draft: &str) -> usize {
    let id: i64 = draft
        .trim_start_matches("/me/applications/")
        .parse()
        .unwrap();
    db.store
        .uploads_for_application(id, false)
        .await
        .unwrap()
        .len()
}
