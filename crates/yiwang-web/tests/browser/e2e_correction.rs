//! A correction round in a real headless Chromium: the window clerk names one material and one
//! form field of a submitted food-licence case (ticked from the case's own lists, a reason
//! each); the citizen, on a 360 px phone, sees an upload slot and the field, answers both in
//! one form and resubmits; the clerk sees the replaced file marked and the field's new value.
//! The citizen's taps (clicks, submits, file choices) and page loads are counted and bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;

use browser_support::{
    assert_fits, click, fill, left, main_text, phone_session, serve, session, shot, staff_sign_in,
    start_driver,
};
use fantoccini::{Client, Locator};
use std::time::Duration;
use yiwang_domain::case::{ApplicantId, CaseSource};
use yiwang_domain::codes::Phone;
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::upload::FileKind;
use yiwang_domain::{CreditCode, ImplCode, RegionCode};
use yiwang_store::applicants::NewApplicant;
use yiwang_store::applications::DraftOwner;
use yiwang_store::cases::{CaseActor, CaseClock};
use yiwang_store::{Actor, NewUpload, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, backends};

const FOOD: &str = "11120112MB1W167324000123001001";
const BUREAU: &str = "11120112MB1W167324";
const STAFF_PASSWORD: &str = "Browser-Staff-2026";
const CITIZEN_ID: &str = "12011219800101002X";
const CITIZEN_PASSWORD: &str = "Shenqing-2026!";
const MATERIALS: [&str; 5] = [
    "食品经营许可申请书",
    "营业执照",
    "法定代表人（负责人）居民身份证",
    "经营场所平面布局图和设备布局、操作流程文件",
    "食品安全管理制度文本",
];

/// What the citizen did: taps (a click, a submit or a file choice) and page loads.
#[derive(Default, Debug)]
struct Count {
    taps: u32,
    loads: u32,
}

impl Count {
    /// Marks the document, so a later load is seen as a new document.
    async fn mark(c: &Client) {
        c.execute("window.__yw_mark = true;", vec![]).await.unwrap();
    }
    /// Counts a load if the document changed since the last mark, and marks the new one.
    async fn settle(&mut self, c: &Client) {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let same = c
            .execute("return window.__yw_mark === true;", vec![])
            .await
            .unwrap()
            .as_bool()
            .unwrap_or(false);
        if !same {
            self.loads += 1;
        }
        Self::mark(c).await;
    }
    async fn open(&mut self, c: &Client, url: &str) {
        c.goto(url).await.unwrap();
        self.loads += 1;
        Self::mark(c).await;
    }
    async fn tap(&mut self, c: &Client, css: &str) {
        click(c, css).await;
        self.taps += 1;
        self.settle(c).await;
    }
    async fn choose_file(&mut self, c: &Client, css: &str, path: &std::path::Path) {
        c.find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
        self.taps += 1;
    }
}

async fn setup(db: &mut yiwang_testkit::TestDb) -> (String, String) {
    yiwang_testkit::with_cases(db).await;
    let store = db.store.clone();
    store
        .create_user(
            &NewUser {
                username: "chuangkou".into(),
                display_name: "窗口（测试）".into(),
                password: STAFF_PASSWORD.into(),
                grants: vec![Grant {
                    role: Role::Clerk,
                    region: Some(RegionCode::parse("120112").unwrap()),
                    department: Some(CreditCode::parse(BUREAU).unwrap()),
                }],
            },
            &Actor::system("e2e"),
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
    // A citizen's submitted food-licence application (the apply pages have their own story).
    let a = store
        .register_applicant(
            &NewApplicant {
                id: ApplicantId::parse(CITIZEN_ID).unwrap(),
                display_name: "赵明".into(),
                legal_rep: None,
                phone: Phone::parse("13900000000").unwrap(),
                password: CITIZEN_PASSWORD.into(),
            },
            "e2e",
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
    yiwang_testkit::verify_in_person(&store, CITIZEN_ID, "赵明", "13900000000", DEMO_NOW_MS).await;
    let app = store
        .create_application(
            a.id,
            &ImplCode::parse(FOOD).unwrap(),
            CaseSource::Online,
            None,
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
    let pairs = serde_json::json!({"pairs": [
        ["business_name", "津南区小李面馆"], ["credit_code", "91350100M000100Y43"],
        ["legal_rep", "赵明"], ["legal_rep_id", CITIZEN_ID], ["phone", "13900000000"],
        ["address.region", "120112100000"], ["address.detail", "咸水沽镇津沽公路 88 号"],
        ["business_types", "hot_food"], ["area", "45"], ["online", "no"],
        ["managers[0].name", "钱芳"], ["managers[0].id_number", "11010519491231002X"],
        ["managers[0].phone", "13700137000"]
    ]});
    store
        .save_answers(app.id, DraftOwner::Applicant(a.id), &pairs, DEMO_NOW_MS)
        .await
        .unwrap();
    for (i, m) in MATERIALS.iter().enumerate() {
        let byte = u8::try_from(i + 1).unwrap();
        store
            .record_upload(
                &NewUpload {
                    owner_applicant_id: a.id,
                    application_id: app.id,
                    material_key: (*m).to_string(),
                    filename: "扫描件.pdf".into(),
                    kind: FileKind::Pdf,
                    size: 591,
                    sha256: format!("{byte:02x}").repeat(32),
                    storage_key: format!("sha256-{}", format!("{byte:02x}").repeat(32)),
                },
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
    }
    let calendar = store.calendar().await.unwrap();
    let number = store
        .submit_application(
            app.id,
            CaseActor::Applicant(&a),
            "e2e",
            CaseClock {
                now_ms: DEMO_NOW_MS,
                today: yiwang_domain::calendar::CivilDate::from_unix_ms(DEMO_NOW_MS, 8 * 3600),
                calendar: &calendar,
            },
        )
        .await
        .unwrap()
        .number;
    (serve(db).await, number.to_string())
}

#[tokio::test]
async fn a_correction_round_in_chromium() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for mut db in backends().await {
        let b = format!("{:?}", db.backend);
        let (base, number) = setup(&mut db).await;
        let dir = std::env::temp_dir().join(format!("yiwang-fix-{}-{b}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let licence = dir.join("营业执照（清晰）.pdf");
        std::fs::write(
            &licence,
            b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
        )
        .unwrap();

        // The clerk ticks one material and one field of the case, a reason each.
        let clerk = session(port, false).await;
        clerk.set_window_size(1280, 3200).await.unwrap();
        staff_sign_in(&clerk, &base, "chuangkou", STAFF_PASSWORD).await;
        clerk
            .goto(&format!("{base}/console/cases?q=小李面馆"))
            .await
            .unwrap();
        assert!(
            main_text(&clerk).await.contains(&number),
            "{b}: found by the business"
        );
        let staff_case = format!("{base}/console/cases/{number}");
        clerk.goto(&staff_case).await.unwrap();
        click(&clerk, "input[name=pick][value=\"material:营业执照\"]").await;
        fill(
            &clerk,
            "input[name=\"reason:material:营业执照\"]",
            "复印件不清晰，请上传清晰的扫描件",
        )
        .await;
        click(&clerk, "input[name=pick][value=\"field:phone\"]").await;
        fill(
            &clerk,
            "input[name=\"reason:field:phone\"]",
            "联系电话无法接通，请核对",
        )
        .await;
        fill(&clerk, "#c_opinion", "请按告知逐项补正").await;
        shot(&clerk, &format!("fix-clerk-form-{b}")).await;
        click(&clerk, "form.correction-form button[type=submit]").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let text = main_text(&clerk).await;
        assert!(text.contains("需要补正材料"), "{b}: {text}");

        // The citizen on a phone: signs in, then the correction round is counted.
        // A tall phone screen, so the screenshot shows the whole correction section.
        let phone = phone_session(port, 2400).await;
        phone.goto(&format!("{base}/login")).await.unwrap();
        fill(&phone, "#id_number", CITIZEN_ID).await;
        fill(&phone, "#password", CITIZEN_PASSWORD).await;
        click(&phone, "main form button[type=submit]").await;
        left(&phone, "/login").await;
        let case_url = format!("{base}/me/cases/{number}");
        let mut count = Count::default();
        count.open(&phone, &case_url).await;
        let text = main_text(&phone).await;
        assert!(
            text.contains("复印件不清晰") && text.contains("联系电话无法接通"),
            "{b}: {text}"
        );
        assert_fits(&phone, 360, "the correction section").await;
        shot(&phone, &format!("fix-citizen-{b}")).await;
        // The field slot holds the current answer; typing is not a tap.
        let field = phone.find(Locator::Css("#field_2")).await.unwrap();
        assert_eq!(
            field.prop("value").await.unwrap().unwrap_or_default(),
            "13900000000",
            "{b}"
        );
        count.choose_file(&phone, "#file_1", &licence).await;
        fill(&phone, "#field_2", "13700001111").await;
        count.tap(&phone, "button[name=go][value=resubmit]").await;
        let text = main_text(&phone).await;
        assert!(
            text.contains("已提交，等待受理"),
            "{b}: resubmitted: {text}"
        );
        eprintln!("correction round ({b}): {count:?}");
        assert!(count.taps <= 3, "{b}: {count:?}");
        assert!(count.loads <= 3, "{b}: {count:?}");
        assert!(
            count.loads >= 2,
            "{b}: the resubmit loaded a page: {count:?}"
        );

        // The clerk sees the replacement marked, the current file and the new phone.
        clerk.goto(&staff_case).await.unwrap();
        let text = main_text(&clerk).await;
        assert!(text.contains("营业执照（清晰）.pdf"), "{b}");
        assert!(
            text.contains("已被替换") && text.contains("当前文件"),
            "{b}: {text}"
        );
        assert!(
            text.contains("137****1111"),
            "{b}: the field's new value, masked"
        );
        shot(&clerk, &format!("fix-clerk-after-{b}")).await;
        phone.close().await.unwrap();
        clerk.close().await.unwrap();
    }
}
