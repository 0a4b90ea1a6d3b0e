//! One story over the repository API, run on SQLite and (when configured) PostgreSQL.

use yiwang_domain::catalog::{Department, VersionStatus};
use yiwang_domain::policy::{CatalogScope, Grant, Role};
use yiwang_domain::{CreditCode, ErrorCode, ImplCode, RegionCode, RegionLevel};
use yiwang_store::{ImplementationFilter, NewUser, Store};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

fn actor() -> yiwang_store::Actor {
    yiwang_store::Actor::system("test")
}

fn all_scope() -> CatalogScope {
    CatalogScope {
        all: true,
        grants: vec![],
    }
}

#[tokio::test]
async fn sqlite_is_wal_with_foreign_keys() {
    let db = yiwang_testkit::sqlite().await;
    assert_eq!(
        db.store
            .sqlite_pragma("journal_mode")
            .await
            .unwrap()
            .as_deref(),
        Some("wal")
    );
    assert_eq!(
        db.store
            .sqlite_pragma("foreign_keys")
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );
}

#[tokio::test]
async fn regions_are_idempotent_and_indexed_by_subtree() {
    for db in backends().await {
        let s = &db.store;
        let rows = yiwang_app::regions::tianjin().unwrap();
        s.upsert_regions(&rows, &mut |_| {}).await.unwrap();
        let n = s.region_count().await.unwrap();
        assert_eq!(n as usize, rows.len(), "{:?}", db.backend);
        s.upsert_regions(&rows, &mut |_| {}).await.unwrap();
        assert_eq!(
            s.region_count().await.unwrap(),
            n,
            "second import duplicates on {:?}",
            db.backend
        );

        let county = RegionCode::parse("120112").unwrap();
        let towns = s.region_children(Some(&county)).await.unwrap();
        assert!(towns.iter().any(|r| r.name == "咸水沽镇"));
        assert!(towns.iter().all(|r| r.level == RegionLevel::Township));
        let sub = s
            .region_subtree(&county, RegionLevel::Village)
            .await
            .unwrap();
        assert!(sub.len() > towns.len());
        assert!(
            sub.iter()
                .all(|r| county.contains(&r.code) && r.code != county)
        );
        let village = sub
            .iter()
            .find(|r| r.level == RegionLevel::Village)
            .unwrap();
        let path = s.region_path(&village.code).await.unwrap();
        let names: Vec<_> = path.iter().map(|r| r.level).collect();
        assert_eq!(
            names,
            [
                RegionLevel::Province,
                RegionLevel::City,
                RegionLevel::County,
                RegionLevel::Township,
                RegionLevel::Village
            ]
        );
        assert_eq!(path[0].name, "天津市");
        let provinces = s.region_children(None).await.unwrap();
        assert_eq!(provinces.len(), 1);
    }
}

#[tokio::test]
async fn demo_catalog_publishes_versions_and_history() {
    for db in backends().await {
        let s: &Store = &db.store;
        with_demo(&db).await;
        let all = s.published_all().await.unwrap();
        assert!(all.len() >= 40, "demo has {} implementations", all.len());
        let first = &all[0];
        assert_eq!(first.version, 1);
        assert_eq!(first.status, VersionStatus::Published);
        assert!(!first.implementation.materials.is_empty());

        // Read back is lossless: the published entry equals what the file said.
        let parsed = yiwang_interchange::parse_csv(
            yiwang_app::demo::DEMO_ITEMS,
            yiwang_app::demo::DEMO_MATERIALS,
        );
        let from_file = parsed
            .batch
            .entries
            .iter()
            .find(|(_, e)| e.implementation.code == first.implementation.code)
            .unwrap();
        assert_eq!(from_file.1, first.entry(), "{:?}", db.backend);

        // Edit → draft → publish gives version 2; version 1 stays viewable.
        let mut e = first.entry();
        e.implementation.promised_limit.amount = 0;
        s.save_drafts(&[e.clone()], &actor(), DEMO_NOW_MS + 1000, &mut |_| {})
            .await
            .unwrap();
        let code: &ImplCode = &first.implementation.code;
        assert_eq!(
            s.published_implementation(code)
                .await
                .unwrap()
                .unwrap()
                .version,
            1
        );
        let gen_before = s.catalog_generation().await.unwrap();
        let res = s
            .publish_drafts(&all_scope(), None, &actor(), DEMO_NOW_MS + 2000)
            .await
            .unwrap();
        assert_eq!(res.published, 1);
        assert!(s.catalog_generation().await.unwrap() > gen_before);
        let now = s.published_implementation(code).await.unwrap().unwrap();
        assert_eq!(now.version, 2);
        assert_eq!(now.implementation.promised_limit.amount, 0);
        let hist = s.implementation_history(code).await.unwrap();
        assert_eq!(hist.len(), 2);
        assert_eq!(hist[1].status, VersionStatus::Superseded);
        let old = s.implementation_version(code, 1).await.unwrap().unwrap();
        assert_eq!(old.implementation, first.implementation);
        assert_eq!(
            s.publish_drafts(&all_scope(), None, &actor(), DEMO_NOW_MS)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NothingToPublish
        );

        // Filters and keyset pagination cover the region subtree exactly once.
        let f = ImplementationFilter {
            region: Some(RegionCode::parse("120112").unwrap()),
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = s.list_published(&f, after.as_deref(), 7).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|p| p.code.clone());
            seen.extend(page.into_iter().map(|p| p.code));
        }
        let mut sorted = seen.clone();
        sorted.dedup();
        assert_eq!(seen.len(), all.len());
        assert_eq!(sorted.len(), seen.len());
        let persons = s
            .list_published(
                &ImplementationFilter {
                    persons: Some(true),
                    ..Default::default()
                },
                None,
                500,
            )
            .await
            .unwrap();
        let legal = s
            .list_published(
                &ImplementationFilter {
                    persons: Some(false),
                    ..Default::default()
                },
                None,
                500,
            )
            .await
            .unwrap();
        assert!(!persons.is_empty() && !legal.is_empty() && persons.len() < all.len());
        let hostile = s
            .list_published(
                &ImplementationFilter {
                    name_contains: Some("%' OR 1=1 --".into()),
                    ..Default::default()
                },
                None,
                50,
            )
            .await
            .unwrap();
        assert!(hostile.is_empty());
        let by_name = s
            .list_published(
                &ImplementationFilter {
                    name_contains: Some("生育".into()),
                    ..Default::default()
                },
                None,
                50,
            )
            .await
            .unwrap();
        assert!(by_name.iter().all(|p| p.name.contains("生育")) && !by_name.is_empty());
    }
}

#[tokio::test]
async fn departments_and_accounts() {
    for db in backends().await {
        let s = &db.store;
        with_demo(&db).await;
        let code = CreditCode::with_check_char("11120112MB9999999").unwrap();
        let d = Department {
            credit_code: code.clone(),
            name: "测试部门".into(),
            region: RegionCode::parse("120112").unwrap(),
        };
        s.upsert_department(&d, &actor(), DEMO_NOW_MS)
            .await
            .unwrap();
        assert_eq!(s.department(&code).await.unwrap().unwrap().name, "测试部门");
        let mut elsewhere = d.clone();
        elsewhere.region = RegionCode::parse("990000").unwrap();
        assert_eq!(
            s.upsert_department(&elsewhere, &actor(), DEMO_NOW_MS)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::UnknownRegion
        );

        let user = NewUser {
            username: "zhangsan".into(),
            display_name: "张三".into(),
            password: "Correct-Horse-9".into(),
            grants: vec![Grant {
                role: Role::CatalogAdmin,
                region: None,
                department: Some(code.clone()),
            }],
        };
        let id = s.create_user(&user, &actor(), DEMO_NOW_MS).await.unwrap();
        assert_eq!(
            s.create_user(&user, &actor(), DEMO_NOW_MS)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::UsernameTaken
        );
        let weak = NewUser {
            username: "lisi".into(),
            password: "123456".into(),
            ..user.clone()
        };
        assert_eq!(
            s.create_user(&weak, &actor(), DEMO_NOW_MS)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::WeakPassword
        );
        assert!(
            s.authenticate("zhangsan", "wrong-password-1A")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.authenticate("nobody", "Correct-Horse-9")
                .await
                .unwrap()
                .is_none()
        );
        let p = s
            .authenticate("zhangsan", "Correct-Horse-9")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.user_id, id);
        assert_eq!(p.grants[0].department.as_ref(), Some(&code));

        s.create_session("h1", id, DEMO_NOW_MS, 1000).await.unwrap();
        assert!(
            s.session_principal("h1", DEMO_NOW_MS + 10)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.session_principal("h1", DEMO_NOW_MS + 2000)
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        s.delete_session("h1").await.unwrap();
        assert!(
            s.session_principal("h1", DEMO_NOW_MS + 10)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn drafts_replace_drafts_and_the_last_duplicate_wins() {
    for db in backends().await {
        let s = &db.store;
        with_demo(&db).await;
        let all = s.published_all().await.unwrap();
        let mut a = all[0].entry();
        let mut b = a.clone();
        a.implementation.hours = "A".into();
        b.implementation.hours = "B".into();
        let other = all[1].entry();
        let res = s
            .save_drafts(
                &[a.clone(), other.clone(), b.clone()],
                &actor(),
                DEMO_NOW_MS,
                &mut |_| {},
            )
            .await
            .unwrap();
        assert_eq!(res.drafts_written, 2);
        assert_eq!(res.standard_items_created, 0);
        let drafts = s.drafts_all().await.unwrap();
        assert_eq!(drafts.len(), 2);
        let d = drafts
            .iter()
            .find(|d| d.implementation.code == a.implementation.code)
            .unwrap();
        assert_eq!(d.implementation.hours, "B");
        assert_eq!(d.version, 2);
        assert_eq!(d.implementation.materials, b.implementation.materials);
        // Saving again replaces the draft instead of adding a version.
        s.save_drafts(&[a.clone()], &actor(), DEMO_NOW_MS, &mut |_| {})
            .await
            .unwrap();
        let drafts = s.drafts_all().await.unwrap();
        assert_eq!(drafts.len(), 2);
        let d = drafts
            .iter()
            .find(|d| d.implementation.code == a.implementation.code)
            .unwrap();
        assert_eq!((d.implementation.hours.as_str(), d.version), ("A", 2));
    }
}
