//! `/api/v1/drift`: the 四级四同 report over the published catalog.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[tokio::test]
async fn drift_report_matches_the_domain() {
    for db in yiwang_testkit::backends().await {
        yiwang_testkit::with_demo(&db).await;
        let s = crate::support::api::Server::start(&db).await;
        let (status, body) = s.get("/api/v1/drift").await;
        assert_eq!(status, 200);
        let all = yiwang_domain::policy::CatalogScope {
            all: true,
            grants: vec![],
        };
        let expected = yiwang_app::catalog::drift(&db.store, &all).await.unwrap();
        let items = body["items"].as_array().unwrap();
        assert_eq!(items.len(), expected.items.len());
        assert!(!items.is_empty());
        assert_eq!(
            items[0]["basic_code"],
            expected.items[0].basic_code.as_str()
        );
        assert_eq!(
            body["regions"].as_array().unwrap().len(),
            expected.regions.len()
        );
        // One township: nothing to compare inside it, so no drift.
        let (status, town) = s.get("/api/v1/drift?region=120112102").await;
        assert_eq!(status, 200);
        assert!(town["items"].as_array().unwrap().is_empty());
        let (status, bad) = s.get("/api/v1/drift?region=12x").await;
        assert_eq!(status, 422);
        assert_eq!(bad["error"]["code"], "invalid_region_code");
    }
}

/// One items row (cells by header name; the rest empty).
fn items_row(cells: &[(&str, &str)]) -> Vec<String> {
    yiwang_interchange::ITEM_HEADERS
        .iter()
        .map(|h| {
            cells
                .iter()
                .find(|(k, _)| k == h)
                .map(|(_, v)| (*v).to_string())
                .unwrap_or_default()
        })
        .collect()
}

/// 生育登记 as a real district has it: decided by the county, accepted at the townships. The
/// same standard item at 县级 and 乡级 imports (not drift), and the drift report compares the
/// townships with each other, never with the county bureau.
#[tokio::test]
async fn one_item_at_county_and_township_levels_drifts_per_level() {
    for db in yiwang_testkit::backends().await {
        yiwang_testkit::with_demo(&db).await;
        let common = [
            ("基本编码", "000199001"),
            ("事项名称", "生育登记"),
            ("事项类型", "公共服务"),
            ("行使层级", "县级;乡级"),
            ("设定依据", "《中华人民共和国人口与计划生育法》"),
            ("法定办结时限", "20"),
            ("法定办结时限单位", "工作日"),
            ("承诺办结时限", "5"),
            ("承诺办结时限单位", "工作日"),
            ("办件类型", "承诺件"),
            ("网上办理深度", "三级"),
            ("是否收费", "否"),
            ("服务对象", "自然人"),
            ("办理形式", "窗口办理;网上办理"),
        ];
        let row = |level: &str, dept: &str, code: &str, region: &str, visits: &str, imp: &str| {
            let mut cells = common.to_vec();
            cells.extend([
                ("实施层级", level),
                ("实施主体", dept),
                ("实施主体编码", code),
                ("行政区划代码", region),
                ("到办事现场次数", visits),
                ("实施编码", imp),
            ]);
            items_row(&cells)
        };
        let county = "11120112MB1M05719N000199001001";
        let town_a = "111201120001350285000199001001";
        let town_b = "11120112000135191C000199001001";
        let rows = [
            row(
                "县级",
                "天津市津南区卫生健康委员会",
                "11120112MB1M05719N",
                "120112000000",
                "2",
                county,
            ),
            row(
                "乡级",
                "天津市津南区咸水沽镇人民政府",
                "111201120001350285",
                "120112100000",
                "0",
                town_a,
            ),
            row(
                "乡级",
                "天津市津南区小站镇人民政府",
                "11120112000135191C",
                "120112102000",
                "1",
                town_b,
            ),
        ];
        let mut items = String::new();
        for r in std::iter::once(
            yiwang_interchange::ITEM_HEADERS
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>(),
        )
        .chain(rows)
        {
            items.push_str(&r.join(","));
            items.push_str("\r\n");
        }
        let materials = yiwang_interchange::MATERIAL_HEADERS.join(",") + "\r\n";
        let parsed = yiwang_interchange::parse_csv(items.as_bytes(), materials.as_bytes());
        let scope = yiwang_domain::policy::CatalogScope {
            all: true,
            grants: vec![],
        };
        let actor = yiwang_store::Actor::system("test");
        let now = yiwang_testkit::DEMO_NOW_MS;
        yiwang_app::catalog::import_catalog(&db.store, parsed, &scope, &actor, now, &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("{:?}", e.issues()));
        db.store
            .publish_drafts(&scope, None, &actor, now)
            .await
            .unwrap();

        let s = crate::support::api::Server::start(&db).await;
        let (status, body) = s.get("/api/v1/drift").await;
        assert_eq!(status, 200);
        let ours: Vec<&serde_json::Value> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["basic_code"] == "000199001")
            .collect();
        assert_eq!(ours.len(), 1, "{ours:?}");
        assert_eq!(ours[0]["level"], "township");
        assert_eq!(ours[0]["differing"], serde_json::json!(["visits"]));
        let mut codes: Vec<&str> = ours[0]["implementations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        codes.sort_unstable();
        let mut towns = vec![town_a, town_b];
        towns.sort_unstable();
        assert_eq!(codes, towns);

        let (status, imp) = s.get(&format!("/api/v1/implementations/{county}")).await;
        assert_eq!(status, 200);
        assert_eq!(imp["level"], "county");
        assert_eq!(
            imp["standard_item"]["levels"],
            serde_json::json!(["county", "township"])
        );
        let (_, imp) = s.get(&format!("/api/v1/implementations/{town_a}")).await;
        assert_eq!(imp["level"], "township");
    }
}
