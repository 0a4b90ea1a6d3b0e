//! Full online handling over real HTTP on every backend: an applicant registers, applies
//! (draft saved, errors per field, check page, declaration), submits (twice: one case), the
//! clerk sends a correction notice from the worklist, the applicant sees exactly what to fix
//! and resubmits, the clerk accepts; another applicant and staff outside the department get
//! 404; the applicant's messages and "who used my data" show what happened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod applicant_support;
mod auth_support;

use applicant_support::{
    APPLICANT_PASSWORD, ID_A, ID_B, ITEM, MATERIALS, PDF, fill_item, register, text, upload,
    upload_all,
};
use auth_support::{APPROVAL_BUREAU, PASSWORD, Site, location, serve};
use reqwest::StatusCode;
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
        // The same ID twice: a clear conflict, nothing written.
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
        assert_eq!(res.status(), StatusCode::CONFLICT, "{b}");
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
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let html = text(res).await;
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
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(text(res).await.contains("公共场所卫生检测报告"), "{b}");
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
            html.matches("扫描件.pdf").count(),
            6,
            "{b}: each material lists its file"
        );
        let html = text(site.get(&check, Some(&alice)).await).await;
        assert!(html.contains("开办小型游泳馆"), "{b}: check your answers");
        // Without the declaration: refused, nothing submitted.
        let submit = check.replace("/check", "/submit");
        let res = site.post(&submit, Some(&alice), &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
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
                    ("action", "request_correction"),
                    ("opinion", "请补正"),
                    ("version", &version),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let res = site
            .post(
                &act,
                Some(&clerk),
                &[
                    ("action", "request_correction"),
                    ("opinion", "请补正"),
                    ("version", &version),
                    ("item_label", "公共场所卫生检测报告"),
                    ("item_problem", "检测报告已超过一年，请上传一年内的报告"),
                    ("item_label", ""),
                    ("item_problem", ""),
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

        // Messages for every status change; the clerk's reads show on "who used my data".
        let html = text(site.get("/me/messages", Some(&alice)).await).await;
        assert!(html.matches(&number).count() >= 4, "{b}: {html}");
        let html = text(site.get("/me/data-use", Some(&alice)).await).await;
        assert!(html.contains("天津市津南区行政审批局"), "{b}");
        assert!(html.contains("查看办件材料"), "{b}");
        let html = text(site.get("/me/data-use", Some(&bob)).await).await;
        assert!(!html.contains(&number), "{b}");
    }
}

async fn fill_and_submit(site: &Site, cookie: &str, draft: &str) -> String {
    fill_item(site, cookie, draft).await;
    upload_all(site, cookie, draft).await;
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
        // A walk-in without an account: ID number, name and phone register them.
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
            "{b}: name and phone needed"
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
        assert_eq!(case.source, "counter", "{b}");
        assert!(case.staff_id.is_some());
        // The walk-in has no password: nobody signs in to that account yet.
        let res = site
            .post("/login", None, &[("id_number", ID_A), ("password", "!")])
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{b}");

        // The village agent applies for the same citizen (found by ID number): source 代办.
        let html = text(site.get("/console/intake", Some(&agent)).await).await;
        assert!(
            html.contains(ITEM),
            "{b}: county items are offered at the village"
        );
        let res = site
            .post(
                "/console/intake",
                Some(&agent),
                &[("id_number", ID_A), ("item", ITEM)],
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
        assert_eq!(case2.source, "agent", "{b}");
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
