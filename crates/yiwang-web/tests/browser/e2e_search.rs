//! A real headless Chromium at phone width (360 px) reads the search results for colloquial
//! queries and a 一件事 page with its answers: the expected items are shown, nothing scrolls
//! sideways, and the type stays large. Screenshots go to `/tmp/search_*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;

use crate::support::{Options, spawn_app_with};
use browser_support::start_driver;
use fantoccini::Locator;
use yiwang_testkit::{backends, with_demo};

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn session(port: u16, height: u32) -> fantoccini::Client {
    browser_support::phone_session(port, height).await
}

/// Page width beyond the 360 px screen (0 when nothing scrolls sideways) and the smallest
/// computed font size of visible text, in px.
async fn layout(c: &fantoccini::Client) -> (i64, f64) {
    let over = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    let smallest = c
        .execute(
            "let m = 100; for (const e of document.querySelectorAll('main *')) { \
               if (!e.offsetParent || ![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue; \
               m = Math.min(m, parseFloat(getComputedStyle(e).fontSize)); } return m;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    (over, smallest)
}

async fn main_text(c: &fantoccini::Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn shoot(c: &fantoccini::Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(format!("/tmp/search_{name}.png"), png).unwrap();
}

#[tokio::test]
async fn search_results_and_a_life_event_at_360_px_in_chromium() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for db in backends().await {
        let b = format!("{:?}", db.backend).to_lowercase();
        with_demo(&db).await;
        let options = Options {
            wall_clock: true,
            ..Options::default()
        };
        let base = spawn_app_with(&db, options, |s| s).await.base;
        let c = session(port, 1400).await;

        // Colloquial queries: the right item first.
        for (name, q, first) in [
            ("lost_id", "身份证丢了", "居民身份证补领"),
            ("restaurant", "我想开一家餐馆", "个体工商户设立登记"),
        ] {
            c.goto(&format!("{base}/search?q={}&region=120112000000", enc(q)))
                .await
                .unwrap();
            let first_hit = c
                .find(Locator::Css("ol.items li a"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                first_hit.contains(first),
                "{b} {q}: first hit {first_hit:?}"
            );
            let text = main_text(&c).await;
            assert!(text.contains("匹配："), "{b} {q}: says why it matched");
            if name == "restaurant" {
                assert!(
                    text.contains("食品经营许可（新办）"),
                    "{b}: the licence too"
                );
            }
            let (over, smallest) = layout(&c).await;
            shoot(&c, &format!("{name}_{b}")).await;
            assert!(over <= 0, "{b} {q}: {over}px of sideways scrolling");
            assert!(smallest >= 14.0, "{b} {q}: text as small as {smallest}px");
        }
        let (_, events) = {
            c.goto(&format!("{base}/search?q={}", enc("我想开一家餐馆")))
                .await
                .unwrap();
            ((), main_text(&c).await)
        };
        assert!(
            events.contains("一件事一次办"),
            "{b}: offers the life event"
        );

        // The life event: answer by clicking, as a person would.
        c.goto(&format!("{base}/life-events/open-restaurant"))
            .await
            .unwrap();
        for v in ["individual", "yes"] {
            c.find(Locator::Css(&format!("input[type=radio][value={v}]")))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        c.find(Locator::Css("form.questionnaire button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait().for_element(Locator::Id("plan-h")).await.unwrap();
        let text = main_text(&c).await;
        for item in [
            "个体工商户设立登记",
            "食品经营许可（新办）",
            "公共场所卫生许可",
        ] {
            assert!(text.contains(item), "{b}: {item} in the plan");
        }
        assert!(
            !text.contains("企业设立登记"),
            "{b}: the company route is not for an individual"
        );
        assert!(text.contains("需要准备的材料（合并去重）"), "{b}");
        assert!(text.contains("用于："), "{b}: materials name their items");
        let (over, smallest) = layout(&c).await;
        shoot(&c, &format!("life_event_{b}")).await;
        assert!(
            over <= 0,
            "{b}: life event page scrolls sideways by {over}px"
        );
        assert!(
            smallest >= 14.0,
            "{b}: life event text as small as {smallest}px"
        );
        c.close().await.unwrap();
    }
}
