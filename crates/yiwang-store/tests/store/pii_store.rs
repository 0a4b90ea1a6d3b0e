//! Personal data at rest, on every backend: encrypted columns, masked listings, audited reveals,
//! blind-index lookup, refusals of moved or altered values, and key rotation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use yiwang_crypto::{Alg, KeyFile, KeyRing, KeySource};
use yiwang_domain::codes::{Phone, ResidentId};
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::pii::{PII_COLUMNS, USER_ID_NUMBER, USER_PHONE};
use yiwang_store::{Actor, AuditFilter, NewUser, Shown, Store, StoreError, UserPii};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends};

const PHONE: &str = "13812345678";
const ID: &str = "11010519491231002X";

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: format!("{name} display"),
        password: "Pii-Test-Password-1".into(),
        grants: vec![Grant {
            role: Role::PlatformAdmin,
            region: None,
            department: None,
        }],
    }
}

fn pii(phone: &str, id: &str) -> UserPii {
    UserPii {
        phone: Some(Phone::parse(phone).unwrap()),
        resident_id: Some(ResidentId::parse(id).unwrap()),
    }
}

fn actor() -> Actor {
    Actor::system("test")
}

fn ring_of(file: &KeyFile) -> Arc<KeyRing> {
    Arc::new(file.ring(KeySource::Inline).unwrap())
}

async fn raw(store: &Store, user_id: i64) -> Vec<Option<String>> {
    let row = sqlx::query(
        "SELECT phone_enc, phone_idx, id_number_enc, id_number_idx FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    use sqlx::Row;
    (0..4)
        .map(|i| row.try_get::<Option<String>, _>(i).unwrap())
        .collect()
}

async fn set_raw(store: &Store, user_id: i64, column: &str, value: Option<String>) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET {column} = $1 WHERE id = $2"
    )))
    .bind(value)
    .bind(user_id)
    .execute(store.pool())
    .await
    .unwrap();
}

async fn with_keys(db: &TestDb, file: &KeyFile) -> Store {
    db.store.clone().with_keys(ring_of(file))
}

#[tokio::test]
async fn encrypted_at_rest_masked_when_listed_and_found_by_index() {
    for db in backends().await {
        let keys = KeyFile::generate(Alg::Sm4Gcm);
        let s = with_keys(&db, &keys).await;
        let a = s
            .create_user_with_pii(&new_user("alice"), &pii(PHONE, ID), &actor(), DEMO_NOW_MS)
            .await
            .unwrap();
        let b = s
            .create_user_with_pii(
                &new_user("bob"),
                &pii("+86 138 1234 5678", "120112198001011233"),
                &actor(),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let c = s
            .create_user(&new_user("carol"), &actor(), DEMO_NOW_MS)
            .await
            .unwrap();

        // The raw columns hold the stored form, never the plaintext.
        let ra = raw(&s, a).await;
        let rb = raw(&s, b).await;
        for v in ra.iter().chain(rb.iter()) {
            let v = v.as_deref().unwrap();
            assert!(!v.contains(PHONE) && !v.contains("19491231") && !v.contains("198001011233"));
        }
        assert!(ra[0].as_deref().unwrap().starts_with("sm4-gcm:k1:"));
        assert!(ra[1].as_deref().unwrap().starts_with("hmac-sm3:i1:"));
        // Same phone: different ciphertexts, equal blind index.
        assert_ne!(ra[0], rb[0]);
        assert_eq!(ra[1], rb[1]);
        assert_ne!(ra[3], rb[3]);
        assert_eq!(raw(&s, c).await, vec![None, None, None, None]);
        // Nothing in the whole users table reads like the numbers.
        let dump = sqlx::query(
            "SELECT COUNT(*) AS n FROM users WHERE phone_enc LIKE '%5678%' OR id_number_enc LIKE '%1949%' \
             OR display_name LIKE '%5678%' OR username LIKE '%5678%'",
        )
        .fetch_one(s.pool())
        .await
        .unwrap();
        use sqlx::Row;
        assert_eq!(dump.try_get::<i64, _>("n").unwrap(), 0, "{:?}", db.backend);

        // Listing: masked only.
        let list = s.staff_pii_list().await.unwrap();
        let alice = list.iter().find(|u| u.user_id == a).unwrap();
        assert_eq!(alice.phone, Shown::Masked("138****5678".into()));
        assert_eq!(
            alice.resident_id,
            Shown::Masked("110105********002X".into())
        );
        let carol = list.iter().find(|u| u.user_id == c).unwrap();
        assert_eq!(carol.phone, Shown::Empty);
        assert_eq!(carol.grants.len(), 1);

        // Exact lookup without decrypting.
        let phone = Phone::parse("138-1234-5678").unwrap();
        assert_eq!(s.find_user_by_phone(&phone).await.unwrap(), Some(a));
        assert_eq!(
            s.find_rows_by_index(&USER_PHONE, PHONE).await.unwrap(),
            vec![a, b]
        );
        let id = ResidentId::parse("120112198001011233").unwrap();
        assert_eq!(s.find_user_by_resident_id(&id).await.unwrap(), Some(b));
        let nobody = Phone::parse("13900000000").unwrap();
        assert_eq!(s.find_user_by_phone(&nobody).await.unwrap(), None);
    }
}

#[tokio::test]
async fn reveal_is_audited_and_updates_are_audited_without_values() {
    for db in backends().await {
        let s = with_keys(&db, &KeyFile::generate(Alg::Sm4Gcm)).await;
        let a = s
            .create_user_with_pii(&new_user("alice"), &pii(PHONE, ID), &actor(), DEMO_NOW_MS)
            .await
            .unwrap();
        let before = s.audit_count().await.unwrap();
        let viewer = Actor {
            id: Some(42),
            name: "auditor".into(),
            client: "127.0.0.1".into(),
        };
        let full = s
            .reveal_user_pii(a, &viewer, "核对身份 case 7", DEMO_NOW_MS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(full.phone.as_ref().unwrap().reveal(), PHONE);
        assert_eq!(full.resident_id.as_ref().unwrap().reveal(), ID);
        assert_eq!(s.audit_count().await.unwrap(), before + 1);
        let entries = s
            .audit_entries(&AuditFilter {
                object_prefix: Some("user:alice".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let e = &entries.last().unwrap().event;
        assert_eq!(e.action, "pii.reveal");
        assert_eq!(e.actor, "auditor");
        assert_eq!(e.actor_id, Some(42));
        assert!(e.detail.contains("核对身份 case 7") && e.detail.contains("resident_id"));
        assert!(!e.detail.contains(PHONE));
        // Unknown account: nothing revealed, nothing logged.
        assert!(
            s.reveal_user_pii(9999, &viewer, "x", DEMO_NOW_MS)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(s.audit_count().await.unwrap(), before + 1);

        // Changing and clearing personal data is audited, the values are not in the log.
        let new = UserPii {
            phone: Some(Phone::parse("13900001111").unwrap()),
            resident_id: None,
        };
        s.set_user_pii(a, &new, &actor(), DEMO_NOW_MS)
            .await
            .unwrap();
        assert_eq!(s.audit_count().await.unwrap(), before + 2);
        let last = s
            .audit_entries(&AuditFilter {
                after_seq: 0,
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        let last = &last.last().unwrap().event;
        assert_eq!(last.action, "user.pii.update");
        assert!(!last.detail.contains("13900001111"));
        assert_eq!(raw(&s, a).await[2], None);
        let list = s.staff_pii_list().await.unwrap();
        assert_eq!(list[0].phone, Shown::Masked("139****1111".into()));
        assert_eq!(list[0].resident_id, Shown::Empty);
    }
}

#[tokio::test]
async fn moved_altered_or_foreign_values_are_refused() {
    for db in backends().await {
        let s = with_keys(&db, &KeyFile::generate(Alg::Sm4Gcm)).await;
        let a = s
            .create_user_with_pii(&new_user("alice"), &pii(PHONE, ID), &actor(), DEMO_NOW_MS)
            .await
            .unwrap();
        let b = s
            .create_user_with_pii(
                &new_user("bob"),
                &pii("13700000000", "120112198001011233"),
                &actor(),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let ra = raw(&s, a).await;
        // Alice's phone copied into Bob's row: refused, not shown as Bob's.
        set_raw(&s, b, "phone_enc", ra[0].clone()).await;
        // Alice's phone ciphertext put into her own ID-number column.
        set_raw(&s, a, "id_number_enc", ra[0].clone()).await;
        let list = s.staff_pii_list().await.unwrap();
        let find = |id| list.iter().find(|u| u.user_id == id).unwrap();
        assert_eq!(find(b).phone, Shown::Unreadable);
        assert_eq!(find(a).resident_id, Shown::Unreadable);
        assert_eq!(find(a).phone, Shown::Masked("138****5678".into()));
        let err = s
            .reveal_user_pii(b, &actor(), "t", DEMO_NOW_MS)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");

        // One flipped character in the base64 body.
        let mut t = ra[0].clone().unwrap().into_bytes();
        let at = t.len() - 10;
        t[at] = if t[at] == b'A' { b'B' } else { b'A' };
        set_raw(&s, a, "phone_enc", Some(String::from_utf8(t).unwrap())).await;
        assert_eq!(
            s.staff_pii_list().await.unwrap()[0].phone,
            Shown::Unreadable
        );

        // Another key ring with the same ids cannot read anything.
        let foreign = db
            .store
            .clone()
            .with_keys(ring_of(&KeyFile::generate(Alg::Sm4Gcm)));
        set_raw(&s, a, "phone_enc", ra[0].clone()).await;
        assert_eq!(
            foreign.staff_pii_list().await.unwrap()[0].phone,
            Shown::Unreadable
        );
        // No keys at all: listing says unreadable, writing personal data is refused and rolled back.
        let bare = db.store.clone();
        assert_eq!(
            bare.staff_pii_list().await.unwrap()[0].phone,
            Shown::Unreadable
        );
        let err = bare
            .create_user_with_pii(&new_user("dave"), &pii(PHONE, ID), &actor(), DEMO_NOW_MS)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NoKeys));
        assert_eq!(
            s.staff_pii_list().await.unwrap().len(),
            2,
            "dave was not created"
        );
    }
}

#[tokio::test]
async fn rotation_moves_everything_to_the_new_key() {
    for db in backends().await {
        let mut file = KeyFile::generate(Alg::Sm4Gcm);
        let old = with_keys(&db, &file).await;
        let mut ids = Vec::new();
        for i in 0..7 {
            let p = format!("1380000000{i}");
            let id = ResidentId::with_check_char(&format!("1201121980010100{i}")).unwrap();
            let u = UserPii {
                phone: Some(Phone::parse(&p).unwrap()),
                resident_id: (i % 2 == 0).then_some(id),
            };
            ids.push(
                old.create_user_with_pii(&new_user(&format!("user{i}")), &u, &actor(), DEMO_NOW_MS)
                    .await
                    .unwrap(),
            );
        }
        let before = old.staff_pii_list().await.unwrap();
        assert_eq!(old.pii_key_usage().await.unwrap().get("k1"), Some(&11));

        // Rotation under the old ring alone changes nothing.
        let none = old.rotate_pii(3).await.unwrap();
        assert_eq!(none.total(|c| c.reencrypted + c.reindexed + c.failed), 0);
        assert_eq!(none.total(|c| c.scanned), 11);

        assert_eq!(file.add_data_key(Alg::Sm4Gcm), "k2");
        let both = with_keys(&db, &file).await;
        // Before rotating, the new ring reads old values already (serving continues).
        assert_eq!(both.staff_pii_list().await.unwrap().len(), 7);
        let sum = both.rotate_pii(3).await.unwrap();
        assert_eq!(sum.current_key, "k2");
        assert_eq!(sum.columns.len(), PII_COLUMNS.len());
        assert_eq!(sum.total(|c| c.reencrypted), 11);
        assert_eq!(
            sum.total(|c| c.reindexed),
            0,
            "the index key did not change"
        );
        assert_eq!(sum.total(|c| c.failed + c.raced), 0);
        let usage = both.pii_key_usage().await.unwrap();
        assert_eq!(usage.get("k2"), Some(&11));
        assert_eq!(usage.get("k1"), None);
        // Idempotent.
        assert_eq!(
            both.rotate_pii(3).await.unwrap().total(|c| c.reencrypted),
            0
        );

        // The old key can go now: a ring with k2 only reads everything, the same as before.
        file.data_keys.remove(0);
        let new_only = with_keys(&db, &file).await;
        let after = new_only.staff_pii_list().await.unwrap();
        for (x, y) in before.iter().zip(after.iter()) {
            assert_eq!(
                (x.user_id, &x.phone, &x.resident_id),
                (y.user_id, &y.phone, &y.resident_id)
            );
            assert_ne!(y.phone, Shown::Unreadable);
        }
        let full = new_only
            .reveal_user_pii(ids[0], &actor(), "rotation check", DEMO_NOW_MS)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(full.phone.unwrap().reveal(), "13800000000");
        assert_eq!(
            new_only
                .find_user_by_phone(&Phone::parse("13800000003").unwrap())
                .await
                .unwrap(),
            Some(ids[3])
        );
    }
}

#[tokio::test]
async fn a_new_index_key_is_applied_by_rotation() {
    for db in backends().await {
        let file = KeyFile::generate(Alg::Sm4Gcm);
        let s = with_keys(&db, &file).await;
        let a = s
            .create_user_with_pii(&new_user("alice"), &pii(PHONE, ID), &actor(), DEMO_NOW_MS)
            .await
            .unwrap();
        let mut other = KeyFile::generate(Alg::Sm4Gcm);
        other.data_keys = file.data_keys.clone();
        other.index_key = other.index_key.replacen("i1=", "i2=", 1);
        let s2 = with_keys(&db, &other).await;
        let phone = Phone::parse(PHONE).unwrap();
        assert_eq!(
            s2.find_user_by_phone(&phone).await.unwrap(),
            None,
            "stale index"
        );
        let sum = s2.rotate_pii(100).await.unwrap();
        assert_eq!(sum.total(|c| c.reindexed), 2);
        assert_eq!(sum.total(|c| c.reencrypted), 0);
        assert_eq!(s2.find_user_by_phone(&phone).await.unwrap(), Some(a));
        assert!(
            raw(&s2, a).await[3]
                .as_deref()
                .unwrap()
                .starts_with("hmac-sm3:i2:")
        );
        assert_eq!(
            s2.find_rows_by_index(&USER_ID_NUMBER, &ID.to_lowercase())
                .await
                .unwrap(),
            vec![a]
        );
    }
}
