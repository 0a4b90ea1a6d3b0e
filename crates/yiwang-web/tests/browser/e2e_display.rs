//! A real headless Chromium at phone width (360 px): every tap target on the pages a citizen
//! walks through is at least 44 px tall (WCAG 2.5.5), and as wide unless it is a link inside a
//! sentence; the elderly mode (长辈版) switched on in the header gives body type of at least 20 px
//! on every later page and keeps the targets large. Screenshots go to
//! `/tmp/yiwang-display-*.png`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support::{self, assert_fits, serve, shot, start_driver};
use fantoccini::Locator;
use yiwang_testkit::{backends, with_demo};

const FOOD_LICENCE: &str = "11120112MB1W167324000123001001";

/// Every visible target smaller than 44 px, described. A radio or check box counts by its
/// label (tapping the label chooses it); the skip link is off-screen until focused.
async fn small_targets(c: &fantoccini::Client) -> Vec<String> {
    let found = c
        .execute(
            "const out = []; \
             for (const e of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) { \
               if (e.classList.contains('skip')) continue; \
               let t = e; \
               if ((e.type === 'radio' || e.type === 'checkbox') && e.closest('label')) t = e.closest('label'); \
               const r = t.getBoundingClientRect(); \
               if (r.width === 0 && r.height === 0) continue; \
               const inline = getComputedStyle(t).display === 'inline'; \
               if (r.height < 44 || (!inline && r.width < 44)) \
                 out.push(`${t.tagName} ${Math.round(r.width)}x${Math.round(r.height)} ${(t.textContent || t.name || '').trim().slice(0, 30)}`); \
             } return out;",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The smallest computed font size of any visible text in the page's main part, in px.
async fn smallest_text_px(c: &fantoccini::Client) -> f64 {
    c.execute(
        "let m = 100; for (const e of document.querySelectorAll('main *')) { \
           if (!e.offsetParent || ![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue; \
           m = Math.min(m, parseFloat(getComputedStyle(e).fontSize)); } return m;",
        vec![],
    )
    .await
    .unwrap()
    .as_f64()
    .unwrap()
}

#[tokio::test]
async fn tap_targets_are_large_and_the_elderly_mode_is_larger_at_360px() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for db in backends().await {
        with_demo(&db).await;
        let base = serve(&db).await;
        let c = browser_support::phone_session(port, 780).await;
        let pages = [
            "/".to_string(),
            format!("/items/{FOOD_LICENCE}"),
            "/search?q=%E5%BC%80%E9%A5%AD%E9%A6%86".to_string(),
            "/life-events".to_string(),
            "/life-events/open-restaurant".to_string(),
            "/themes".to_string(),
        ];
        for elder in [false, true] {
            if elder {
                // The switch is a link in the header, like the language.
                c.goto(&format!("{base}/")).await.unwrap();
                c.find(Locator::Css("header a.mode"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
            }
            for path in &pages {
                c.goto(&format!("{base}{path}")).await.unwrap();
                let class = c
                    .execute("return document.documentElement.className", vec![])
                    .await
                    .unwrap();
                assert_eq!(class.as_str() == Some("elder"), elder, "{path}");
                assert_fits(&c, 360, path).await;
                let small = small_targets(&c).await;
                assert!(
                    small.is_empty(),
                    "{path} (elder {elder}): targets under 44 px: {small:#?}"
                );
                let font = smallest_text_px(&c).await;
                if elder {
                    assert!(font >= 20.0, "{path}: elderly mode has {font}px text");
                } else {
                    assert!(font >= 14.0, "{path}: {font}px text");
                }
            }
            let mode = if elder { "elder" } else { "standard" };
            for (name, path) in [
                ("home", "/".to_string()),
                ("guide", format!("/items/{FOOD_LICENCE}")),
            ] {
                c.goto(&format!("{base}{path}")).await.unwrap();
                shot(&c, &format!("display-{name}-{mode}")).await;
            }
        }
        c.close().await.unwrap();
    }
}
