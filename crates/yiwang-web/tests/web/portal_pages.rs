//! The public portal's browse pages and search over real HTTP, on every backend, with the demo
//! catalog (天津市津南区).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::portal::*;
use reqwest::StatusCode;
use std::collections::BTreeSet;
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::ImplementationFilter;
use yiwang_testkit::{backends, with_demo};

#[tokio::test]
async fn home_shows_themes_and_ways_in() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let themes = db.store.published_themes().await.unwrap();
        let (top, n) = themes.first().cloned().unwrap();
        let body = p.ok("/").await;
        assert!(body.contains("<html lang=\"zh-CN\">"));
        assert!(
            body.contains(&format!("{top}（{n} 项）")),
            "theme with count"
        );
        assert!(
            body.contains("href=\"/regions/120112\""),
            "the served district"
        );
        assert!(
            body.contains("咸水沽镇") && body.contains("href=\"/regions/120112100\""),
            "its towns"
        );
        assert!(body.contains("href=\"/departments\""));
        assert!(body.contains("href=\"/audience/person\"") && body.contains("个人办事"));
        assert!(body.contains("href=\"/audience/legal\"") && body.contains("法人办事"));
        assert!(body.contains("action=\"/search\"") && body.contains("name=\"q\""));
        // 一件事一次办 and the progress lookup are one tap from the home page.
        assert!(body.contains("href=\"/life-events\"") && body.contains("一件事一次办"));
        assert!(body.contains("href=\"/progress\""));

        let en = p.ok("/?lang=en").await;
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("For individuals") && en.contains("By theme"));
        assert!(
            en.contains("href=\"/regions/120112?lang=en\""),
            "links keep the language"
        );
        assert!(
            en.contains("name=\"lang\" value=\"en\""),
            "the search form keeps it too"
        );
        assert!(!en.contains("个人办事"));
    }
}

#[tokio::test]
async fn regions_drill_down_to_towns_and_list_their_services() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        assert!(p.ok("/regions").await.contains("href=\"/regions/12\""));
        assert!(p.ok("/regions/12").await.contains("href=\"/regions/1201\""));
        assert!(
            p.ok("/regions/1201")
                .await
                .contains("href=\"/regions/120112\"")
        );

        let county = RegionCode::parse("120112").unwrap();
        let all = codes(
            &db.store,
            ImplementationFilter {
                region: Some(county),
                ..Default::default()
            },
        )
        .await;
        assert!(all.len() > 50, "the demo fills more than one page");
        let first = p.ok("/regions/120112").await;
        assert!(first.contains("aria-label=\"您在这里\""), "breadcrumbs");
        assert!(first.contains("咸水沽镇") && first.contains("href=\"/regions/120112100\""));
        let page1 = item_links(&first);
        assert_eq!(page1.len(), 50);
        assert_eq!(page1[0], format!("/items/{}", all[0]));
        let next = next_link(&first).expect("a next page");
        assert!(next.starts_with("/regions/120112?after="));
        let second = p.ok(&next).await;
        let page2 = item_links(&second);
        assert_eq!(page1.len() + page2.len(), all.len());
        assert!(
            page2.iter().all(|l| !page1.contains(l)),
            "pages do not overlap"
        );
        assert!(next_link(&second).is_none());
        assert!(second.contains("回到第一页"));

        // A town: its own services only, and the way back up.
        let town = p.ok("/regions/120112100").await;
        let links = item_links(&town);
        assert_eq!(links.len(), 7, "the seven services of 咸水沽镇");
        assert!(town.contains("天津市津南区咸水沽镇人民政府"));
        assert!(
            town.contains("href=\"/regions/120112\""),
            "breadcrumb to the district"
        );
        assert!(!town.contains("天津市津南区行政审批局"));

        let en = p.ok("/regions/120112?lang=en").await;
        assert!(en.contains("Services handled in this area"));
        assert!(en.contains("href=\"/regions/120112100?lang=en\""));
        assert!(next_link(&en).unwrap().ends_with("&lang=en"));

        for bad in [
            "/regions/12a",
            "/regions/1234567",
            "/regions/120112?after=%25%27",
        ] {
            let (s, body) = p.get(bad).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(body.contains("<h1>"));
        }
        let (s, body) = p.get("/regions/990000").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body.contains("找不到您要的内容"));
    }
}

#[tokio::test]
async fn a_department_page_lists_its_services() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let list = p.ok("/departments").await;
        for d in db.store.departments(None).await.unwrap() {
            assert!(list.contains(&esc(&d.name)), "{} listed", d.name);
            assert!(list.contains(&format!("href=\"/departments/{}\"", d.credit_code)));
        }
        assert!(
            list.contains("<h2><a href=\"/regions/120112\">津南区</a></h2>"),
            "grouped by region"
        );
        assert!(list.contains("<h2><a href=\"/regions/120112100\">咸水沽镇</a></h2>"));

        let code = CreditCode::parse(HEALTH_COMMISSION).unwrap();
        let mine = codes(
            &db.store,
            ImplementationFilter {
                department: Some(code),
                ..Default::default()
            },
        )
        .await;
        assert!(!mine.is_empty());
        let page = p.ok(&format!("/departments/{HEALTH_COMMISSION}")).await;
        assert!(page.contains("<h1>天津市津南区卫生健康委员会</h1>"));
        assert!(page.contains("生育登记"));
        let links: Vec<String> = item_links(&page);
        let expected: Vec<String> = mine.iter().map(|c| format!("/items/{c}")).collect();
        assert_eq!(links, expected);

        let (s, _) = p.get("/departments/11120112MB1M05719X").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "check character wrong");
        let (s, _) = p.get("/departments/not-a-code").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = p.get("/departments/91350100M000100Y43").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "valid but not registered");
    }
}

#[tokio::test]
async fn theme_and_audience_filters_give_their_own_lists() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let themes = db.store.published_themes().await.unwrap();
        let themes_page = p.ok("/themes").await;
        for (t, _) in &themes {
            assert!(themes_page.contains(&esc(t)), "theme {t}");
        }
        let (theme, n) = themes[0].clone();
        let page = p.ok(&format!("/themes/{theme}")).await;
        assert!(page.contains(&format!("<h1>主题：{theme}</h1>")));
        let by_theme: BTreeSet<String> = item_links(&page).into_iter().collect();
        assert_eq!(by_theme.len() as i64, n.min(50));
        let expected = codes(
            &db.store,
            ImplementationFilter {
                theme: Some(theme.clone()),
                ..Default::default()
            },
        )
        .await;
        assert!(
            expected
                .iter()
                .all(|c| by_theme.contains(&format!("/items/{c}")))
        );

        let person: BTreeSet<String> = item_links(&p.ok("/audience/person").await)
            .into_iter()
            .collect();
        let legal: BTreeSet<String> = item_links(&p.ok("/audience/legal").await)
            .into_iter()
            .collect();
        assert!(!person.is_empty() && !legal.is_empty());
        assert_ne!(person, legal);
        assert_ne!(by_theme, legal);
        assert!(
            legal.contains(&format!("/items/{FOOD_LICENCE}")),
            "a business licence is for organisations"
        );
        assert!(!person.contains(&format!("/items/{FOOD_LICENCE}")));
        let all_person = codes(
            &db.store,
            ImplementationFilter {
                persons: Some(true),
                ..Default::default()
            },
        )
        .await;
        assert!(all_person.contains(&BIRTH_REGISTRATION.to_string()));
        assert_eq!(person.len(), all_person.len().min(50));
        assert!(
            all_person
                .iter()
                .take(50)
                .all(|c| person.contains(&format!("/items/{c}")))
        );
        assert!(!legal.contains(&format!("/items/{BIRTH_REGISTRATION}")));
        assert!(
            p.ok("/audience/legal?lang=en")
                .await
                .contains("For organisations")
        );

        let (s, _) = p.get("/themes/%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "unknown theme");
        let (s, _) = p.get(&format!("/themes/{}", "长".repeat(60))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "theme too long");
        let (s, _) = p.get("/themes/%FF%FE").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not UTF-8");
        let (s, _) = p.get("/audience/robots").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn search_finds_by_name_and_escapes_everything() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let (s, body) = p.search("生育登记").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("“生育登记”的搜索结果"));
        let links = item_links(&body);
        // The three bodies that register births are one item: the district's comes first.
        assert_eq!(
            links.first(),
            Some(&format!("/items/{BIRTH_REGISTRATION}")),
            "{links:?}"
        );
        assert!(
            body.contains("value=\"生育登记\""),
            "the query stays in the box"
        );

        for empty in ["", "   "] {
            let (s, body) = p.search(empty).await;
            assert_eq!(s, StatusCode::OK);
            assert!(
                body.contains("用自己的话说说要办的事"),
                "hint for {empty:?}"
            );
            assert!(item_links(&body).is_empty());
        }
        let (s, body) = p.get("/search").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("用自己的话说说要办的事"));

        for hostile in [
            "<script>alert(1)</script>",
            "%' OR 1=1 --",
            "_",
            "\"><img src=x>",
        ] {
            let (s, body) = p.search(hostile).await;
            assert_eq!(s, StatusCode::OK, "{hostile}");
            assert!(!body.contains("<script>alert"), "{hostile} echoed raw");
            assert!(!body.contains("<img src=x>"));
            assert!(body.contains(&esc(hostile)), "{hostile} shown escaped");
            assert!(item_links(&body).is_empty(), "{hostile} matches nothing");
        }
        let long = "生".repeat(80);
        let (s, body) = p.search(&long).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("只用了前 64 个字"));
        assert!(!body.contains(&long) && body.contains(&"生".repeat(64)));

        let (s, _) = p.get("/search?q=%E7%94%9F&start=%3Cx%3E").await;
        assert_eq!(s, StatusCode::OK, "a bad page number is the first page");
        let (_, en) = p.get("/search?q=%E7%94%9F%E8%82%B2&lang=en").await;
        assert!(en.contains("Results for"));
    }
}
