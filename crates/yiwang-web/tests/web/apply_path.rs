//! The citizen's application path over HTTP (issue #15, items 3, 4, 6, 7, 10), on every
//! backend: 在线申请 before signing in comes back to the form; a new draft is pre-filled from
//! the account (and says so, and the use is audited); the answers and every chosen file go in
//! one post, a refused file costs only its own slot, and every post redirects (a reload never
//! posts again) to the place that matters, with an error summary linking to the failing slot
//! or field; file sizes are readable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::applicant::{APPLICANT_PASSWORD, FOOD, ID_A, PDF, register, text};
use crate::support::auth::{TOWNSHIP, location, serve};
use crate::support::named_cookie;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use yiwang_store::AuditFilter;
use yiwang_testkit::backends;

/// Posts the application form as the page does: multipart, answers and files together.
async fn post_form(
    site: &crate::support::TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> reqwest::Response {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (input, name, bytes) in files {
        form = form.part(
            input.to_string(),
            Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    site.client
        .post(site.url(path))
        .header(reqwest::header::ORIGIN, site.base.clone())
        .header(reqwest::header::COOKIE, cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The path and query of a redirect, without its fragment; and the fragment.
fn split(loc: &str) -> (String, String) {
    match loc.split_once('#') {
        Some((p, f)) => (p.to_string(), f.to_string()),
        None => (loc.to_string(), String::new()),
    }
}

/// The `value` of input `name` in `html`.
fn value_of(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.split("value=\"").nth(1)?;
    Some(v.split('"').next()?.to_string())
}

const ANSWERS: [(&str, &str); 6] = [
    ("business_name", "津南区小李面馆"),
    ("credit_code", "91350100M000100Y43"),
    ("address.region", TOWNSHIP),
    ("address.detail", "咸水沽镇津沽公路 88 号"),
    ("area", "45"),
    ("managers[0].name", "钱芳"),
];

#[tokio::test]
async fn one_form_keeps_answers_and_files_and_points_at_what_failed() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", ID_A).await;

        // 在线申请: a draft pre-filled from the account, labelled so, the use audited.
        let res = site
            .post(&format!("/items/{FOOD}/apply"), Some(&alice), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let form_path = location(&res);
        let id = form_path
            .trim_start_matches("/me/applications/")
            .to_string();
        let html = text(site.get(&form_path, Some(&alice)).await).await;
        assert_eq!(value_of(&html, "legal_rep").as_deref(), Some("张三"), "{b}");
        assert_eq!(
            value_of(&html, "legal_rep_id").as_deref(),
            Some(ID_A),
            "{b}"
        );
        assert_eq!(
            value_of(&html, "phone").as_deref(),
            Some("13800138000"),
            "{b}"
        );
        assert_eq!(
            value_of(&html, "business_name").as_deref(),
            Some(""),
            "{b}: a person's account has no business name to give"
        );
        assert_eq!(html.matches("来自账户").count(), 3, "{b}");
        let audit = db
            .store
            .audit_entries(&AuditFilter {
                object_prefix: Some(format!("application:{id}")),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.event.action == "application.prefill"),
            "{b}: the use of the account's data is audited"
        );
        // One form holds the answers and every material's file input; sizes and types at
        // each slot.
        assert_eq!(
            html.matches("enctype=\"multipart/form-data\"").count(),
            1,
            "{b}"
        );
        for n in 1..=6 {
            assert!(
                html.contains(&format!("name=\"file-{n}\"")),
                "{b}: slot {n}"
            );
            assert!(html.contains(&format!("id=\"m-{n}\"")), "{b}: anchor {n}");
        }
        // Five mandatory materials and an optional one (委托书).
        assert_eq!(html.matches("PDF、JPEG、PNG、OFD").count(), 6, "{b}");
        assert!(html.contains("20 MB"), "{b}");

        // Answers typed, two files chosen, one of them a renamed program: the answers and
        // the good file are kept, the bad one is its slot's error, and the post redirects.
        let mut fields: Vec<(&str, &str)> = ANSWERS.to_vec();
        // As a browser posts it: every field, the pre-filled ones too.
        fields.push(("legal_rep", "张三丰"));
        fields.push(("legal_rep_id", ID_A));
        fields.push(("phone", "13800138000"));
        fields.push(("_action", "save"));
        let res = post_form(
            &site,
            &alice,
            &form_path,
            &fields,
            &[
                ("file-1", "申请书.pdf", PDF),
                (
                    "file-2",
                    "营业执照.pdf",
                    b"MZ\x90\x00\x03\x00\x00\x00program",
                ),
                ("file-3", "", b""),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let (page, anchor) = split(&location(&res));
        assert!(page.starts_with(&format!("{form_path}?")), "{b}: {page}");
        assert_eq!(anchor, "error-summary", "{b}");
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert_eq!(
            value_of(&html, "business_name").as_deref(),
            Some("津南区小李面馆"),
            "{b}"
        );
        assert_eq!(
            value_of(&html, "legal_rep").as_deref(),
            Some("张三丰"),
            "{b}: what was typed over the account's value stays"
        );
        assert_eq!(
            html.matches("来自账户").count(),
            2,
            "{b}: a changed value is no longer labelled as the account's"
        );
        assert!(html.contains("申请书.pdf"), "{b}: the good file kept");
        assert!(
            html.contains(&format!("({} B)", PDF.len())),
            "{b}: a small file's size in bytes"
        );
        assert!(!html.contains("营业执照.pdf"), "{b}");
        let summary = html.split("id=\"error-summary\"").nth(1).unwrap_or("");
        assert!(summary.contains("href=\"#m-2\""), "{b}: {summary}");
        assert!(summary.contains("营业执照"), "{b}");
        let slot2 = html
            .split("id=\"m-2\"")
            .nth(1)
            .unwrap()
            .split("</li>")
            .next()
            .unwrap();
        assert!(
            slot2.contains("field-error"),
            "{b}: the slot shows its own error"
        );
        assert!(slot2.contains("aria-invalid=\"true\""), "{b}");
        // A reload shows the same thing and posts nothing.
        let again = text(site.get(&page, Some(&alice)).await).await;
        assert_eq!(
            again.matches("申请书.pdf").count(),
            html.matches("申请书.pdf").count()
        );

        // One good file alone: back at its slot, which says it is uploaded.
        let mut fields: Vec<(&str, &str)> = ANSWERS.to_vec();
        fields.push(("_action", "save"));
        let res = post_form(
            &site,
            &alice,
            &form_path,
            &fields,
            &[("file-2", "营业执照.pdf", PDF)],
        )
        .await;
        let (page, anchor) = split(&location(&res));
        assert_eq!(anchor, "m-2", "{b}");
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert!(!html.contains("id=\"error-summary\""), "{b}");
        assert!(html.contains("已保存，上传了 1 个文件"), "{b}");

        // "Continue" with a bad phone: back to the summary, which links the field; the bad
        // value and everything else kept; missing materials named at their slots.
        let mut fields: Vec<(&str, &str)> = ANSWERS.to_vec();
        fields.push(("phone", "12345"));
        fields.push(("_action", "continue"));
        let res = post_form(&site, &alice, &form_path, &fields, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let (page, anchor) = split(&location(&res));
        assert_eq!(anchor, "error-summary", "{b}");
        let html = text(site.get(&page, Some(&alice)).await).await;
        let summary = html.split("id=\"error-summary\"").nth(1).unwrap_or("");
        assert!(summary.contains("href=\"#f-phone\""), "{b}: {summary}");
        assert!(summary.contains("href=\"#m-3\""), "{b}: a missing material");
        assert!(!summary.contains("href=\"#m-1\""), "{b}: uploaded");
        assert_eq!(value_of(&html, "phone").as_deref(), Some("12345"), "{b}");
        assert_eq!(value_of(&html, "area").as_deref(), Some("45"), "{b}");

        // Removing a file is a button of the same form: the answers typed with it are saved.
        let upload_id = html
            .split("name=\"_drop_file\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        let mut fields: Vec<(&str, &str)> = ANSWERS.to_vec();
        fields.push(("remarks", "周一休息"));
        fields.push(("_drop_file", &upload_id));
        let res = post_form(&site, &alice, &form_path, &fields, &[]).await;
        let (page, anchor) = split(&location(&res));
        assert_eq!(anchor, "h-materials", "{b}");
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert!(html.contains("周一休息"), "{b}");
        assert!(!html.contains("申请书.pdf"), "{b}: removed");
    }
}

#[tokio::test]
async fn signing_in_from_the_guide_lands_on_the_form() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", ID_A).await;
        // 在线申请 without a session: to the sign-in page, which comes back to the item's
        // application (not to the guide that asked to sign in).
        let res = site.post(&format!("/items/{FOOD}/apply"), None, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let login = location(&res);
        let next = format!("/items/{FOOD}/apply");
        assert!(login.starts_with("/login?next="), "{b}: {login}");
        let res = site
            .post(
                "/login",
                None,
                &[
                    ("id_number", ID_A),
                    ("password", APPLICANT_PASSWORD),
                    ("next", &next),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(location(&res), next, "{b}");
        let cookie = named_cookie(&res, "yw_app").unwrap();
        let res = site.get(&next, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let form = location(&res);
        assert!(form.starts_with("/me/applications/"), "{b}: {form}");
        // Coming back again resumes the same draft, typed answers untouched.
        let res = site
            .post(
                &form,
                Some(&cookie),
                &[("business_name", "津南区小李面馆"), ("_action", "save")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let res = site.get(&next, Some(&alice)).await;
        assert_eq!(location(&res), form, "{b}: the same draft");
        let html = text(site.get(&form, Some(&cookie)).await).await;
        assert_eq!(
            value_of(&html, "business_name").as_deref(),
            Some("津南区小李面馆"),
            "{b}"
        );
        // The header offers a sign-out to a signed-in applicant.
        assert!(html.contains("class=\"nav-logout\""), "{b}");
        let home = text(site.get("/", None).await).await;
        assert!(
            !home.contains("class=\"nav-logout\""),
            "{b}: nobody to sign out"
        );
        // On the portal's pages too, the cached guide included, and the cache serves the
        // anonymous reader a page without anybody's name.
        let guide = format!("/items/{FOOD}");
        let anonymous = text(site.get(&guide, None).await).await;
        let signed_in = text(site.get(&guide, Some(&cookie)).await).await;
        assert!(signed_in.contains("class=\"nav-logout\""), "{b}");
        assert!(signed_in.contains("我的办事 (张*)"), "{b}");
        let again = text(site.get(&guide, None).await).await;
        assert_eq!(again, anonymous, "{b}: the shared page names nobody");
        assert!(!again.contains("nav-logout"), "{b}");
    }
}

#[tokio::test]
async fn a_post_over_the_size_limit_keeps_the_answers_and_the_files_before_it() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        // A whole-post limit of 64 KiB: the second file does not fit.
        let site = crate::support::auth::serve_with(&db, true, false, |mut s| {
            let mut config = (*s.config).clone();
            config.max_upload_bytes = 64 * 1024;
            s.config = std::sync::Arc::new(config);
            s
        })
        .await;
        let alice = register(&site, "张三", ID_A).await;
        let res = site
            .post(&format!("/items/{FOOD}/apply"), Some(&alice), &[])
            .await;
        let form_path = location(&res);
        let mut big = PDF.to_vec();
        big.resize(200 * 1024, b' ');
        let mut fields: Vec<(&str, &str)> = ANSWERS.to_vec();
        fields.push(("_action", "continue"));
        let res = post_form(
            &site,
            &alice,
            &form_path,
            &fields,
            &[
                ("file-1", "申请书.pdf", PDF),
                ("file-2", "营业执照.pdf", &big),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let (page, anchor) = split(&location(&res));
        assert_eq!(anchor, "error-summary", "{b}: {page}");
        let html = text(site.get(&page, Some(&alice)).await).await;
        assert_eq!(
            value_of(&html, "business_name").as_deref(),
            Some("津南区小李面馆"),
            "{b}: the answers are kept"
        );
        assert!(
            html.contains("申请书.pdf"),
            "{b}: the file before the cut is kept"
        );
        assert!(!html.contains("营业执照.pdf"), "{b}");
        let summary = html.split("id=\"error-summary\"").nth(1).unwrap_or("");
        assert!(summary.contains("href=\"#m-2\""), "{b}: {summary}");
        assert!(summary.contains("请重新选择"), "{b}: {summary}");
    }
}
