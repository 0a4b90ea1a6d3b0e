//! The whole story of full online handling in a real headless Chromium, on every backend:
//! a citizen on a phone registers, finds 食品经营许可, applies (a draft saved and resumed),
//! uploads the materials, checks the answers and submits; the window clerk sends one
//! correction notice; the citizen replaces only that material and resubmits; the clerk
//! accepts; 市场监管局 and 卫健委 review in parallel; the approver decides; the clerk concludes
//! and delivers; the citizen downloads the decision and the certificate (PDF). A second test
//! takes in a walk-in at the counter through the same pages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;

use browser_support::{
    assert_fits, click, fill, left, main_text, serve, session, shot, staff_sign_in, start_driver,
};
use fantoccini::{Client, Locator};
use std::time::Duration;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::{Actor, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends};

const FOOD: &str = "11120112MB1W167324000123001001";
const STAFF_PASSWORD: &str = "Browser-Staff-2026";
const CITIZEN_ID: &str = "12011219800101002X";
const CITIZEN_PASSWORD: &str = "Shenqing-2026!";

async fn staff(db: &TestDb, name: &str, role: Role, dept: Option<&str>, region: &str) {
    db.store
        .create_user(
            &NewUser {
                username: name.into(),
                display_name: format!("{name}（测试）"),
                password: STAFF_PASSWORD.into(),
                grants: vec![Grant {
                    role,
                    region: Some(RegionCode::parse(region).unwrap()),
                    department: dept.map(|d| CreditCode::parse(d).unwrap()),
                }],
            },
            &Actor::system("e2e"),
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
}

/// A small real PDF on disk, for the file inputs.
fn pdf_file(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    )
    .unwrap();
    p
}

/// Chooses `file` for material `name` in the application form (saved with the next press).
async fn choose_in_slot(c: &Client, name: &str, file: &std::path::Path) {
    for slot in c.find_all(Locator::Css("li.slot")).await.unwrap() {
        let heading = slot
            .find(Locator::Css("h3"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if heading.starts_with(name) {
            slot.find(Locator::Css("input[type=file]"))
                .await
                .unwrap()
                .send_keys(file.to_str().unwrap())
                .await
                .unwrap();
            return;
        }
    }
    panic!(
        "no slot for {name}: {}",
        c.source().await.unwrap_or_default()
    );
}

/// Takes `action` on the case page open in `c`, with an opinion and correction lines.
async fn act(
    c: &Client,
    base: &str,
    number: &str,
    action: &str,
    opinion: &str,
    fix: Option<(&str, &str)>,
) {
    c.goto(&format!("{base}/console/cases/{number}"))
        .await
        .unwrap();
    if let Some((label, problem)) = fix {
        // The correction form of its own: tick the material, say what is wrong.
        click(c, &format!("input[name=pick][value=\"material:{label}\"]")).await;
        fill(
            c,
            &format!("input[name=\"reason:material:{label}\"]"),
            problem,
        )
        .await;
        fill(c, "#c_opinion", opinion).await;
        click(c, "form.correction-form button[type=submit]").await;
    } else {
        click(c, &format!("input[name=action][value=\"{action}\"]")).await;
        fill(c, "#opinion", opinion).await;
        click(c, "form.decision-form button[type=submit]").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = main_text(c).await;
    assert!(!text.contains("不能进行此操作"), "{action}: {text}");
}

async fn setup(db: &mut TestDb) -> String {
    yiwang_testkit::with_cases(db).await;
    let bureau = "11120112MB1W167324";
    staff(db, "chuangkou", Role::Clerk, Some(bureau), "120112").await;
    staff(
        db,
        "shichang",
        Role::Reviewer,
        Some(yiwang_app::demo::DEMO_MARKET),
        "120112",
    )
    .await;
    staff(
        db,
        "weijian",
        Role::Reviewer,
        Some(yiwang_app::demo::DEMO_HEALTH),
        "120112",
    )
    .await;
    staff(db, "shenpi", Role::Approver, Some(bureau), "120112").await;
    serve(db).await
}

#[tokio::test]
async fn the_whole_story_in_chromium() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for mut db in backends().await {
        let b = format!("{:?}", db.backend);
        let base = setup(&mut db).await;
        let dir = std::env::temp_dir().join(format!("yiwang-story-{}-{b}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scan = pdf_file(&dir, "扫描件.pdf");
        let fixed = pdf_file(&dir, "食品安全管理制度（修订）.pdf");

        // The citizen, on a phone: register.
        let phone = session(port, true).await;
        phone.goto(&format!("{base}/register")).await.unwrap();
        fill(&phone, "#name", "赵明").await;
        fill(&phone, "#id_number", CITIZEN_ID).await;
        fill(&phone, "#phone", "13900000000").await;
        fill(&phone, "#password", CITIZEN_PASSWORD).await;
        fill(&phone, "#again", CITIZEN_PASSWORD).await;
        click(&phone, "main form button[type=submit]").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(main_text(&phone).await.contains("注册申请已收到"), "{b}");
        // Verified at a counter (实名核验), then signed in.
        yiwang_testkit::verify_in_person(
            &db.store,
            CITIZEN_ID,
            "赵明",
            "13900000000",
            yiwang_testkit::DEMO_NOW_MS,
        )
        .await;
        phone.goto(&format!("{base}/login")).await.unwrap();
        fill(&phone, "#id_number", CITIZEN_ID).await;
        fill(&phone, "#password", CITIZEN_PASSWORD).await;
        click(&phone, "main form button[type=submit]").await;
        assert_eq!(left(&phone, "/login").await, "/me", "{b}");

        // Find the item and apply.
        phone.goto(&format!("{base}/items/{FOOD}")).await.unwrap();
        assert_fits(&phone, 360, "guide page").await;
        click(&phone, "form.apply button").await;
        let form_path = left(&phone, "/items/").await;
        assert!(
            form_path.starts_with("/me/applications/"),
            "{b}: {form_path}"
        );
        fill(&phone, "[name=business_name]", "津南小馆餐饮店").await;
        fill(&phone, "[name=credit_code]", "91350100M000100Y43").await;
        // Save a draft half-way and come back to it.
        click(&phone, ".form-buttons button[value=save]").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(main_text(&phone).await.contains("草稿已保存"), "{b}");
        phone.goto(&format!("{base}/me")).await.unwrap();
        click(&phone, &format!("a[href=\"{form_path}\"]")).await;
        let kept = phone
            .find(Locator::Css("[name=business_name]"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert_eq!(kept, "津南小馆餐饮店", "{b}: the draft came back");
        fill(&phone, "[name=legal_rep]", "赵明").await;
        fill(&phone, "[name=legal_rep_id]", CITIZEN_ID).await;
        fill(&phone, "[name=phone]", "13900000000").await;
        let region = phone
            .find(Locator::Css("select[name=\"address.region\"]"))
            .await;
        if let Ok(sel) = region {
            sel.select_by_index(1).await.unwrap();
        }
        fill(
            &phone,
            "[name=\"address.detail\"]",
            "咸水沽镇津沽公路 88 号",
        )
        .await;
        click(&phone, "input[name=business_types][value=hot_food]").await;
        fill(&phone, "[name=area]", "45").await;
        click(&phone, "input[name=online][value=no]").await;
        fill(&phone, "[name=\"managers[0].name\"]", "钱芳").await;
        fill(
            &phone,
            "[name=\"managers[0].id_number\"]",
            "11010519491231002X",
        )
        .await;
        fill(&phone, "[name=\"managers[0].phone\"]", "13700137000").await;
        click(&phone, ".form-buttons button[value=continue]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let check = phone.current_url().await.unwrap().path().to_string();
        if !check.ends_with("/check") {
            panic!("{b}: not on the check page: {}", main_text(&phone).await);
        }
        // The materials are still missing: the check page says so; choose them all in the
        // form and save once.
        phone.goto(&format!("{base}{form_path}")).await.unwrap();
        for m in [
            "食品经营许可申请书",
            "营业执照",
            "法定代表人（负责人）居民身份证",
            "经营场所平面布局图和设备布局、操作流程文件",
            "食品安全管理制度文本",
        ] {
            choose_in_slot(&phone, m, &scan).await;
        }
        click(&phone, ".form-buttons button[value=save]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            phone
                .find_all(Locator::Css("ol.slots .files > li"))
                .await
                .unwrap()
                .len(),
            5,
            "{b}"
        );
        shot(&phone, &format!("story-form-{b}")).await;
        phone
            .goto(&format!("{base}{form_path}/check"))
            .await
            .unwrap();
        assert_fits(&phone, 360, "check page").await;
        shot(&phone, &format!("story-check-{b}")).await;
        click(&phone, "input[name=_declaration]").await;
        click(&phone, "main form.console-form button[type=submit]").await;
        let case_path = left(&phone, "/me/applications/").await;
        assert!(
            case_path.starts_with(&format!("/me/cases/{FOOD}-")),
            "{b}: {case_path}"
        );
        let number = case_path.trim_start_matches("/me/cases/").to_string();
        assert!(main_text(&phone).await.contains("已提交，等待受理"), "{b}");

        // The window clerk: one correction notice.
        let clerk = session(port, false).await;
        staff_sign_in(&clerk, &base, "chuangkou", STAFF_PASSWORD).await;
        clerk.goto(&format!("{base}/console/cases")).await.unwrap();
        assert!(
            main_text(&clerk).await.contains(&number),
            "{b}: on the worklist"
        );
        act(
            &clerk,
            &base,
            &number,
            "request_correction",
            "请补正",
            Some(("食品安全管理制度文本", "缺少从业人员健康管理制度")),
        )
        .await;

        // The citizen replaces only that material and resubmits.
        phone.goto(&format!("{base}{case_path}")).await.unwrap();
        let text = main_text(&phone).await;
        assert!(text.contains("缺少从业人员健康管理制度"), "{b}: {text}");
        shot(&phone, &format!("story-correction-{b}")).await;
        // One slot for the named material, in the correction's own form.
        phone
            .find(Locator::Css("#file_1"))
            .await
            .unwrap()
            .send_keys(fixed.to_str().unwrap())
            .await
            .unwrap();
        click(&phone, "button[name=go][value=save]").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            main_text(&phone)
                .await
                .contains("食品安全管理制度（修订）.pdf"),
            "{b}"
        );
        click(&phone, "button[name=go][value=resubmit]").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(main_text(&phone).await.contains("已提交，等待受理"), "{b}");

        // Accept; two departments review in parallel; the approver decides.
        act(&clerk, &base, &number, "accept", "材料齐全，予以受理", None).await;
        // The case page as a clerk on a phone sees it (a township worker's handset).
        clerk.set_window_size(360, 2400).await.unwrap();
        clerk
            .goto(&format!("{base}/console/cases/{number}"))
            .await
            .unwrap();
        assert_fits(&clerk, 360, "the staff case page").await;
        let page = main_text(&clerk).await;
        assert!(
            page.contains("经营者名称") && page.contains("热食类食品制售"),
            "{b}: the clerk reads labels and option names: {page}"
        );
        assert!(!page.contains("business_name"), "{b}: no raw field names");
        shot(&clerk, &format!("staff-case-{b}")).await;
        clerk.set_window_size(1280, 900).await.unwrap();
        for (user, task) in [("shichang", "market"), ("weijian", "health")] {
            let reviewer = session(port, false).await;
            staff_sign_in(&reviewer, &base, user, STAFF_PASSWORD).await;
            act(
                &reviewer,
                &base,
                &number,
                &format!("{task}.approve"),
                "审查通过",
                None,
            )
            .await;
            reviewer.close().await.unwrap();
        }
        let approver = session(port, false).await;
        staff_sign_in(&approver, &base, "shenpi", STAFF_PASSWORD).await;
        act(
            &approver,
            &base,
            &number,
            "approve",
            "符合条件，准予许可",
            None,
        )
        .await;
        approver.close().await.unwrap();
        act(&clerk, &base, &number, "conclude", "", None).await;
        act(&clerk, &base, &number, "deliver", "", None).await;
        clerk.close().await.unwrap();

        // The citizen sees the result and downloads the decision and the certificate.
        phone.goto(&format!("{base}{case_path}")).await.unwrap();
        let text = main_text(&phone).await;
        assert!(text.contains("已送达"), "{b}: {text}");
        for title in [
            "受理通知书",
            "补正材料通知书",
            "准予行政许可决定书",
            "电子证照",
        ] {
            assert!(text.contains(title), "{b}: {title} listed: {text}");
        }
        shot(&phone, &format!("story-done-{b}")).await;
        let cookie = phone.get_named_cookie("yw_app").await.unwrap();
        let links = phone.find_all(Locator::Css("a[download]")).await.unwrap();
        assert!(links.len() >= 5, "{b}");
        let http = reqwest::Client::new();
        let mut certificate = None;
        for l in links {
            let href = l.attr("href").await.unwrap().unwrap();
            let title = l.text().await.unwrap();
            let res = http
                .get(format!("{base}{href}"))
                .header("cookie", format!("yw_app={}", cookie.value()))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{b}: {href}");
            let pdf = res.bytes().await.unwrap();
            assert!(pdf.starts_with(b"%PDF"), "{b}");
            if title.contains("电子证照") {
                certificate = Some(pdf);
            }
        }
        // The certificate names the business the form names (not the account holder), with
        // its credit code; its QR code, read as a phone reads it, opens the verification page
        // of this very server.
        let certificate = certificate.expect("the certificate is offered");
        let text: String = pdf_extract::extract_text_from_mem(&certificate)
            .unwrap()
            .split_whitespace()
            .collect();
        assert!(text.contains("津南小馆餐饮店"), "{b}: {text}");
        assert!(text.contains("91350100M000100Y43"), "{b}: {text}");
        let qr =
            crate::support::qr::decode_pdf(&certificate).expect("a QR code on the certificate");
        assert!(
            qr.starts_with(&format!("{base}/verify/")),
            "{b}: {qr} is not this server"
        );
        phone.goto(&qr).await.unwrap();
        let verify = main_text(&phone).await;
        assert!(
            verify.contains("津南区行政审批局") || verify.contains("行政审批"),
            "{b}: {verify}"
        );
        assert!(
            !verify.contains("赵明"),
            "{b}: no personal data on the verification page"
        );
        shot(&phone, &format!("story-verify-{b}")).await;
        phone.close().await.unwrap();
    }
}

#[tokio::test]
async fn counter_intake_in_chromium() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for mut db in backends().await {
        let b = format!("{:?}", db.backend);
        let base = setup(&mut db).await;
        let dir = std::env::temp_dir().join(format!("yiwang-counter-{}-{b}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scan = pdf_file(&dir, "窗口扫描.pdf");
        let c = session(port, false).await;
        staff_sign_in(&c, &base, "chuangkou", STAFF_PASSWORD).await;
        c.goto(&format!("{base}/console/intake")).await.unwrap();
        fill(&c, "#id_number", CITIZEN_ID).await;
        fill(&c, "#name", "赵明").await;
        fill(&c, "#phone", "13900000000").await;
        let item = c.find(Locator::Css("select#item")).await.unwrap();
        item.select_by_value("11120112MB1W167324000112001001")
            .await
            .unwrap();
        let document = c.find(Locator::Css("select#document")).await.unwrap();
        document.select_by_value("resident_id_card").await.unwrap();
        click(&c, "form.console-form button[type=submit]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let draft = c.current_url().await.unwrap().path().to_string();
        assert!(
            draft.starts_with("/console/intake/") && draft != "/console/intake",
            "{b}: intake refused: {}",
            main_text(&c).await
        );
        fill(
            &c,
            "[name=description]",
            "窗口代为填写：申请公共场所卫生许可",
        )
        .await;
        fill(&c, "[name=contact_name]", "赵明").await;
        fill(&c, "[name=contact_phone]", "13900000000").await;
        click(&c, ".form-buttons button[value=save]").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        for m in [
            "公共场所卫生许可申请表",
            "营业执照",
            "法定代表人（负责人）居民身份证",
            "公共场所地址方位示意图和卫生设施平面布局图",
            "公共场所卫生检测报告",
            "从业人员健康合格证明",
        ] {
            choose_in_slot(&c, m, &scan).await;
        }
        // One press saves the answers and all six files.
        click(&c, ".form-buttons button[value=save]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.goto(&format!("{base}{draft}/check")).await.unwrap();
        click(&c, "input[name=_declaration]").await;
        click(&c, "main form.console-form button[type=submit]").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let receipt = c.current_url().await.unwrap().path().to_string();
        assert!(
            receipt.starts_with("/console/intake/done/"),
            "{b}: {receipt}: {}",
            main_text(&c).await
        );
        let text = main_text(&c).await;
        assert!(text.contains("收件完成"), "{b}");
        shot(&c, &format!("counter-receipt-{b}")).await;
        let number = receipt.trim_start_matches("/console/intake/done/");
        let case = db
            .store
            .case_record(&yiwang_domain::case::CaseNumber::parse(number).unwrap())
            .await
            .unwrap();
        assert_eq!(case.source, yiwang_domain::case::CaseSource::Counter, "{b}");
        c.close().await.unwrap();
    }
}
