//! API tokens over real HTTP on every backend: created in the console within the
//! administrator's scope, shown once, accepted as `Authorization: Bearer` on a protected
//! endpoint, refused (401) when missing, malformed, revoked or expired; stored only as a digest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::auth::*;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use yiwang_domain::policy::{Grant, Role};
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::{Actor, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

fn new_token(html: &str) -> Option<String> {
    let start = html.find(r#"id="new-token""#)?;
    let v = html[start..].split('>').nth(1)?.split('<').next()?;
    Some(v.trim().to_string())
}

async fn me(site: &Site, auth: Option<&str>) -> reqwest::Response {
    let mut req = site.client.get(site.url("/api/v1/me"));
    if let Some(a) = auth {
        req = req.header(AUTHORIZATION, a);
    }
    req.send().await.unwrap()
}

async fn create(site: &Site, session: &str, form: &[(&str, &str)]) -> reqwest::Response {
    site.post("/console/tokens", Some(session), form).await
}

#[tokio::test]
async fn token_created_shown_once_used_revoked_expired() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, false).await;
        let admin = site.sign_in(&db, "admin").await;

        // Public endpoints stay public; the protected one wants a token.
        let res = site.get("/api/v1/regions", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        for auth in [
            None,
            Some("Bearer"),
            Some("Bearer nonsense"),
            Some("Basic YWRtaW46cGFzcw=="),
            Some("Bearer ywt_0000000000000000000000000000000000000000000000000000000000000000"),
        ] {
            let res = me(&site, auth).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
            assert!(res.headers().get(WWW_AUTHENTICATE).is_some());
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "not_authenticated");
        }

        // Created in the console: 201, the raw token on the page this once.
        let res = create(
            &site,
            &admin,
            &[
                ("name", "统计系统"),
                ("role", "auditor"),
                ("region", TOWNSHIP),
                ("department", ""),
                ("days", "30"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let raw = new_token(&res.text().await.unwrap()).expect("token shown");
        assert!(raw.starts_with("ywt_") && raw.len() == 68, "{raw}");
        let (_, html) = {
            let r = site.get("/console/tokens", Some(&admin)).await;
            (r.status(), r.text().await.unwrap())
        };
        assert!(html.contains("统计系统"));
        assert!(!html.contains(&raw), "never shown again");
        assert!(html.contains(&raw[..10]), "its prefix is");

        // Stored as a digest with its algorithm; the raw token is nowhere in the store.
        let stored = db.store.api_tokens().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].hash_alg, "sm3");
        assert!(!format!("{:?}", stored[0]).contains(&raw[4..]));

        // Accepted as a bearer token: the principal is the token's scoped grant.
        let bearer = format!("Bearer {raw}");
        let res = me(&site, Some(&bearer)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["name"], "统计系统");
        assert_eq!(body["role"], "auditor");
        assert_eq!(body["region"], TOWNSHIP);
        assert!(body["department"].is_null());

        // Revoked: 401 from then on.
        let id = stored[0].id;
        let res = site
            .post(&format!("/console/tokens/{id}/revoke"), Some(&admin), &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            me(&site, Some(&bearer)).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let res = site
            .post(&format!("/console/tokens/{id}/revoke"), Some(&admin), &[])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "revoking twice is harmless"
        );

        // Expired: valid for a day, refused after it.
        let res = create(
            &site,
            &admin,
            &[
                ("name", "短期"),
                ("role", "auditor"),
                ("region", TOWNSHIP),
                ("days", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let short = format!("Bearer {}", new_token(&res.text().await.unwrap()).unwrap());
        assert_eq!(me(&site, Some(&short)).await.status(), StatusCode::OK);
        site.clock.advance(24 * 3600 * 1000);
        assert_eq!(
            me(&site, Some(&short)).await.status(),
            StatusCode::UNAUTHORIZED
        );

        // Bad input: a clear 422 with a message, nothing created.
        let before = db.store.api_tokens().await.unwrap().len();
        let admin = site.sign_in(&db, "admin").await;
        for form in [
            vec![
                ("name", ""),
                ("role", "auditor"),
                ("region", TOWNSHIP),
                ("days", "30"),
            ],
            vec![("name", "x"), ("role", "emperor"), ("days", "30")],
            vec![
                ("name", "x"),
                ("role", "auditor"),
                ("region", TOWNSHIP),
                ("days", "0"),
            ],
            vec![
                ("name", "x"),
                ("role", "auditor"),
                ("region", TOWNSHIP),
                ("days", "abc"),
            ],
            vec![
                ("name", "x"),
                ("role", "auditor"),
                ("region", "12x"),
                ("days", "3"),
            ],
            vec![
                ("name", "x"),
                ("role", "auditor"),
                ("region", "990000"),
                ("days", "3"),
            ],
            vec![
                ("name", "x"),
                ("role", "auditor"),
                ("region", TOWNSHIP),
                ("department", "91110000100000000A"),
                ("days", "3"),
            ],
            // Administrators' roles are never on a token.
            vec![
                ("name", "x"),
                ("role", "platform_admin"),
                ("region", TOWNSHIP),
                ("days", "3"),
            ],
            vec![
                ("name", "x"),
                ("role", "catalog_admin"),
                ("region", TOWNSHIP),
                ("days", "3"),
            ],
        ] {
            let res = create(&site, &admin, &form).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        }
        assert_eq!(db.store.api_tokens().await.unwrap().len(), before);
    }
}

#[tokio::test]
async fn tokens_only_within_the_administrators_scope() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        let site = serve(&db, false).await;
        let township = site.sign_in(&db, "township").await;
        let clerk = site.sign_in(&db, "clerk").await;

        // Without ManageUsers: no token page at all.
        assert_eq!(
            site.get("/console/tokens", Some(&clerk)).await.status(),
            StatusCode::FORBIDDEN
        );
        let res = create(
            &site,
            &clerk,
            &[("name", "x"), ("role", "catalog_admin"), ("days", "3")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // A township administrator: their township yes; the district above or everything, no.
        let ok = create(
            &site,
            &township,
            &[
                ("name", "镇里"),
                ("role", "auditor"),
                ("region", TOWNSHIP),
                ("days", "3"),
            ],
        )
        .await;
        assert_eq!(ok.status(), StatusCode::CREATED);
        for region in ["120112", ""] {
            let res = create(
                &site,
                &township,
                &[
                    ("name", "区里"),
                    ("role", "auditor"),
                    ("region", region),
                    ("days", "3"),
                ],
            )
            .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "region {region:?}");
        }
        assert_eq!(db.store.api_tokens().await.unwrap().len(), 1);

        // A token outside their scope is neither listed nor revocable by them.
        let admin = site.sign_in(&db, "admin").await;
        let res = create(
            &site,
            &admin,
            &[
                ("name", "全平台"),
                ("role", "auditor"),
                ("region", "120112"),
                ("days", "3"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let wide = db
            .store
            .api_tokens()
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.name == "全平台")
            .unwrap();
        let html = site
            .get("/console/tokens", Some(&township))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("镇里") && !html.contains("全平台"));
        let res = site
            .post(
                &format!("/console/tokens/{}/revoke", wide.id),
                Some(&township),
                &[],
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = site
            .post("/console/tokens/not-a-number/revoke", Some(&township), &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(
            db.store
                .api_token(wide.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );
    }
}

/// The reported hole: a district administrator (403 on the cases himself) minted clerk, reviewer
/// and approver tokens for his district and decided a case with them; a department
/// administrator minted an auditor token. A token carries only what its creator holds.
#[tokio::test]
async fn tokens_never_carry_more_than_their_creator() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        for (username, role, region, department) in [
            ("district", Role::RegionAdmin, Some("120112"), None),
            (
                "deptadmin",
                Role::DepartmentAdmin,
                Some("120112"),
                Some(APPROVAL_BUREAU),
            ),
        ] {
            db.store
                .create_user(
                    &NewUser {
                        username: username.into(),
                        display_name: username.into(),
                        password: PASSWORD.into(),
                        grants: vec![Grant {
                            role,
                            region: region.map(|r| RegionCode::parse(r).unwrap()),
                            department: department.map(|d| CreditCode::parse(d).unwrap()),
                        }],
                    },
                    &Actor::system("test"),
                    DEMO_NOW_MS,
                )
                .await
                .unwrap();
        }
        let site = serve(&db, false).await;
        let district = site.sign_in(&db, "district").await;
        let deptadmin = site.sign_in(&db, "deptadmin").await;
        let admin = site.sign_in(&db, "admin").await;
        assert_eq!(
            site.get("/console/cases", Some(&district)).await.status(),
            StatusCode::FORBIDDEN,
            "the district administrator handles no cases"
        );
        for (session, role, department) in [
            (&district, "clerk", ""),
            (&district, "reviewer", ""),
            (&district, "approver", ""),
            (&district, "clerk", APPROVAL_BUREAU),
            (&admin, "approver", APPROVAL_BUREAU),
            (&deptadmin, "auditor", APPROVAL_BUREAU),
            (&deptadmin, "clerk", APPROVAL_BUREAU),
        ] {
            let res = create(
                &site,
                session,
                &[
                    ("name", "越权"),
                    ("role", role),
                    ("region", "120112"),
                    ("department", department),
                    ("days", "30"),
                ],
            )
            .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{role} {department}");
            let html = res.text().await.unwrap();
            assert!(
                html.contains("令牌的权限不能超出您本人的权限"),
                "{role}: the reason is given"
            );
        }
        // Only the declared token roles are offered.
        let html = site
            .get("/console/tokens", Some(&district))
            .await
            .text()
            .await
            .unwrap();
        for offered in ["auditor", "clerk", "reviewer", "approver"] {
            assert!(html.contains(&format!(r#"value="{offered}""#)), "{offered}");
        }
        for never in [
            "platform_admin",
            "region_admin",
            "department_admin",
            "catalog_admin",
            "agent",
        ] {
            assert!(!html.contains(&format!(r#"value="{never}""#)), "{never}");
        }
        // A feed token names its region.
        let res = create(
            &site,
            &admin,
            &[("name", "全国"), ("role", "auditor"), ("days", "30")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("必须指定行政区划"));
        assert!(
            db.store.api_tokens().await.unwrap().is_empty(),
            "nothing issued"
        );
        // What the district administrator holds, he may lend: the feed of his district.
        let res = create(
            &site,
            &district,
            &[
                ("name", "区级上报"),
                ("role", "auditor"),
                ("region", "120112"),
                ("days", "30"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}
