//! Search and 一件事 over real HTTP on every backend: plain-Chinese queries find the right
//! item, hostile queries never give a 5xx or a parser error, the life-event questionnaire
//! selects items and merges their materials, and the API answers in its documented shape.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::portal::serve;
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

#[tokio::test]
async fn plain_chinese_finds_items_and_hostile_queries_are_harmless() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let (s, body) = p.get(&format!("/search?q={}", enc("准生证"))).await;
        assert_eq!(s, 200);
        assert!(body.contains("生育登记"), "synonym");
        assert!(
            body.contains("按“生育登记”查找"),
            "tells how it read the query"
        );
        let (_, body) = p.get(&format!("/search?q={}", enc("我想开一家餐馆"))).await;
        assert!(body.contains("食品经营许可（新办）") && body.contains("个体工商户设立登记"));
        assert!(
            body.contains("/life-events/open-restaurant"),
            "offers the life event"
        );
        let (_, body) = p.get("/search?q=shebaoka").await;
        assert!(body.contains("社会保障卡申领"));
        let (_, body) = p.get(&format!("/search?q={}", enc("營業執照"))).await;
        assert!(body.contains("个体工商户设立登记"));
        // 10,000 characters (ASCII, so the URL stays within what HTTP clients send).
        let long = "a".repeat(10_000);
        let long_han = "生".repeat(200);
        let emoji = "😀🎉🙈";
        let hostile = [
            "",
            "   ",
            long.as_str(),
            emoji,
            "\u{1}\u{7}\u{1b}[31m",
            "\"",
            "*",
            ":",
            "(",
            "name:(\"x\" OR *)",
            "'; DROP TABLE implementations; --",
            "1' OR '1'='1",
            "<script>alert(1)</script>",
        ];
        // The platform refuses URLs over its limit with a clear 414 before any handler runs.
        let (s, _) = p.get(&format!("/search?q={}", enc(&long))).await;
        assert_eq!(s, 414);
        for h in hostile.into_iter().filter(|h| h.len() < 2_000) {
            let (s, body) = p.get(&format!("/search?q={}", enc(h))).await;
            assert_eq!(s, 200, "{h:?}");
            assert!(!body.contains("<script>alert"));
            assert!(!body.to_lowercase().contains("syntax"), "{h:?}");
            let res = p
                .http
                .get(format!("{}/api/v1/search?q={}", p.base, enc(h)))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "API {h:?}");
            let v: serde_json::Value = res.json().await.unwrap();
            assert!(v["hits"].is_array());
        }
        let (_, body) = p.get(&format!("/search?q={}", enc(emoji))).await;
        assert!(body.contains("没有可以搜索的文字"));
        let (_, body) = p.get(&format!("/search?q={}", enc(&long_han))).await;
        assert!(body.contains("只用了前 64 个字"));
    }
}

#[tokio::test]
async fn api_search_filters_regions_and_explains() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let get = |q: String| {
            let http = p.http.clone();
            let url = format!("{}/api/v1/search?{q}", p.base);
            async move {
                let r = http.get(url).send().await.unwrap();
                (
                    r.status().as_u16(),
                    r.json::<serde_json::Value>().await.unwrap(),
                )
            }
        };
        // 小站镇 has its own 低保 office: its implementation represents the item there.
        let (s, v) = get(format!(
            "q={}&region=120112102000&facets=true&debug=true",
            enc("低保")
        ))
        .await;
        assert_eq!(s, 200);
        let first = &v["hits"][0];
        assert_eq!(first["name"], "最低生活保障审批");
        assert_eq!(first["region"], "120112102000");
        assert_eq!(first["region_match"], "same");
        assert!(first["explanation"].is_object());
        assert!(v["facet_distribution"]["department"].is_array());
        assert_eq!(v["query"]["expansions"][0]["kind"], "synonym");
        // 双新街道 has none: the district's comes, other towns' do not.
        let (_, v) = get(format!("q={}&region=120112001000", enc("最低生活保障审批"))).await;
        assert_eq!(v["hits"][0]["region"], "120112000000");
        assert_eq!(v["hits"][0]["region_match"], "parent");
        for bad in [
            "region=12x",
            "limit=0",
            "limit=x",
            "offset=999",
            "audience=robots",
            "facets=maybe",
        ] {
            let (s, v) = get(format!("q=a&{bad}")).await;
            assert_eq!(s, 422, "{bad}: {v}");
            assert!(v["error"]["code"].is_string());
        }
    }
}

#[tokio::test]
async fn life_event_questionnaire_selects_items_and_merges_materials() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let (s, body) = p.get("/life-events").await;
        assert_eq!(s, 200);
        assert!(body.contains("开办餐饮店") && body.contains("新生儿出生"));
        let (s, body) = p.get("/life-events/open-restaurant").await;
        assert_eq!(s, 200);
        assert!(body.contains("type=\"radio\"") && !body.contains("需要准备的材料"));
        let (_, body) = p
            .get("/life-events/open-restaurant?form=individual&venue=no")
            .await;
        assert!(body.contains("个体工商户设立登记") && body.contains("食品经营许可（新办）"));
        assert!(!body.contains("公共场所卫生许可"), "not asked for");
        assert!(body.contains("需要准备的材料"));
        // 营业执照 is produced by the first step and needed by the second: listed once.
        let (_, v) = {
            let r = p
                .http
                .get(format!(
                    "{}/api/v1/life-events/open-restaurant?form=company&venue=yes",
                    p.base
                ))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        };
        let items: Vec<&str> = v["plan"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            items,
            ["企业设立登记", "食品经营许可（新办）", "公共场所卫生许可"]
        );
        let mats = v["plan"]["materials"].as_array().unwrap();
        let names: Vec<&str> = mats.iter().map(|m| m["name"].as_str().unwrap()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "each material once: {names:?}");
        assert!(
            mats.iter()
                .any(|m| m["needed_by"].as_array().unwrap().len() >= 2),
            "{names:?}"
        );
        let (s, _) = p.get("/life-events/nope").await;
        assert_eq!(s, 404);
        let (s, _) = p
            .get("/life-events/open-restaurant?form=%3Cx%3E&venue=1")
            .await;
        assert_eq!(s, 200, "junk answers are just unanswered");
    }
}
