//! Form definitions on every backend: versioned saves with their audit entries, refusal of an
//! invalid definition (nothing written), resolution implementation → standard item → built-in,
//! and refusal of a definition altered in the database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::forms::{DEFAULT_FORM_KEY, FormDefError};
use yiwang_domain::{BasicCode, ImplCode};
use yiwang_store::{Actor, AuditFilter, FormSaved, FormScope, FormSource};
use yiwang_testkit::backends;

const FOOD: &str = include_str!("../../../yiwang-app/demo/forms/food_business_licence.json");
const BIRTH: &str = include_str!("../../../yiwang-app/demo/forms/birth_registration.json");

#[tokio::test]
async fn form_definitions_on_every_backend() {
    for db in backends().await {
        let store = &db.store;
        let b = db.backend.name();
        let actor = Actor::system("test");
        let imp = ImplCode::parse("11120112MB1W167324000123001001").unwrap();
        let basic = BasicCode::parse("000123001").unwrap();
        let other_imp = ImplCode::parse("11120112MB1W167324000123002001").unwrap();
        let scope = FormScope::Implementation(imp.clone());

        // Nothing stored: the built-in form.
        let r = store.form_definition_for(&imp, &basic).await.unwrap();
        assert_eq!(
            (r.source, r.definition.key.as_str()),
            (FormSource::BuiltIn, DEFAULT_FORM_KEY),
            "{b}"
        );

        // A standard-item form applies to every implementation of that item.
        let item_scope = FormScope::StandardItem(basic.clone());
        let saved = store
            .save_form_definition(&item_scope, BIRTH, &actor, 1_000)
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(saved, FormSaved::New(ref d) if d.version == 1),
            "{b}"
        );
        let r = store.form_definition_for(&other_imp, &basic).await.unwrap();
        assert_eq!(
            (r.source, r.definition.key.as_str()),
            (FormSource::StandardItem, "birth_registration"),
            "{b}"
        );

        // The implementation's own form wins; versions count up per scope.
        let v1 = store
            .save_form_definition(&scope, FOOD, &actor, 2_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v1.definition().version, 1, "{b}");
        let changed = FOOD.replace("食品经营许可申请书", "食品经营许可申请书（新办）");
        let v2 = store
            .save_form_definition(&scope, &changed, &actor, 3_000)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(v2, FormSaved::New(ref d) if d.version == 2), "{b}");
        // Saving the same definition again stores nothing.
        let same = store
            .save_form_definition(&scope, &changed, &actor, 4_000)
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(same, FormSaved::Unchanged(ref d) if d.version == 2),
            "{b}"
        );
        let r = store.form_definition_for(&imp, &basic).await.unwrap();
        assert_eq!(r.source, FormSource::Implementation, "{b}");
        assert_eq!(r.definition.version, 2, "{b}");
        assert_eq!(r.definition.title.zh, "食品经营许可申请书（新办）", "{b}");
        let old = store
            .form_definition_version(&scope, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(old.title.zh, "食品经营许可申请书", "{b}");
        assert!(
            store
                .form_definition_version(&scope, 9)
                .await
                .unwrap()
                .is_none()
        );
        let versions = store.form_versions(&scope).await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![2, 1],
            "{b}"
        );
        assert_eq!(versions[0].created_by, "system");

        // An invalid definition is refused with every problem and writes nothing.
        let bad = FOOD
            .replace(r#""any_of": ["yes"]"#, r#""any_of": ["perhaps"]"#)
            .replace(
                r#""kind": "credit_code""#,
                r#""kind": "credit_code", "min": 3"#,
            );
        let errs = store
            .save_form_definition(&scope, &bad, &actor, 5_000)
            .await
            .unwrap()
            .unwrap_err();
        assert!(errs.0.iter().any(|e| matches!(e, FormDefError::ConditionUnknownOption { field, .. } if field == "website")), "{b}: {errs:?}");
        assert!(errs.0.iter().any(|e| matches!(e, FormDefError::RuleNotApplicable { field, .. } if field == "credit_code")), "{b}");
        assert_eq!(store.form_versions(&scope).await.unwrap().len(), 2, "{b}");

        // One audit entry per stored version, in the same transaction.
        let audits = store
            .audit_entries(&AuditFilter {
                object_prefix: Some("form:".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audits.len(), 3, "{b}");
        assert!(audits.iter().all(|a| a.event.action == "form.save"));
        assert!(
            audits
                .iter()
                .any(|a| a.event.object == format!("form:implementation:{imp}")
                    && a.event.detail == "food_business_licence@2")
        );

        // A definition altered in the database is refused on load, not shown. (Such an edit
        // bypasses the catalog generation, so the read goes past the in-memory cache.)
        sqlx::query("UPDATE form_definitions SET body = $1 WHERE version = 2 AND scope_level = 'implementation'")
            .bind(r#"{"key":"x","title":{"zh":"x"},"sections":[]}"#)
            .execute(store.pool())
            .await
            .unwrap();
        assert!(
            store
                .form_definition_for_uncached(&imp, &basic)
                .await
                .is_err(),
            "{b}"
        );
    }
}
