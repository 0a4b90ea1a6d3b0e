//! The staff list shows personal data masked; the full view needs `ManageUsers` over the account,
//! a purpose, and a same-origin POST, and writes exactly one audit entry. Every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::console::*;
use crate::support::{Options, TestApp, spawn_app_with};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN};
use std::sync::Arc;
use yiwang_crypto::{Alg, KeyFile, KeySource};
use yiwang_domain::codes::{Phone, ResidentId};
use yiwang_store::{Actor, AuditFilter, Store, UserPii};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends, with_demo};

const PHONE: &str = "13812345678";
const ID: &str = "11010519491231002X";

async fn serve_with_keys(db: &TestDb, store: Store) -> TestApp {
    let options = Options {
        config: config(),
        now_ms: NOW_MS,
        peer_address: false,
        wall_clock: false,
    };
    spawn_app_with(db, options, |mut state| {
        state.store = store;
        state
    })
    .await
}
async fn user_id(store: &Store, username: &str) -> i64 {
    store
        .staff_pii_list()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == username)
        .unwrap()
        .user_id
}

async fn setup(db: &TestDb) -> (Store, TestApp) {
    with_demo(db).await;
    create_users(db).await;
    let ring = KeyFile::generate(Alg::Sm4Gcm)
        .ring(KeySource::Inline)
        .unwrap();
    let store = db.store.clone().with_keys(Arc::new(ring));
    for (name, phone, id) in [
        ("township", PHONE, ID),
        ("catalog", "13900001111", "120112198001011233"),
    ] {
        let pii = UserPii {
            phone: Some(Phone::parse(phone).unwrap()),
            resident_id: Some(ResidentId::parse(id).unwrap()),
        };
        let uid = user_id(&store, name).await;
        store
            .set_user_pii(uid, &pii, &Actor::system("test"), DEMO_NOW_MS)
            .await
            .unwrap();
    }
    let app = serve_with_keys(db, store.clone()).await;
    (store, app)
}

async fn last_event(store: &Store) -> yiwang_store::AuditEvent {
    let all = store
        .audit_entries(&AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    all.last().unwrap().event.clone()
}

#[tokio::test]
async fn masked_list_and_audited_full_view() {
    for db in backends().await {
        let (store, app) = setup(&db).await;
        let http = Http::new(&app);
        let base = &app.base;
        let township = user_id(&store, "township").await;
        let catalog = user_id(&store, "catalog").await;
        let reveal = |id: i64| format!("/console/users/{id}/reveal");

        // Anonymous: sent to sign in, nothing shown, nothing logged.
        let before = store.audit_count().await.unwrap();
        let res = http.get("/console/users", None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = http
            .client
            .post(http.url(&reveal(township)))
            .header(ORIGIN, base.clone())
            .form(&[("purpose", "x")])
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == StatusCode::SEE_OTHER || res.status() == StatusCode::FORBIDDEN,
            "{}",
            res.status()
        );
        assert_eq!(store.audit_count().await.unwrap(), before);

        // The platform administrator sees every account, masked only.
        let admin = http.login("platform").await;
        let (status, html) = http.page("/console/users", &admin).await;
        assert_eq!(status, StatusCode::OK);
        for masked in [
            "138****5678",
            "110105********002X",
            "139****1111",
            "120112********1233",
        ] {
            assert!(html.contains(masked), "{masked} missing");
        }
        for full in [PHONE, ID, "13900001111", "120112198001011233", "19491231"] {
            assert!(!html.contains(full), "{full} shown in full");
        }
        assert!(html.contains("Township Tao") && html.contains("Platform Pat"));

        // A catalog administrator may not manage accounts at all.
        let cat = http.login("catalog").await;
        assert_eq!(
            http.page("/console/users", &cat).await.0,
            StatusCode::FORBIDDEN
        );
        let res = http
            .post_form(&reveal(township), &cat, &pairs(&[("purpose", "curious")]))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // A township's administrator sees only accounts within the township.
        let town = http.login("township").await;
        let (status, html) = http.page("/console/users", &town).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Township Tao"));
        assert!(!html.contains("Catalog Chen") && !html.contains("139****1111"));
        // …and cannot reveal an account outside it (it looks like no account at all).
        let res = http
            .post_form(&reveal(catalog), &town, &pairs(&[("purpose", "check")]))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let after_logins = store.audit_count().await.unwrap();

        // A purpose is required; a cross-site post is refused; unknown ids are 404.
        let res = http
            .post_form(&reveal(township), &admin, &pairs(&[("purpose", "  ")]))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(body.contains("aria-invalid=\"true\"") && !body.contains(PHONE));
        let long = "x".repeat(201);
        let res = http
            .post_form(&reveal(township), &admin, &pairs(&[("purpose", &long)]))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = http
            .client
            .post(http.url(&reveal(township)))
            .header(COOKIE, admin.clone())
            .header(ORIGIN, "http://evil.example")
            .form(&[("purpose", "phish")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        for bad in ["999999", "abc", "-1"] {
            let res = http
                .post_form(&reveal_path(bad), &admin, &pairs(&[("purpose", "x")]))
                .await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        }
        assert_eq!(
            store.audit_count().await.unwrap(),
            after_logins,
            "refusals log no view"
        );

        // The full view: shown once, recorded once, purpose escaped.
        let purpose = "核对身份 <b>case</b> 7";
        let res = http
            .post_form(&reveal(township), &admin, &pairs(&[("purpose", purpose)]))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
        let html = res.text().await.unwrap();
        assert!(html.contains(PHONE) && html.contains(ID));
        assert!(
            html.contains("case") && !html.contains("<b>case"),
            "purpose escaped"
        );
        assert_eq!(store.audit_count().await.unwrap(), after_logins + 1);
        let e = last_event(&store).await;
        assert_eq!(e.action, "pii.reveal");
        assert_eq!(e.actor, "platform");
        assert_eq!(e.object, "user:township");
        assert!(e.detail.contains("<b>case</b> 7") && e.detail.contains("phone"));
        assert!(!e.detail.contains(PHONE));

        // The township administrator may view their own scope's account, also recorded.
        let res = http
            .post_form(
                &reveal(township),
                &town,
                &pairs(&[("purpose", "self check")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(store.audit_count().await.unwrap(), after_logins + 2);
        assert_eq!(last_event(&store).await.actor, "township");
    }
}

fn reveal_path(id: &str) -> String {
    format!("/console/users/{id}/reveal")
}

#[tokio::test]
async fn without_keys_the_list_says_unreadable_and_never_shows_ciphertext() {
    let db = yiwang_testkit::sqlite().await;
    let (store, _) = setup(&db).await;
    // The same database served without keys.
    let app = serve_with_keys(&db, db.store.clone()).await;
    let http = Http::new(&app);
    let admin = http.login("platform").await;
    let (status, html) = http.page("/console/users", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("sm4-gcm:") && !html.contains("138****5678"));
    let unreadable = yiwang_i18n::t(yiwang_i18n::Lang::Zh, "pii.users.unreadable");
    assert_eq!(
        html.matches(unreadable).count(),
        4,
        "two accounts × two fields"
    );
    drop(store);
}
