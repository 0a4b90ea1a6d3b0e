//! Business writes record their audit entries in the same transaction, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use yiwang_domain::catalog::Department;
use yiwang_domain::policy::{CatalogScope, Grant, Principal, Role};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};
use yiwang_store::{Actor, AuditEntry, AuditFilter, NewUser, Store};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

async fn entries(s: &Store, prefix: &str) -> Vec<AuditEntry> {
    s.audit_entries(&AuditFilter {
        object_prefix: Some(prefix.into()),
        limit: 1000,
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn last(s: &Store) -> AuditEntry {
    let n = s.audit_count().await.unwrap();
    s.audit_entries(&AuditFilter {
        after_seq: n - 1,
        limit: 1,
        ..Default::default()
    })
    .await
    .unwrap()
    .pop()
    .unwrap()
}

fn admin() -> Actor {
    Actor::principal(
        &Principal {
            user_id: 1,
            username: "admin".into(),
            display_name: "Admin".into(),
            grants: vec![],
        },
        "203.0.113.9",
    )
}

/// Creates the `admin` account (audited as done by the system) and acts as it.
async fn signed_in_admin(s: &Store) -> Actor {
    let id = s
        .create_user(
            &NewUser {
                username: "admin".into(),
                display_name: "Admin".into(),
                password: "Admin-Password-1".into(),
                grants: vec![Grant {
                    role: Role::PlatformAdmin,
                    region: None,
                    department: None,
                }],
            },
            &Actor::system("test"),
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
    let p = s.principal(id).await.unwrap().unwrap();
    let e = last(s).await;
    assert_eq!((e.event.actor.as_str(), e.event.actor_id), ("system", None));
    Actor::principal(&p, "203.0.113.9")
}

fn json(e: &AuditEntry) -> serde_json::Value {
    serde_json::from_str(&e.event.detail).unwrap()
}

#[tokio::test]
async fn demo_loading_is_audited() {
    for db in backends().await {
        let s = &db.store;
        with_demo(&db).await;
        let depts = entries(s, "department:").await;
        assert!(!depts.is_empty());
        assert!(depts.iter().all(|e| e.event.action == "department.upsert"
            && e.event.actor == "system"
            && e.event.client == "demo"
            && e.event.actor_id.is_none()));
        let catalog = entries(s, "catalog").await;
        let actions: Vec<&str> = catalog.iter().map(|e| e.event.action.as_str()).collect();
        assert_eq!(
            actions,
            vec!["catalog.import", "catalog.publish"],
            "{:?}",
            db.backend
        );
        let published = s.published_all().await.unwrap().len();
        assert_eq!(json(&catalog[0])["count"], published);
        assert_eq!(json(&catalog[1])["count"], published);
        assert_eq!(
            json(&catalog[1])["codes"].as_array().unwrap().len(),
            published.min(200)
        );
        assert!(s.audit_verify(&mut |_| {}).await.unwrap().ok());
    }
}

#[tokio::test]
async fn drafts_publish_departments_and_users_are_audited() {
    for db in backends().await {
        let s = &db.store;
        with_demo(&db).await;
        let actor = signed_in_admin(s).await;
        let admin_id = actor.id;

        let first = s.published_all().await.unwrap().remove(0).entry();
        let code = first.implementation.code.to_string();
        s.save_drafts(&[first], &actor, DEMO_NOW_MS + 1, &mut |_| {})
            .await
            .unwrap();
        let e = last(s).await;
        assert_eq!(e.event.action, "catalog.draft");
        assert_eq!(e.event.object, format!("implementation:{code}"));
        assert_eq!(
            (
                e.event.actor_id,
                e.event.actor.as_str(),
                e.event.client.as_str()
            ),
            (admin_id, "admin", "203.0.113.9")
        );
        assert_eq!(e.at, DEMO_NOW_MS + 1);
        assert_eq!(json(&e)["codes"][0], code.as_str());

        let all = CatalogScope {
            all: true,
            grants: vec![],
        };
        s.publish_drafts(&all, None, &actor, DEMO_NOW_MS + 2)
            .await
            .unwrap();
        let e = last(s).await;
        assert_eq!(e.event.action, "catalog.publish");
        assert_eq!(json(&e)["count"], 1);
        let before = s.audit_count().await.unwrap();
        assert_eq!(
            s.publish_drafts(&all, None, &actor, DEMO_NOW_MS + 3)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NothingToPublish
        );
        assert_eq!(
            s.audit_count().await.unwrap(),
            before,
            "a refused publish is not logged"
        );

        let dept_code = CreditCode::with_check_char("11120112MB9999999").unwrap();
        let mut d = Department {
            credit_code: dept_code.clone(),
            name: "测试部门".into(),
            region: RegionCode::parse("120112").unwrap(),
        };
        s.upsert_department(&d, &actor, DEMO_NOW_MS).await.unwrap();
        d.name = "改名部门".into();
        s.upsert_department(&d, &actor, DEMO_NOW_MS).await.unwrap();
        let e = last(s).await;
        assert_eq!(e.event.object, format!("department:{dept_code}"));
        assert_eq!(json(&e)["name"], "改名部门");
        assert_eq!(json(&e)["previous"]["name"], "测试部门");

        let password = "Correct-Horse-9";
        let user = NewUser {
            username: "zhangsan".into(),
            display_name: "张三".into(),
            password: password.into(),
            grants: vec![Grant {
                role: Role::CatalogAdmin,
                region: None,
                department: Some(dept_code.clone()),
            }],
        };
        let id = s.create_user(&user, &actor, DEMO_NOW_MS).await.unwrap();
        let e = last(s).await;
        assert_eq!(e.event.action, "user.create");
        assert_eq!(e.event.object, "user:zhangsan");
        let detail = json(&e);
        assert_eq!(detail["user_id"], id);
        assert_eq!(detail["grants"][0]["role"], "catalog_admin");
        assert!(
            !e.event.detail.contains(password) && !e.event.detail.contains("argon2"),
            "no password material: {}",
            e.event.detail
        );
        let mine = s
            .audit_entries(&AuditFilter {
                actor_id: admin_id,
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(mine.len(), 5);
        assert!(s.audit_verify(&mut |_| {}).await.unwrap().ok());
    }
}

#[tokio::test]
async fn a_failed_business_write_leaves_no_entry() {
    for db in backends().await {
        let s = &db.store;
        with_demo(&db).await;
        let before = s.audit_count().await.unwrap();
        // The grant names a department that does not exist: the write fails after the audit
        // entry was appended in the same transaction, so both roll back.
        let user = NewUser {
            username: "wangwu".into(),
            display_name: "王五".into(),
            password: "Correct-Horse-9".into(),
            grants: vec![Grant {
                role: Role::CatalogAdmin,
                region: None,
                department: Some(CreditCode::with_check_char("11120112MB8888888").unwrap()),
            }],
        };
        assert_eq!(
            s.create_user(&user, &admin(), DEMO_NOW_MS)
                .await
                .unwrap_err()
                .code(),
            ErrorCode::UnknownDepartment,
            "{:?}",
            db.backend
        );
        assert_eq!(s.audit_count().await.unwrap(), before);
        assert!(entries(s, "user:wangwu").await.is_empty());
        let r = s.audit_verify(&mut |_| {}).await.unwrap();
        assert!(r.ok());
        assert_eq!(r.head_seq, before);
    }
}
