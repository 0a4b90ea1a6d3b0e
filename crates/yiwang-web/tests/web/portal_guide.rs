//! The guide page (办事指南), its older versions, and 4xx pages for bad codes, over real HTTP on
//! every backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::portal::*;
use reqwest::StatusCode;
use yiwang_domain::ImplCode;
use yiwang_domain::catalog::VersionStatus;
use yiwang_domain::policy::CatalogScope;
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

#[tokio::test]
async fn the_guide_shows_every_element() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let code = ImplCode::parse(FOOD_LICENCE).unwrap();
        let pi = db
            .store
            .published_implementation(&code)
            .await
            .unwrap()
            .unwrap();
        // DEMO_NOW_MS is 2026-11-29T16:00Z, already the 30th in Beijing.
        assert_eq!(pi.published_at, Some(DEMO_NOW_MS));
        let (s, i) = (&pi.standard, &pi.implementation);
        let body = p.ok(&format!("/items/{FOOD_LICENCE}")).await;

        assert!(body.contains(&format!("<h1>{}</h1>", esc(&s.name))));
        for value in [
            s.name.as_str(),
            s.basic_code.as_str(),
            i.code.as_str(),
            s.legal_basis.as_str(),
            i.acceptance_conditions.as_str(),
            i.department_name.as_str(),
            i.hall_address.as_str(),
            i.hours.as_str(),
            i.consult_phone.as_str(),
            i.complaint_phone.as_str(),
            i.result_name.as_str(),
            "行政许可",
            "县级",
            "承诺件",
            "三级",
        ] {
            assert!(body.contains(&esc(value)), "guide lacks {value}");
        }
        assert!(body.contains(&format!("href=\"tel:{}\"", i.consult_phone)));
        assert!(body.contains(&format!("href=\"tel:{}\"", i.complaint_phone)));
        assert!(body.contains(&format!("href=\"/departments/{}\"", i.department_code)));
        for t in &i.themes {
            assert!(body.contains(&format!(">{}</a>", esc(t))), "theme link {t}");
        }
        assert!(body.contains("企业法人、非法人企业"), "audiences");
        assert!(body.contains("窗口办理、网上办理、移动端办理"), "channels");
        assert!(
            body.contains("href=\"/regions/12\">天津市</a>"),
            "region path from the top"
        );
        assert!(
            body.contains("href=\"/regions/120112\">津南区</a>"),
            "down to the district"
        );
        assert!(body.contains("承诺 3 个工作日办结（法定 10 个工作日）"));
        assert!(body.contains("最多跑一次"));
        assert!(body.contains("不收费"));
        assert!(body.contains("第 1 版 · 更新于 2026-11-30"));
        assert!(i.materials.len() >= 3);
        for m in &i.materials {
            assert!(body.contains(&esc(&m.name)), "material {}", m.name);
            assert!(body.contains(&esc(&m.issuer)));
            if !m.licence_type.is_empty() {
                assert!(body.contains(&format!("可用电子证照代替（{}）", esc(&m.licence_type))));
            }
        }
        assert!(body.contains("<table class=\"stack\">"));
        assert!(body.contains("<th scope=\"col\">材料名称</th>"));
        assert!(body.contains("<th scope=\"row\" data-label=\"材料名称\">"));
        assert!(body.contains("data-label=\"出具机构\""));
        assert!(body.contains("原件 1 份") && body.contains(">必要<"));

        let births = p.ok(&format!("/items/{BIRTH_REGISTRATION}")).await;
        assert!(births.contains("即来即办"));
        assert!(births.contains("不用跑（全程网办）"));
        assert!(births.contains(">全国<"), "通办范围");

        let en = p.ok(&format!("/items/{FOOD_LICENCE}?lang=en")).await;
        assert!(en.contains("<html lang=\"en\">"));
        for label in [
            "Basic code",
            "Implementation code",
            "Legal basis",
            "Conditions for acceptance",
            "Documents to bring",
            "Service hall address",
            "Enquiry phone",
            "Complaint phone",
            "Administrative licensing",
            "Promised: 3 working days (statutory: 10 working days)",
            "At most one trip in person",
            "Free of charge",
            "Version 1 · updated 2026-11-30",
            "data-label=\"Issued by\"",
        ] {
            assert!(en.contains(label), "English guide lacks {label}");
        }
        assert!(!en.contains("办结时限"), "no Chinese labels left");
        assert!(en.contains(&format!(
            "href=\"/departments/{}?lang=en\"",
            i.department_code
        )));
    }
}

#[tokio::test]
async fn older_versions_are_marked_and_drafts_stay_hidden() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let code = ImplCode::parse(FOOD_LICENCE).unwrap();
        let v1 = db
            .store
            .published_implementation(&code)
            .await
            .unwrap()
            .unwrap();
        let old_hall = v1.implementation.hall_address.clone();
        let mut entry = v1.entry();
        entry.implementation.hall_address = "新的办理地点 二楼".to_string();
        let scope = CatalogScope {
            all: true,
            grants: Vec::new(),
        };
        let later = DEMO_NOW_MS + 86_400_000;
        db.store
            .save_drafts(
                &[entry.clone()],
                &yiwang_store::Actor::system("test"),
                later,
                &mut |_| {},
            )
            .await
            .unwrap();
        db.store
            .publish_drafts(
                &scope,
                Some(&[FOOD_LICENCE.to_string()]),
                &yiwang_store::Actor::system("test"),
                later,
            )
            .await
            .unwrap();
        entry.implementation.hall_address = "草稿里的地点".to_string();
        db.store
            .save_drafts(
                &[entry],
                &yiwang_store::Actor::system("test"),
                later,
                &mut |_| {},
            )
            .await
            .unwrap();
        let history = db.store.implementation_history(&code).await.unwrap();
        assert_eq!(history[0].status, VersionStatus::Draft);

        let current = p.ok(&format!("/items/{FOOD_LICENCE}")).await;
        assert!(current.contains("第 2 版 · 更新于 2026-12-01"));
        assert!(current.contains("新的办理地点 二楼"));
        assert!(!current.contains("草稿里的地点"), "drafts are not public");
        assert!(current.contains(&format!("href=\"/items/{FOOD_LICENCE}/versions/1\"")));
        assert!(!current.contains("这是历史版本"));

        let old = p.ok(&format!("/items/{FOOD_LICENCE}/versions/1")).await;
        assert!(old.contains("这是历史版本（第 1 版）"));
        assert!(old.contains(&esc(&old_hall)));
        assert!(old.contains(&format!(
            "<a href=\"/items/{FOOD_LICENCE}\">查看现行版本</a>"
        )));
        let old_en = p
            .ok(&format!("/items/{FOOD_LICENCE}/versions/1?lang=en"))
            .await;
        assert!(old_en.contains("This is an old version (version 1)"));

        let (s, _) = p.get(&format!("/items/{FOOD_LICENCE}/versions/3")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "a draft version is not public");
        let (s, _) = p.get(&format!("/items/{FOOD_LICENCE}/versions/9")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        for bad in ["abc", "0", "-1", "99999999999999999999"] {
            let (s, _) = p
                .get(&format!("/items/{FOOD_LICENCE}/versions/{bad}"))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "version {bad}");
        }
    }
}

#[tokio::test]
async fn unknown_and_malformed_codes_get_clear_4xx_pages() {
    for db in backends().await {
        with_demo(&db).await;
        let p = serve(&db).await;
        let (s, body) = p.get("/items/NO-SUCH-ITEM-1").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body.contains("找不到您要的内容"));
        let (s, body) = p.get("/items/NO-SUCH-ITEM-1?lang=en").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(body.contains("<html lang=\"en\">"));

        let too_long = "A".repeat(37);
        for bad in [
            "/items/bad%20code".to_string(),
            "/items/%3Cscript%3E".to_string(),
            format!("/items/{too_long}"),
            "/items/%FF".to_string(),
            "/items/x'%20OR%20'1'='1".to_string(),
        ] {
            let (s, body) = p.get(&bad).await;
            assert!(s.is_client_error(), "{bad}: {s}");
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(
                body.contains("实施编码应为"),
                "{bad}: the message says what is wrong"
            );
        }
        let (s, _) = p.get("/regions/%FF").await;
        assert!(s.is_client_error());
        let (s, _) = p.get("/audience/person?after=%FF%FF").await;
        assert!(s.is_client_error(), "{s}");
    }
}
