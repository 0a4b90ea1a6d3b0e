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
