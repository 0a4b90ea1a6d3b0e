//! The case API on every backend: an applicant applies, saves answers (forged names refused),
//! submits (idempotent) and follows the case; another system acts with an API token within its
//! grant (stale versions conflict); a provincial platform reads the GB/T 39046 feed page by page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::auth::{APPROVAL_BUREAU, Site, serve};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, COOKIE, ORIGIN};
use serde_json::{Value, json};
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};
use yiwang_store::{Actor, NewApiToken, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends};

const ITEM: &str = "11120112MB1W167324000112001001";
/// 天津市津南区市场监督管理局 (the parallel review of the item below).
const MARKET: &str = "11120112MB1L902463";

fn grant(role: Role, dept: Option<&str>) -> Grant {
    Grant {
        role,
        region: Some(RegionCode::parse("120112").unwrap()),
        department: dept.map(|d| CreditCode::parse(d).unwrap()),
    }
}

async fn staff_user(db: &TestDb, username: &str, grants: Vec<Grant>) -> Principal {
    let id = db
        .store
        .create_user(
            &NewUser {
                username: username.into(),
                display_name: username.into(),
                password: "Token-Admin-2026".into(),
                grants,
            },
            &Actor::system("t"),
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
    db.store.principal(id).await.unwrap().unwrap()
}
const PASSWORD: &str = "Shenqing-2026!";

async fn register(site: &Site, name: &str, id: &str) -> String {
    site.register_applicant(name, id, "13800138000", PASSWORD)
        .await
}

async fn send(
    site: &Site,
    method: reqwest::Method,
    path: &str,
    cookie: Option<&str>,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = site
        .client
        .request(method, site.url(path))
        .header(ORIGIN, site.base.clone());
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    if let Some(t) = token {
        req = req.header(AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let v = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

async fn token(
    db: &TestDb,
    admin: &Principal,
    name: &str,
    role: Role,
    dept: Option<&str>,
) -> String {
    db.store
        .create_api_token(
            &NewApiToken {
                name: name.into(),
                grant: Grant {
                    role,
                    region: Some(RegionCode::parse("120112").unwrap()),
                    department: dept.map(|d| CreditCode::parse(d).unwrap()),
                },
                expires_at: DEMO_NOW_MS + 86_400_000 * 30,
            },
            admin,
            "test",
            DEMO_NOW_MS,
        )
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn case_api_and_feed_on_every_backend() {
    use reqwest::Method;
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        // The item follows a parallel review (so a token decides a task below).
        let def = yiwang_domain::workflow::promised_parallel(
            "api_parallel",
            &[("market", CreditCode::parse("11120112MB1L902463").unwrap())],
        );
        db.store
            .save_workflow(&def.to_json().unwrap(), &Actor::system("t"), DEMO_NOW_MS)
            .await
            .unwrap()
            .unwrap();
        db.store
            .bind_workflow(
                &yiwang_domain::workflow::BindingScope::Implementation {
                    impl_code: yiwang_domain::ImplCode::parse(ITEM).unwrap(),
                },
                "api_parallel",
                1,
                &Actor::system("t"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let site = serve(&db, true).await;
        let alice = register(&site, "张三", "11010519491231002X").await;
        let bob = register(&site, "李四", "120112199001011238").await;

        // Without an applicant session: 401 JSON (or the sign-in redirect), never a draft.
        let (s, _) = send(
            &site,
            Method::POST,
            "/api/v1/applications",
            None,
            None,
            Some(json!({"impl_code": ITEM})),
        )
        .await;
        assert!(
            s == StatusCode::UNAUTHORIZED || s == StatusCode::SEE_OTHER,
            "{b}: {s}"
        );
        let (s, v) = send(
            &site,
            Method::POST,
            "/api/v1/applications",
            Some(&alice),
            None,
            Some(json!({"impl_code": "nope"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        let (s, v) = send(
            &site,
            Method::POST,
            "/api/v1/applications",
            Some(&alice),
            None,
            Some(json!({"impl_code": ITEM})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}: {v}");
        let id = v["id"].as_i64().unwrap();
        let answers = format!("/api/v1/applications/{id}/answers");
        // Forged field names: 400, nothing saved.
        let (s, _) = send(
            &site,
            Method::PUT,
            &answers,
            Some(&alice),
            None,
            Some(json!({"pairs": [["is_admin", "1"]]})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        // Someone else's draft does not exist for them.
        let (s, _) = send(
            &site,
            Method::PUT,
            &answers,
            Some(&bob),
            None,
            Some(json!({"pairs": []})),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
        // A partial draft saves and lists what is still missing.
        let (s, v) = send(
            &site,
            Method::PUT,
            &answers,
            Some(&alice),
            None,
            Some(json!({"pairs": [["contact_name", "张三"]]})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert!(v["errors"].as_array().unwrap().len() >= 2, "{b}: {v}");
        let submit = format!("/api/v1/applications/{id}/submit");
        let (s, _) = send(
            &site,
            Method::POST,
            &submit,
            Some(&alice),
            None,
            Some(json!({"declaration": true})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: incomplete");
        let full = json!({"pairs": [["description", "开办游泳馆"], ["contact_name", "张三"], ["contact_phone", "13800138000"]]});
        let (s, v) = send(&site, Method::PUT, &answers, Some(&alice), None, Some(full)).await;
        assert_eq!(
            (s, v["errors"].as_array().unwrap().len()),
            (StatusCode::OK, 0),
            "{b}: {v}"
        );
        let (s, _) = send(
            &site,
            Method::POST,
            &submit,
            Some(&alice),
            None,
            Some(json!({"declaration": false})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: no declaration");
        // The required materials are missing: named in the error.
        let (s, v) = send(
            &site,
            Method::POST,
            &submit,
            Some(&alice),
            None,
            Some(json!({"declaration": true})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let missing = v["error"]["issues"].as_array().unwrap().len();
        assert_eq!(missing, 6, "{b}: {v}");
        let materials = db
            .store
            .published_implementation(&yiwang_domain::ImplCode::parse(ITEM).unwrap())
            .await
            .unwrap()
            .unwrap()
            .implementation
            .materials;
        let pdf: &[u8] =
            b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
        for (i, m) in materials.iter().filter(|m| m.mandatory).enumerate() {
            let bytes: Vec<u8> = if i == 0 {
                b"MZ\x90\x00not a pdf".to_vec()
            } else {
                pdf.to_vec()
            };
            let form = reqwest::multipart::Form::new()
                .text("material", m.name.clone())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("材料.pdf"),
                );
            let res = site
                .client
                .post(site.url(&format!("/api/v1/applications/{id}/materials")))
                .header(ORIGIN, site.base.clone())
                .header(COOKIE, alice.clone())
                .multipart(form)
                .send()
                .await
                .unwrap();
            if i == 0 {
                assert_eq!(
                    res.status(),
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "{b}: a renamed program"
                );
                let form = reqwest::multipart::Form::new()
                    .text("material", m.name.clone())
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(pdf.to_vec()).file_name("材料.pdf"),
                    );
                let res = site
                    .client
                    .post(site.url(&format!("/api/v1/applications/{id}/materials")))
                    .header(ORIGIN, site.base.clone())
                    .header(COOKIE, alice.clone())
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED, "{b}");
                let v: Value = res.json().await.unwrap();
                assert_eq!(v["kind"], "pdf");
                assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
                continue;
            }
            assert_eq!(res.status(), StatusCode::CREATED, "{b}: {}", m.name);
        }
        let (s, v) = send(
            &site,
            Method::POST,
            &submit,
            Some(&alice),
            None,
            Some(json!({"declaration": true})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["created"], true);
        let number = v["case_number"].as_str().unwrap().to_string();
        let (_, again) = send(
            &site,
            Method::POST,
            &submit,
            Some(&alice),
            None,
            Some(json!({"declaration": true})),
        )
        .await;
        assert_eq!(
            (again["case_number"].as_str(), again["created"].as_bool()),
            (Some(number.as_str()), Some(false)),
            "{b}"
        );
        // The submission's SMS goes to the applicant's phone (read with the draft).
        let mut sms = None;
        while let Some(c) = db
            .store
            .claim_outbox(
                DEMO_NOW_MS + 86_400_000,
                60_000,
                "test",
                &[yiwang_store::outbox::ChannelKind::Sms],
            )
            .await
            .unwrap()
        {
            if c.message.case_number.as_deref() == Some(number.as_str()) {
                sms = Some(c);
                break;
            }
        }
        let sms = sms.expect("an SMS about the new case");
        assert_eq!(sms.recipient.as_deref(), Some("13800138000"), "{b}");

        let mine = format!("/api/v1/my/cases/{number}");
        let (s, v) = send(&site, Method::GET, &mine, Some(&alice), None, None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(v["status"], "submitted");
        assert_eq!(v["status_text"], "已提交，等待受理");
        let (s, _) = send(&site, Method::GET, &mine, Some(&bob), None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");

        // Tokens carry only power their creator holds. The platform administrator decides no
        // cases, so he issues no case-work token (the reported hole: an administrator minted
        // clerk, reviewer and approver tokens and decided a case with them).
        let admin = staff_user(&db, "tokenadmin", vec![grant(Role::PlatformAdmin, None)]).await;
        for role in [Role::Clerk, Role::Reviewer, Role::Approver] {
            let e = db
                .store
                .create_api_token(
                    &NewApiToken {
                        name: "x".into(),
                        grant: grant(role, Some(APPROVAL_BUREAU)),
                        expires_at: DEMO_NOW_MS + 86_400_000,
                    },
                    &admin,
                    "test",
                    DEMO_NOW_MS,
                )
                .await
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::TokenBeyondCreator, "{b}: {role:?}");
        }
        // The bureaus' own case workers issue their systems' tokens; the platform administrator
        // the provincial platform's feed token.
        let window = staff_user(
            &db,
            "windowlead",
            vec![grant(Role::Clerk, Some(APPROVAL_BUREAU))],
        )
        .await;
        let market = staff_user(
            &db,
            "marketlead",
            vec![
                grant(Role::Clerk, Some(MARKET)),
                grant(Role::Reviewer, Some(MARKET)),
            ],
        )
        .await;
        let clerk = token(
            &db,
            &window,
            "window system",
            Role::Clerk,
            Some(APPROVAL_BUREAU),
        )
        .await;
        let other = token(&db, &market, "market system", Role::Clerk, Some(MARKET)).await;
        let province = token(&db, &admin, "provincial platform", Role::Auditor, None).await;

        let act = format!("/api/v1/cases/{number}/actions");
        let (s, _) = send(
            &site,
            Method::POST,
            &act,
            None,
            Some(&other),
            Some(json!({"action": "accept"})),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{b}: outside the token's department"
        );
        let (s, _) = send(
            &site,
            Method::POST,
            &act,
            None,
            Some(&clerk),
            Some(json!({"action": "approve", "opinion": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: not possible in this state");
        let (s, _) = send(
            &site,
            Method::POST,
            &act,
            None,
            Some(&clerk),
            Some(json!({"action": "accept", "expected_version": 99})),
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}: stale version");
        let (s, v) = send(
            &site,
            Method::POST,
            &act,
            None,
            Some(&clerk),
            Some(json!({"action": "accept", "expected_version": 1})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["state"], "reviewing");
        assert!(v["due_date"].is_string(), "{b}");
        // Another system of the market bureau decides its parallel task (no staff account
        // behind the token: the decision is attributed to the token in the audit log).
        let reviewer = token(
            &db,
            &market,
            "market review system",
            Role::Reviewer,
            Some(MARKET),
        )
        .await;
        let (s, v) = send(
            &site,
            Method::POST,
            &act,
            None,
            Some(&reviewer),
            Some(json!({"action": "market.approve"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["state"], "deciding", "{b}: the only task joined");

        // The feed: page by page, in order; the clerk token may not read it.
        let (s, _) = send(
            &site,
            Method::GET,
            "/api/v1/feed/case-events",
            None,
            Some(&clerk),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
        let (s, _) = send(
            &site,
            Method::GET,
            "/api/v1/feed/case-events?after=x.y",
            None,
            Some(&province),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let (s, p1) = send(
            &site,
            Method::GET,
            "/api/v1/feed/case-events?limit=1",
            None,
            Some(&province),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}: {p1}");
        let e = &p1["events"][0];
        assert_eq!(e["kind"], "application", "{b}");
        assert_eq!(e["case_number"], number.as_str());
        assert_eq!(e["applicant"]["id_type"], "111");
        assert_eq!(e["applicant"]["id_number"], "11010519491231002X");
        let next = p1["next"].as_str().unwrap();
        let (_, p2) = send(
            &site,
            Method::GET,
            &format!("/api/v1/feed/case-events?after={next}"),
            None,
            Some(&province),
            None,
        )
        .await;
        let kinds: Vec<&str> = p2["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["acceptance", "handling"], "{b}: {p2}");
        assert!(p2["events"][0]["due_date"].is_string());
        assert!(p2["next"].is_null());
        // Every page read is on the record.
        let audited = db
            .store
            .audit_entries(&yiwang_store::AuditFilter {
                object_prefix: Some("feed:".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audited.len(), 2, "{b}");

        // A district administrator may issue a feed token for his district (he reads the feed),
        // but sees no ID number in full, so neither does his token.
        let jinnan = staff_user(&db, "jinnanadmin", vec![grant(Role::RegionAdmin, None)]).await;
        let district = token(&db, &jinnan, "district report", Role::Auditor, None).await;
        let feed = "/api/v1/feed/case-events";
        let (s, v) = send(&site, Method::GET, feed, None, Some(&district), None).await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["events"].as_array().unwrap().len(), 3, "{b}: {v}");
        assert_eq!(
            v["events"][0]["applicant"]["id_number"], "110105********002X",
            "{b}: masked"
        );
        // A department's feed token reads that department's cases only.
        let bureau_feed = token(
            &db,
            &admin,
            "bureau report",
            Role::Auditor,
            Some(APPROVAL_BUREAU),
        )
        .await;
        let market_feed = token(&db, &admin, "market report", Role::Auditor, Some(MARKET)).await;
        let (s, v) = send(&site, Method::GET, feed, None, Some(&bureau_feed), None).await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["events"].as_array().unwrap().len(), 3, "{b}: {v}");
        let (s, v) = send(&site, Method::GET, feed, None, Some(&market_feed), None).await;
        assert_eq!(s, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["events"], json!([]), "{b}: another department's case");
        // A feed token without a region reads nothing (nor may one be issued).
        let e = db
            .store
            .create_api_token(
                &NewApiToken {
                    name: "x".into(),
                    grant: Grant {
                        role: Role::Auditor,
                        region: None,
                        department: Some(CreditCode::parse(MARKET).unwrap()),
                    },
                    expires_at: DEMO_NOW_MS + 86_400_000,
                },
                &admin,
                "test",
                DEMO_NOW_MS,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::TokenUnscoped, "{b}");
        sqlx::query("UPDATE api_tokens SET region_code = NULL WHERE name = 'market report'")
            .execute(db.store.pool())
            .await
            .unwrap();
        site.clock.advance(2_000);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (s, _) = send(&site, Method::GET, feed, None, Some(&market_feed), None).await;
        assert!(
            s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN,
            "{b}: {s}"
        );

        // Every read that carried alice's data, and what the token systems did to her case,
        // is on her "who used my data" page; nothing of it on bob's.
        let entries = db
            .store
            .audit_entries(&yiwang_store::AuditFilter {
                object_prefix: Some(format!("case:{number}")),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        let reads = entries
            .iter()
            .filter(|e| e.event.action == "case.feed_read")
            .count();
        assert_eq!(
            reads, 3,
            "{b}: province, district, bureau each read her application once"
        );
        let html = site
            .client
            .get(site.url("/me/data-use"))
            .header(COOKIE, &alice)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("经接口上报"), "{b}: feed reads shown");
        assert!(html.contains("受理"), "{b}: the token's acceptance shown");
        assert!(html.contains("并联审查"), "{b}: the token's review shown");
        assert!(
            html.contains("天津市津南区行政审批局"),
            "{b}: by department"
        );
        let html = site
            .client
            .get(site.url("/me/data-use"))
            .header(COOKIE, &bob)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains(&number), "{b}");
    }
}
