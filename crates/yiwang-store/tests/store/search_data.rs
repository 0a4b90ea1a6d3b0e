//! Search terms and life events as data, on every backend: seeded once, edited, deleted,
//! audited, and every write moves the search-data generation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_store::{Actor, SearchSeed};
use yiwang_testkit::backends;

#[tokio::test]
async fn terms_and_life_events_round_trip() {
    for db in backends().await {
        let s = &db.store;
        let g0 = s.search_data_generation().await.unwrap();
        let seed = SearchSeed {
            terms: vec![("synonym".into(), "准生证".into(), "生育登记".into())],
            life_events: vec![(
                "newborn".into(),
                "新生儿出生".into(),
                "120112000000".into(),
                "{}".into(),
            )],
        };
        assert!(s.seed_search_data(&seed, 1).await.unwrap());
        assert!(!s.seed_search_data(&seed, 2).await.unwrap(), "seeded once");
        let g1 = s.search_data_generation().await.unwrap();
        assert!(g1 > g0);
        let actor = Actor::system("test");
        let id = s
            .save_search_term("synonym", "准生证", "生育登记 出生登记", &actor, 3)
            .await
            .unwrap();
        let terms = s.search_terms().await.unwrap();
        assert_eq!(terms.len(), 1, "same kind and phrase: replaced");
        assert_eq!(terms[0].expansion, "生育登记 出生登记");
        assert_eq!(terms[0].id, id);
        assert!(s.search_data_generation().await.unwrap() > g1);
        s.save_life_event(
            "newborn",
            "新生儿出生",
            "120112000000",
            "{\"a\":1}",
            &actor,
            4,
        )
        .await
        .unwrap();
        let evs = s.life_events().await.unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].definition, "{\"a\":1}");
        assert!(s.delete_search_term(id, &actor, 5).await.unwrap());
        assert!(!s.delete_search_term(id, &actor, 5).await.unwrap());
        assert!(s.delete_life_event("newborn", &actor, 6).await.unwrap());
        assert!(s.life_events().await.unwrap().is_empty());
        assert!(
            !s.seed_search_data(&seed, 7).await.unwrap(),
            "not reseeded after deletes"
        );
        assert!(
            s.save_search_term("synonym", " ", "x", &actor, 8)
                .await
                .is_err()
        );
        assert!(s.published_versions().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_term_is_changed_in_place_and_a_clash_is_refused() {
    for db in backends().await {
        let s = &db.store;
        let actor = Actor::system("test");
        let a = s
            .save_search_term("synonym", "准生证", "生育登记", &actor, 1)
            .await
            .unwrap();
        s.save_search_term("synonym", "开饭馆", "食品经营许可", &actor, 1)
            .await
            .unwrap();
        let g = s.search_data_generation().await.unwrap();
        assert!(
            s.update_search_term(a, "synonym", "准生证明", "生育登记 出生登记", &actor, 2)
                .await
                .unwrap()
        );
        assert!(s.search_data_generation().await.unwrap() > g);
        let row = s
            .search_terms()
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.id == a)
            .unwrap();
        assert_eq!(
            (row.phrase.as_str(), row.expansion.as_str()),
            ("准生证明", "生育登记 出生登记")
        );
        let clash = s
            .update_search_term(a, "synonym", "开饭馆", "x", &actor, 3)
            .await
            .unwrap_err();
        assert_eq!(clash.code(), yiwang_domain::ErrorCode::Conflict);
        assert!(
            !s.update_search_term(999_999, "word", "x", "", &actor, 3)
                .await
                .unwrap()
        );
        assert_eq!(
            s.unknown_basic_codes(&["000123001".into()]).await.unwrap(),
            vec!["000123001".to_string()]
        );
    }
}

#[tokio::test]
async fn the_index_reader_gives_what_search_reads_of_the_published_catalog() {
    for db in backends().await {
        yiwang_testkit::with_demo(&db).await;
        let s = &db.store;
        let full = s.published_all().await.unwrap();
        let lean = s.published_for_index().await.unwrap();
        assert_eq!(full.len(), lean.len());
        assert!(
            s.unknown_basic_codes(&["000123001".into()])
                .await
                .unwrap()
                .is_empty()
        );
        for (f, l) in full.iter().zip(&lean) {
            let (fi, li) = (&f.implementation, l);
            assert_eq!((f.id, f.version), (l.id, l.version));
            assert_eq!(f.standard.basic_code, l.basic_code);
            assert_eq!(f.standard.name, l.name);
            assert_eq!(f.standard.levels, l.levels);
            assert_eq!(fi.level, li.level);
            assert_eq!(f.standard.item_type, l.item_type);
            assert_eq!(fi.code, li.code);
            assert_eq!(fi.department_code, li.department_code);
            assert_eq!(fi.department_name, li.department_name);
            assert_eq!(fi.region, li.region);
            assert_eq!(fi.acceptance_conditions, li.acceptance_conditions);
            assert_eq!(fi.promised_limit, li.promised_limit);
            assert_eq!((fi.visits, fi.online_depth), (li.visits, li.online_depth));
            assert_eq!(fi.result_name, li.result_name);
            assert_eq!(fi.audiences, li.audiences);
            assert_eq!(fi.themes, li.themes);
            assert_eq!(fi.handling_items, li.handling_items);
            let names = |v: &[yiwang_domain::catalog::MaterialRequirement]| {
                v.iter().map(|m| m.name.clone()).collect::<Vec<_>>()
            };
            assert_eq!(names(&fi.materials), li.materials, "{}", fi.code);
        }
    }
}
