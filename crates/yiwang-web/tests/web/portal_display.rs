//! The reader's display choices and the guide in plain words: the language and the elderly mode
//! (长辈版) chosen once and kept in a cookie, and a guide that answers "what, where, how long,
//! how much, online?" before the catalog's official elements.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::portal::*;
use yiwang_testkit::{backends, with_demo};

fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(c: &reqwest::Client, base: &str, path: &str) -> (Vec<String>, String) {
    let res = c.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let cookies = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body = res.text().await.unwrap();
    check_page(path, &body);
    (cookies, body)
}

#[tokio::test]
async fn a_language_chosen_once_holds_on_every_later_page() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let c = cookie_client();
        let (set, body) = page(&c, &p.base, "/departments?lang=en").await;
        assert!(body.contains(r#"<html lang="en""#));
        let lang_cookie = set.iter().find(|s| s.starts_with("lang=")).unwrap();
        assert!(lang_cookie.starts_with("lang=en;"), "{lang_cookie}");
        assert!(lang_cookie.contains("Max-Age=") && lang_cookie.contains("SameSite=Lax"));
        // A link without ?lang= (typed, bookmarked or from another page) stays in English.
        let (set, body) = page(&c, &p.base, &format!("/items/{FOOD_LICENCE}")).await;
        assert!(set.is_empty(), "nothing new to remember: {set:?}");
        assert!(body.contains(r#"<html lang="en""#), "the guide in English");
        assert!(body.contains("At a glance"));
        // Switching back is remembered the same way.
        let (_, body) = page(&c, &p.base, "/?lang=zh-CN").await;
        assert!(body.contains(r#"<html lang="zh-CN""#));
        let (_, body) = page(&c, &p.base, "/regions").await;
        assert!(body.contains(r#"<html lang="zh-CN""#));
        // Nonsense is no choice: nothing remembered, the default holds.
        let (set, body) = page(&cookie_client(), &p.base, "/?lang=xx").await;
        assert!(set.is_empty(), "{set:?}");
        assert!(body.contains(r#"<html lang="zh-CN""#));
    }
}

#[tokio::test]
async fn the_elderly_mode_is_a_switch_in_the_header_kept_in_a_cookie() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let c = cookie_client();
        let guide = format!("/items/{FOOD_LICENCE}");
        // The guide is cached for anonymous readers: fill the cache in the standard view first.
        let (_, standard) = page(&c, &p.base, &guide).await;
        assert!(!standard.contains(r#"class="elder""#));
        let switch = format!(r#"href="{guide}?elder=1""#);
        assert!(standard.contains(&switch), "the header offers 长辈版");
        assert!(standard.contains("长辈版"));
        assert!(standard.contains(r#"id="h-official""#));

        let (set, home) = page(&c, &p.base, "/?elder=1").await;
        assert!(set.iter().any(|s| s.starts_with("elder=1;")), "{set:?}");
        assert!(home.contains(r#"<html lang="zh-CN" class="elder">"#));
        assert!(home.contains("标准版"), "the way back is in the header");
        // Every later page, cached or not, comes in the elderly mode.
        let (_, elder_guide) = page(&c, &p.base, &guide).await;
        assert!(elder_guide.contains(r#"class="elder""#));
        assert_ne!(
            elder_guide, standard,
            "not the standard view from the cache"
        );
        assert!(elder_guide.contains(&format!(r#"href="{guide}?elder=0""#)));
        // Simpler: the official catalog elements are marked to be left out, the header is short.
        assert!(
            elder_guide.contains(r#"<section class="elder-hide" aria-labelledby="h-official">"#)
        );
        let nav = |b: &str| b[at(b, "<nav")..at(b, "</nav>")].to_string();
        assert!(nav(&standard).contains(r#"href="/departments""#));
        assert!(!nav(&elder_guide).contains(r#"href="/departments""#));
        // A reader without the cookie still gets the standard view.
        let (_, other) = page(&cookie_client(), &p.base, &guide).await;
        assert_eq!(other, standard);
        // Switching off is remembered too.
        let (set, _) = page(&c, &p.base, "/?elder=0").await;
        assert!(set.iter().any(|s| s.starts_with("elder=0;")));
        let (_, again) = page(&c, &p.base, &guide).await;
        assert_eq!(again, standard);
    }
}

/// Byte offset of `needle` in `body`, or a failure naming it.
fn at(body: &str, needle: &str) -> usize {
    body.find(needle)
        .unwrap_or_else(|| panic!("{needle} not on the page"))
}

#[tokio::test]
async fn the_guide_says_what_where_how_long_and_cost_before_the_official_elements() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        for code in [FOOD_LICENCE, BIRTH_REGISTRATION] {
            let impl_code = yiwang_domain::ImplCode::parse(code).unwrap();
            let pi = db
                .store
                .published_implementation(&impl_code)
                .await
                .unwrap()
                .unwrap();
            let i = &pi.implementation;
            let body = p.ok(&format!("/items/{code}")).await;
            let summary = at(&body, r#"id="h-summary""#);
            assert!(summary < at(&body, "基本编码"), "{code}: summary first");
            assert!(summary < at(&body, "实施编码"));
            assert!(
                at(&body, "基本编码") > at(&body, "申请材料"),
                "{code}: codes last"
            );
            // Every mandatory material is named in the summary, in the one screen.
            let summary_end = at(&body, "</dl>\n</section>");
            for m in i.materials.iter().filter(|m| m.mandatory) {
                let name = esc(&m.name);
                let pos = body[summary..].find(&name).map(|n| n + summary);
                assert!(
                    pos.is_some_and(|n| n < summary_end),
                    "{code}: {} in the summary",
                    m.name
                );
            }
            if i.handled_without_visit() {
                assert!(body.contains("全程网上办理，不用跑腿"), "{code}");
                assert!(body.contains("网上上传电子件，无需纸质件"));
                for counter_words in ["需交纸质件", "核验原件", "当场退还", "原件 1 份"]
                {
                    assert!(
                        !body.contains(counter_words),
                        "{code}: an item done online without a visit says {counter_words}"
                    );
                }
            } else {
                assert!(
                    body.contains(&format!("需到现场 {} 次", i.visits)),
                    "{code}"
                );
                assert!(
                    body.contains("原件"),
                    "{code}: the counter still needs originals"
                );
            }
        }
    }
}
