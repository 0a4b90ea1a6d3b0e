//! The clean path of issue #15, counted: a citizen on a 360 px phone goes from the home page's
//! search box to the case number of 食品经营许可（新办） with its five materials, signing in on
//! the way, in real headless Chromium. Every tap (a click, a submit, a file-picker choice;
//! typing is not one) and every page load is counted, and the counts are asserted: at most 25
//! taps and 10 page loads. On the way: the sign-in comes back to the form (not the guide), the
//! form is pre-filled from the account, and a save with files keeps every typed answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;

use browser_support::{assert_fits, main_text, serve, session, shot, start_driver};
use fantoccini::{Client, Locator};
use std::time::Duration;
use yiwang_testkit::backends;

const FOOD: &str = "11120112MB1W167324000123001001";
const CITIZEN_ID: &str = "12011219800101002X";
const CITIZEN_NAME: &str = "赵明";
const CITIZEN_PHONE: &str = "13900000000";
const PASSWORD: &str = "Shenqing-2026!";
const MATERIALS: [&str; 5] = [
    "食品经营许可申请书",
    "营业执照",
    "法定代表人（负责人）居民身份证",
    "经营场所平面布局图和设备布局、操作流程文件",
    "食品安全管理制度文本",
];

/// What the citizen did, counted as they would feel it.
#[derive(Default)]
struct Counter {
    taps: u32,
    loads: u32,
    log: Vec<String>,
}

impl Counter {
    /// Marks the current document; a page load replaces it (and the mark with it).
    async fn mark(c: &Client) {
        c.execute("window.__ywMark = 1; return null;", vec![])
            .await
            .unwrap();
    }

    async fn marked(c: &Client) -> bool {
        c.execute(
            "return window.__ywMark === 1 && document.readyState === 'complete';",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
    }

    /// Whether the document was replaced since [`Counter::mark`] (waits up to `wait` for it).
    async fn loaded_since_mark(c: &Client, wait: Duration) -> bool {
        let until = std::time::Instant::now() + wait;
        loop {
            let fresh = c
                .execute(
                    "return window.__ywMark !== 1 && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if fresh {
                return true;
            }
            if std::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Counts what happened after one tap: a page load is measured, not assumed. A tap that
    /// should navigate waits for it (and fails without it).
    async fn after(&mut self, c: &Client, what: &str, navigates: bool) {
        self.taps += 1;
        let wait = if navigates {
            Duration::from_secs(10)
        } else {
            Duration::from_millis(150)
        };
        let loaded = Self::loaded_since_mark(c, wait).await;
        assert_eq!(
            loaded,
            navigates,
            "{what}: a page load was {}expected",
            if navigates { "" } else { "not " }
        );
        if loaded {
            self.loads += 1;
            // The new document carries no mark yet.
            assert!(!Self::marked(c).await);
        }
        self.log.push(format!(
            "{what}{}",
            if loaded { " → page load" } else { "" }
        ));
    }

    /// Clicks `css` (a link, a button, a box).
    async fn tap(&mut self, c: &Client, css: &str, navigates: bool) {
        Self::mark(c).await;
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .click()
            .await
            .unwrap();
        self.after(c, css, navigates).await;
    }

    /// Picks option `index` of a select (one tap on the list, the choice made in it).
    async fn choose_option(&mut self, c: &Client, css: &str, index: usize) {
        Self::mark(c).await;
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .select_by_index(index)
            .await
            .unwrap();
        self.after(c, css, false).await;
    }

    /// A file-picker choice.
    async fn pick_file(&mut self, c: &Client, css: &str, file: &std::path::Path) {
        Self::mark(c).await;
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        self.after(c, css, false).await;
    }
}

/// Typing is not a tap.
async fn type_into(c: &Client, css: &str, text: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"));
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

async fn value_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The file input of material `name` on the form (its slot's heading names it).
async fn slot_input(c: &Client, name: &str) -> String {
    for slot in c.find_all(Locator::Css("li.slot")).await.unwrap() {
        let heading = slot
            .find(Locator::Css("h3"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if heading.starts_with(name) {
            let id = slot.attr("id").await.unwrap().unwrap_or_default();
            return format!("#{id} input[type=file]");
        }
    }
    panic!("no slot for {name}: {}", main_text(c).await);
}

fn pdf(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    )
    .unwrap();
    p
}

/// A registered and verified citizen (registration is not part of the counted path).
async fn citizen(db: &yiwang_testkit::TestDb, base: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .post(format!("{base}/register"))
        .header(reqwest::header::ORIGIN, base)
        .form(&[
            ("name", CITIZEN_NAME),
            ("id_number", CITIZEN_ID),
            ("phone", CITIZEN_PHONE),
            ("password", PASSWORD),
            ("again", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "register: {}", res.status());
    yiwang_testkit::verify_in_person(
        &db.store,
        CITIZEN_ID,
        CITIZEN_NAME,
        CITIZEN_PHONE,
        yiwang_testkit::DEMO_NOW_MS,
    )
    .await;
}

#[tokio::test]
async fn search_to_case_number_in_few_taps_at_360_px() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for mut db in backends().await {
        let b = format!("{:?}", db.backend);
        yiwang_testkit::with_cases(&mut db).await;
        let base = serve(&db).await;
        citizen(&db, &base).await;
        let dir = std::env::temp_dir().join(format!("yiwang-clean-{}-{b}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files: Vec<_> = MATERIALS
            .iter()
            .enumerate()
            .map(|(i, _)| pdf(&dir, &format!("材料{}.pdf", i + 1)))
            .collect();

        let c = session(port, true).await;
        let mut n = Counter::default();
        // The start: the home page, where the search box is (not counted).
        c.goto(&format!("{base}/")).await.unwrap();

        // Search → the item → its guide → 在线申请 → sign in.
        type_into(&c, "#q", "食品经营许可").await;
        n.tap(&c, "form.search button[type=submit]", true).await;
        n.tap(&c, &format!("main a[href^=\"/items/{FOOD}\"]"), true)
            .await;
        assert_fits(&c, 360, "guide").await;
        n.tap(&c, "form.apply button", true).await;
        assert_eq!(c.current_url().await.unwrap().path(), "/login", "{b}");
        type_into(&c, "#id_number", CITIZEN_ID).await;
        type_into(&c, "#password", PASSWORD).await;
        n.tap(&c, "main form button[type=submit]", true).await;

        // Back on the item's form, not on the guide; pre-filled from the account.
        let form_path = c.current_url().await.unwrap().path().to_string();
        assert!(
            form_path.starts_with("/me/applications/"),
            "{b}: signed in to {form_path}"
        );
        assert_fits(&c, 360, "form").await;
        assert_eq!(value_of(&c, "[name=legal_rep]").await, CITIZEN_NAME, "{b}");
        assert_eq!(value_of(&c, "[name=legal_rep_id]").await, CITIZEN_ID, "{b}");
        assert_eq!(value_of(&c, "[name=phone]").await, CITIZEN_PHONE, "{b}");
        assert!(
            main_text(&c).await.contains("来自账户"),
            "{b}: pre-filled fields say where their value came from"
        );
        assert!(
            c.find(Locator::Css("header form.nav-logout button"))
                .await
                .is_ok(),
            "{b}: a sign-out in the header"
        );

        // Half the form, two files chosen, one save: everything typed comes back.
        type_into(&c, "[name=business_name]", "津南区小李面馆").await;
        type_into(&c, "[name=credit_code]", "91350100M000100Y43").await;
        n.choose_option(&c, "select[name=\"address.region\"]", 1)
            .await;
        type_into(&c, "[name=\"address.detail\"]", "咸水沽镇津沽公路 88 号").await;
        for (m, f) in MATERIALS.iter().zip(&files).take(2) {
            let input = slot_input(&c, m).await;
            n.pick_file(&c, &input, f).await;
        }
        n.tap(&c, ".form-buttons button[value=save]", true).await;
        let after_save = c.current_url().await.unwrap();
        assert_eq!(after_save.path(), form_path, "{b}: back on the form");
        assert_eq!(
            after_save.fragment(),
            Some("h-materials"),
            "{b}: back at the materials, not at the top"
        );
        for (css, want) in [
            ("[name=business_name]", "津南区小李面馆"),
            ("[name=credit_code]", "91350100M000100Y43"),
            ("[name=\"address.detail\"]", "咸水沽镇津沽公路 88 号"),
            ("[name=legal_rep]", CITIZEN_NAME),
        ] {
            assert_eq!(
                value_of(&c, css).await,
                want,
                "{b}: {css} kept across the upload"
            );
        }
        assert_ne!(
            value_of(&c, "select[name=\"address.region\"]").await,
            "",
            "{b}: the region kept"
        );
        let text = main_text(&c).await;
        assert!(
            text.contains("材料1.pdf") && text.contains("材料2.pdf"),
            "{b}: {text}"
        );
        assert!(
            text.contains("B)"),
            "{b}: sizes in bytes for small files: {text}"
        );
        assert!(!text.contains("(0 KB)"), "{b}: {text}");

        // The rest of the form and the other three files, then on to the check.
        n.tap(&c, "input[name=business_types][value=hot_food]", false)
            .await;
        type_into(&c, "[name=area]", "45").await;
        n.tap(&c, "input[name=online][value=no]", false).await;
        type_into(&c, "[name=\"managers[0].name\"]", "钱芳").await;
        type_into(&c, "[name=\"managers[0].id_number\"]", "11010519491231002X").await;
        type_into(&c, "[name=\"managers[0].phone\"]", "13700137000").await;
        for (m, f) in MATERIALS.iter().zip(&files).skip(2) {
            let input = slot_input(&c, m).await;
            n.pick_file(&c, &input, f).await;
        }
        shot(&c, &format!("clean-form-{b}")).await;
        n.tap(&c, ".form-buttons button[value=continue]", true)
            .await;
        let check = c.current_url().await.unwrap().path().to_string();
        assert_eq!(
            check,
            format!("{form_path}/check"),
            "{b}: {}",
            main_text(&c).await
        );
        let text = main_text(&c).await;
        for typed in [
            "津南区小李面馆",
            "91350100M000100Y43",
            "咸水沽镇津沽公路 88 号",
            "钱芳",
        ] {
            assert!(
                text.contains(typed),
                "{b}: {typed} on the check page: {text}"
            );
        }
        for i in 1..=5 {
            assert!(
                text.contains(&format!("材料{i}.pdf")),
                "{b}: file {i}: {text}"
            );
        }
        assert!(!text.contains("还没有上传"), "{b}: {text}");
        assert_fits(&c, 360, "check").await;

        // Declare and submit: the case number.
        n.tap(&c, "input[name=_declaration]", false).await;
        n.tap(&c, "main form.console-form button[type=submit]", true)
            .await;
        let case_path = c.current_url().await.unwrap().path().to_string();
        assert!(
            case_path.starts_with(&format!("/me/cases/{FOOD}-")),
            "{b}: {case_path}: {}",
            main_text(&c).await
        );
        let number = case_path.trim_start_matches("/me/cases/");
        assert!(
            main_text(&c).await.contains(number),
            "{b}: the number shown"
        );
        shot(&c, &format!("clean-case-{b}")).await;

        let log = n.log.join("\n");
        assert!(n.taps <= 25, "{b}: {} taps:\n{log}", n.taps);
        assert!(n.loads <= 10, "{b}: {} page loads:\n{log}", n.loads);
        // The path as designed (so a change that adds steps is seen): 16 taps, 7 page loads.
        assert_eq!((n.taps, n.loads), (16, 7), "{b}:\n{log}");
        c.close().await.unwrap();
    }
}
