//! Forms and workflow bindings are read through the in-memory catalog cache: an edit made by
//! this process is seen by the very next read, one made by another process within the
//! generation check interval. On every backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};
use yiwang_domain::workflow::{self, BindingScope};
use yiwang_domain::{BasicCode, ImplCode};
use yiwang_store::{Actor, FormScope, FormSource, Store};
use yiwang_testkit::backends;

const FOOD: &str = include_str!("../../../yiwang-app/demo/forms/food_business_licence.json");

fn workflow_json(key: &str, version: u32) -> String {
    let mut def = workflow::promised();
    def.key = key.to_string();
    def.version = version;
    def.to_json().unwrap()
}

/// The key and version of the workflow bound at the implementation level, if any.
async fn bound(store: &Store, imp: &ImplCode, basic: &BasicCode) -> Option<(String, u32)> {
    store
        .workflow_bindings_for(imp, basic)
        .await
        .unwrap()
        .into_iter()
        .find(|b| matches!(b.scope, BindingScope::Implementation { .. }))
        .map(|b| (b.definition.key, b.definition.version))
}

/// Polls `f` until it holds, for at most a few generation check intervals.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + Duration::from_secs(5);
    while !f().await {
        assert!(Instant::now() < until, "{what}: not seen within 5 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn form_and_workflow_edits_are_seen_through_the_cache() {
    for db in backends().await {
        let store = &db.store;
        let b = db.backend.name();
        // Another process on the same database, with its own cache.
        let other = Store::connect(&db.url).await.unwrap();
        let actor = Actor::system("test");
        let imp = ImplCode::parse("11120112MB1W167324000123001001").unwrap();
        let basic = BasicCode::parse("000123001").unwrap();
        let scope = FormScope::Implementation(imp.clone());

        // Forms: read (and kept) before any edit, then every save is seen by the next read.
        let r = store.form_definition_for(&imp, &basic).await.unwrap();
        assert_eq!(r.source, FormSource::BuiltIn, "{b}");
        assert_eq!(
            other
                .form_definition_for(&imp, &basic)
                .await
                .unwrap()
                .source,
            FormSource::BuiltIn,
            "{b}"
        );
        store
            .save_form_definition(&scope, FOOD, &actor, 1_000)
            .await
            .unwrap()
            .unwrap();
        let r = store.form_definition_for(&imp, &basic).await.unwrap();
        assert_eq!(
            (r.source, r.definition.key.as_str(), r.definition.version),
            (FormSource::Implementation, "food_business_licence", 1),
            "{b}"
        );
        // A hit gives the same answer.
        assert_eq!(store.form_definition_for(&imp, &basic).await.unwrap(), r);
        let changed = FOOD.replace("食品经营许可申请书", "食品经营许可申请书（新办）");
        store
            .save_form_definition(&scope, &changed, &actor, 2_000)
            .await
            .unwrap()
            .unwrap();
        let r = store.form_definition_for(&imp, &basic).await.unwrap();
        assert_eq!(r.definition.version, 2, "{b}");
        assert_eq!(
            r,
            store
                .form_definition_for_uncached(&imp, &basic)
                .await
                .unwrap(),
            "{b}"
        );
        eventually("form in another process", || async {
            other
                .form_definition_for(&imp, &basic)
                .await
                .unwrap()
                .definition
                .version
                == 2
        })
        .await;

        // Workflows: nothing bound, then a binding, then a rebinding; each seen at once.
        assert_eq!(bound(store, &imp, &basic).await, None, "{b}");
        assert_eq!(bound(&other, &imp, &basic).await, None, "{b}");
        for (key, version) in [("food_a", 1), ("food_b", 1), ("food_b", 2)] {
            store
                .save_workflow(&workflow_json(key, version), &actor, 3_000)
                .await
                .unwrap()
                .unwrap();
        }
        let at_impl = BindingScope::Implementation {
            impl_code: imp.clone(),
        };
        store
            .bind_workflow(&at_impl, "food_a", 1, &actor, 4_000)
            .await
            .unwrap();
        assert_eq!(
            bound(store, &imp, &basic).await,
            Some(("food_a".to_string(), 1)),
            "{b}"
        );
        store
            .bind_workflow(&at_impl, "food_b", 2, &actor, 5_000)
            .await
            .unwrap();
        assert_eq!(
            bound(store, &imp, &basic).await,
            Some(("food_b".to_string(), 2)),
            "{b}"
        );
        eventually("binding in another process", || async {
            bound(&other, &imp, &basic).await == Some(("food_b".to_string(), 2))
        })
        .await;
        other.close().await;
    }
}
