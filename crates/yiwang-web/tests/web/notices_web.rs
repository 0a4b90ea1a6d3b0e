//! Notices and certificates as a citizen and a clerk meet them, over real HTTP on every backend:
//! a food licence taken from submission to approval on a server listening on a port the system
//! chose; every notice's QR code, decoded from the PDF, opens the verification page of that
//! server; the certificate names the business from the form (name, credit code, premises,
//! type, scope) under a short certificate number; notices carry the bureau's 文号 (numbered per
//! department and year) and the digest the verification page shows; `/verify` offers a box to
//! type a code. The console menu shows each role only what it may open; the dashboard lists
//! the work waiting, overdue first; TOTP enrolment shows a QR code of the setup link.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::qr::{decode_pdf, decode_svg};
use crate::support::{client, location};
use reqwest::StatusCode;
use std::sync::Arc;
use yiwang_app::clock::FixedClock;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::CaseSource;
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_domain::{CreditCode, ImplCode, RegionCode};
use yiwang_store::applications::DraftOwner;
use yiwang_store::cases::{ActionRequest, CaseActor, CaseClock};
use yiwang_store::{Actor, NewUser, Store};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends};
use yiwang_web::{AppState, WebConfig, router};

const FOOD: &str = "11120112MB1W167324000123001001";
const BUREAU: &str = "11120112MB1W167324";
const MARKET: &str = "11120112MB1L902463";
const HEALTH: &str = yiwang_app::demo::DEMO_HEALTH;
const BUSINESS: &str = "津南区小李面馆";

/// A server as `yiwang serve --listen 0.0.0.0:0` starts it: bound first, its public address
/// derived from the bound one (no public address configured), the demo's notice settings.
async fn serve_bound(db: &TestDb) -> (String, AppState) {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let bound = listener.local_addr().unwrap();
    let public_url = yiwang_web::serve_support::public_url(None, bound);
    let config = WebConfig {
        secure_cookies: false,
        public_url: public_url.clone(),
        notices: yiwang_app::notices::NoticeSettings::demo(),
        ..Default::default()
    };
    let mut state = AppState::new(db.store.clone(), config);
    state.clock = Arc::new(FixedClock::new(DEMO_NOW_MS));
    tokio::spawn(axum::serve(listener, router(state.clone())).into_future());
    (public_url, state)
}

async fn staff(store: &Store, name: &str, role: Role, dept: Option<&str>) -> Principal {
    let id = store
        .create_user(
            &NewUser {
                username: name.into(),
                display_name: format!("{name} (test)"),
                password: crate::support::console::PASSWORD.into(),
                grants: vec![Grant {
                    role,
                    region: Some(RegionCode::parse("120112").unwrap()),
                    department: dept.map(|d| CreditCode::parse(d).unwrap()),
                }],
            },
            &Actor::system("test"),
            DEMO_NOW_MS,
        )
        .await
        .unwrap();
    store.principal(id).await.unwrap().unwrap()
}

/// The food-licence form as 小李 fills it in for his noodle shop.
fn answers(credit: &str) -> serde_json::Value {
    let pairs: Vec<(&str, &str)> = vec![
        ("business_name", BUSINESS),
        ("credit_code", credit),
        ("legal_rep", "李小龙"),
        ("legal_rep_id", "11010519491231002X"),
        ("phone", "13900000000"),
        ("address.region", "120112100000"),
        ("address.detail", "津沽公路 88 号"),
        ("business_form", "catering"),
        ("business_types", "hot_food"),
        ("business_types", "cold_food"),
        ("area", "45"),
        ("online", "no"),
        ("managers[0].name", "钱芳"),
        ("managers[0].id_number", "11010519491231002X"),
        ("managers[0].phone", "13700137000"),
    ];
    serde_json::json!({ "pairs": pairs })
}

#[tokio::test]
async fn notices_carry_numbers_seals_digests_and_qr_codes_of_the_server_they_came_from() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let store = db.store.clone();
        let (public, state) = serve_bound(&db).await;
        assert!(
            public.starts_with("http://127.0.0.1:") && !public.ends_with(":0"),
            "{b}: the bound port, reachable on this host: {public}"
        );
        let credit = CreditCode::with_check_char("92120112MA05L3XK1").unwrap();
        let applicant =
            yiwang_testkit::applicant(&store, "11010519491231002X", "13900000000", DEMO_NOW_MS)
                .await;
        let code = ImplCode::parse(FOOD).unwrap();
        let app = store
            .create_application(applicant.id, &code, CaseSource::Online, None, DEMO_NOW_MS)
            .await
            .unwrap();
        store
            .save_answers(
                app.id,
                DraftOwner::Applicant(applicant.id),
                &answers(credit.as_str()),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let calendar = store.calendar().await.unwrap();
        let clock = CaseClock {
            now_ms: DEMO_NOW_MS,
            today: CivilDate::from_unix_ms(DEMO_NOW_MS, 8 * 3600),
            calendar: &calendar,
        };
        let submitted = store
            .submit_application(app.id, CaseActor::Applicant(&applicant), "127.0.0.1", clock)
            .await
            .unwrap();
        let number = submitted.number.clone();
        let clerk = staff(&store, "n_clerk", Role::Clerk, Some(BUREAU)).await;
        let market = staff(&store, "n_market", Role::Reviewer, Some(MARKET)).await;
        let health = staff(&store, "n_health", Role::Reviewer, Some(HEALTH)).await;
        let approver = staff(&store, "n_approver", Role::Approver, Some(BUREAU)).await;
        let act = |action: &str| ActionRequest {
            action: action.into(),
            opinion: Some("经审查，符合要求。".into()),
            ..Default::default()
        };
        for (who, action) in [
            (&clerk, "accept"),
            (&market, "market.approve"),
            (&health, "health.approve"),
            (&approver, "approve"),
        ] {
            store
                .act_on_case(
                    &number,
                    &act(action),
                    CaseActor::Staff(who),
                    "127.0.0.1",
                    clock,
                    Some(state.docs.as_ref()),
                )
                .await
                .unwrap_or_else(|e| panic!("{b}: {action}: {e}"));
        }

        let docs = store.documents_for_case(number.as_str()).await.unwrap();
        let kinds: Vec<&str> = docs.iter().map(|d| d.kind.key()).collect();
        assert_eq!(kinds, ["acceptance", "approval", "certificate"], "{b}");
        let year = CivilDate::from_unix_ms(DEMO_NOW_MS, 8 * 3600).ymd().0;
        // 文号 per department and year: the acceptance is the bureau's first, the approval its
        // second; the certificate has its own short number.
        assert_eq!(
            docs[0].doc_number.as_deref(),
            Some(format!("津南审批许〔{year}〕1号").as_str()),
            "{b}"
        );
        assert_eq!(
            docs[1].doc_number.as_deref(),
            Some(format!("津南审批许〔{year}〕2号").as_str()),
            "{b}"
        );
        let licence_no = docs[2].doc_number.clone().unwrap();
        assert_eq!(licence_no, "JY120112000001", "{b}");
        assert_ne!(licence_no, number.as_str());

        let http = client();
        for d in &docs {
            let pdf = yiwang_app::notices::render_stored(&d.notice_json).unwrap();
            assert!(
                d.matches(&pdf),
                "{b}: the stored notice renders the issued PDF"
            );
            let text: String = pdf_extract::extract_text_from_mem(&pdf)
                .unwrap()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            // The QR code as a phone reads it, and the page it opens on the server under test.
            let url =
                decode_pdf(&pdf).unwrap_or_else(|| panic!("{b}: {:?}: no QR code read", d.kind));
            assert_eq!(url, format!("{public}/verify/{}", d.verify_code), "{b}");
            let res = http.get(&url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{b}: {url}");
            let page = res.text().await.unwrap();
            let printed = d.printed_digest.clone().unwrap();
            assert!(
                text.contains(&printed[..8]) && text.contains(&printed[56..]),
                "{b}: digest printed: {text}"
            );
            for needle in [
                yiwang_docs::title(d.kind, yiwang_i18n::Lang::Zh),
                d.doc_number.clone().unwrap(),
                printed[..8].to_string(),
                printed[56..].to_string(),
                "天津市津南区行政审批局".to_string(),
                "有效".to_string(),
            ] {
                assert!(
                    page.contains(&needle),
                    "{b}: {:?}: verify page lacks {needle}",
                    d.kind
                );
            }
            assert!(
                !page.contains("赵明") && !page.contains("张三"),
                "{b}: no applicant on the public page"
            );
            assert!(
                text.contains(&d.doc_number.clone().unwrap()),
                "{b}: number printed: {text}"
            );
            // The JSON view says the same.
            let v: serde_json::Value = http
                .get(format!(
                    "{public}/api/v1/documents/verify/{}",
                    d.verify_code
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(v["doc_number"].as_str(), d.doc_number.as_deref(), "{b}");
            assert_eq!(v["printed_digest"].as_str(), Some(printed.as_str()), "{b}");
        }
        // The certificate names the business and states the licence's lines from the form.
        let cert = yiwang_app::notices::render_stored(&docs[2].notice_json).unwrap();
        let text: String = pdf_extract::extract_text_from_mem(&cert)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for needle in [
            format!("持证主体{BUSINESS}"),
            format!("统一社会信用代码{}", credit.as_str()),
            "经营场所天津市津南区咸水沽镇津沽公路88号".to_string(),
            "主体业态餐饮服务经营者".to_string(),
            "经营项目热食类食品制售、冷食类食品制售".to_string(),
            format!("证照编号{licence_no}"),
        ] {
            assert!(
                text.contains(&needle),
                "{b}: certificate lacks {needle}: {text}"
            );
        }
        assert!(
            !text.contains("张三"),
            "{b}: the account holder is not the licence holder: {text}"
        );
        // The approval quotes the certificate's number.
        let approval = yiwang_app::notices::render_stored(&docs[1].notice_json).unwrap();
        let text: String = pdf_extract::extract_text_from_mem(&approval)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.contains(&licence_no), "{b}: {text}");

        // A second case's acceptance takes the bureau's next number.
        let app2 = store
            .create_application(applicant.id, &code, CaseSource::Online, None, DEMO_NOW_MS)
            .await
            .unwrap();
        store
            .save_answers(
                app2.id,
                DraftOwner::Applicant(applicant.id),
                &answers(credit.as_str()),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let second = store
            .submit_application(
                app2.id,
                CaseActor::Applicant(&applicant),
                "127.0.0.1",
                clock,
            )
            .await
            .unwrap();
        store
            .act_on_case(
                &second.number,
                &act("accept"),
                CaseActor::Staff(&clerk),
                "127.0.0.1",
                clock,
                Some(state.docs.as_ref()),
            )
            .await
            .unwrap();
        let d2 = store
            .documents_for_case(second.number.as_str())
            .await
            .unwrap();
        assert_eq!(
            d2[0].doc_number.as_deref(),
            Some(format!("津南审批许〔{year}〕3号").as_str()),
            "{b}"
        );

        // The box: typed with spaces and in lower case, it finds the document.
        let typed = docs[0].verify_code.as_str().to_lowercase();
        let spaced = format!("{} {}", &typed[..10], &typed[10..]);
        let res = http
            .get(format!("{public}/verify"))
            .query(&[("code", spaced.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(
            location(&res),
            format!("/verify/{}", docs[0].verify_code),
            "{b}"
        );
    }
}

#[tokio::test]
async fn verify_without_a_code_offers_a_box_and_explains_a_mistyped_one() {
    let db = yiwang_testkit::sqlite().await;
    let app = crate::support::spawn_app(&db).await;
    let res = app.get("/verify", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"<form method="get" action="/verify""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="code""#) && html.contains("核验码"),
        "{html}"
    );
    assert!(
        !html.contains("没有找到"),
        "nothing asked, no error: {html}"
    );
    // A mistyped code: the message, tied to the box, and what was typed kept.
    let res = app.get("/verify?code=ABC-123", None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("没有找到这个核验码对应的文书"), "{html}");
    assert!(html.contains(r#"value="ABC123""#), "{html}");
    assert!(
        html.contains(r#"aria-describedby="verify-code-hint verify-error""#),
        "{html}"
    );
    // A well-formed code nobody issued: its page says so and offers the box again.
    let unknown = yiwang_domain::document::VerifyCode::from_random([3; 13]);
    let res = app.get(&format!("/verify/{unknown}"), None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"name="code""#), "{html}");
    // In English the box keeps the language.
    let html = app.get("/verify?lang=en", None).await.text().await.unwrap();
    assert!(
        html.contains("Verification code") && html.contains(r#"name="lang" value="en""#),
        "{html}"
    );
}

/// The demo's staff roles, as `serve --demo` creates them.
async fn demo_staff(db: &TestDb) {
    let j = || Some(RegionCode::parse("120112").unwrap());
    let users = [
        ("admin", Role::PlatformAdmin, None, None),
        ("jinnan", Role::RegionAdmin, j(), None),
        ("chuangkou", Role::Clerk, j(), Some(BUREAU)),
        ("shichang", Role::Reviewer, j(), Some(MARKET)),
        ("weijian", Role::Reviewer, j(), Some(HEALTH)),
        ("shenpi", Role::Approver, j(), Some(BUREAU)),
        (
            "daiban",
            Role::Agent,
            Some(RegionCode::parse("120112100000").unwrap()),
            None,
        ),
    ];
    for (username, role, region, dept) in users {
        db.store
            .create_user(
                &NewUser {
                    username: username.into(),
                    display_name: format!("{username} (demo)"),
                    password: crate::support::console::PASSWORD.into(),
                    grants: vec![Grant {
                        role,
                        region,
                        department: dept.map(|d| CreditCode::parse(d).unwrap()),
                    }],
                },
                &Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
    }
}

/// The links of the console menu on a page.
fn menu(html: &str) -> Vec<String> {
    let Some(start) = html.find(r#"<nav class="console-nav""#) else {
        return Vec::new();
    };
    let nav = &html[start..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    nav.split("<a href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_console_menu_offers_each_role_only_what_it_may_open() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        demo_staff(&db).await;
        let app = crate::support::console::serve(&db, crate::support::console::config()).await;
        let http = crate::support::console::Http::new(&app);
        let mut sizes = Vec::new();
        for user in [
            "admin",
            "jinnan",
            "chuangkou",
            "shichang",
            "weijian",
            "shenpi",
            "daiban",
        ] {
            let session = http.login(user).await;
            let (status, html) = http.page("/console", &session).await;
            assert_eq!(status, StatusCode::OK, "{b}: {user}");
            let links = menu(&html);
            assert!(
                links.contains(&"/console".to_string()),
                "{b}: {user}: {links:?}"
            );
            for link in &links {
                let (status, _) = http.page(link, &session).await;
                assert_eq!(status, StatusCode::OK, "{b}: {user} is offered {link}");
            }
            // What is not offered is indeed closed to this role.
            for (path, _) in yiwang_web::CONSOLE_MENU {
                if !links.iter().any(|l| l == path) {
                    let (status, _) = http.page(path, &session).await;
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{b}: {user}: {path} hidden but open"
                    );
                }
            }
            sizes.push((user, links.len()));
        }
        let of = |u: &str| sizes.iter().find(|(n, _)| *n == u).unwrap().1;
        assert!(of("chuangkou") < of("admin"), "{b}: {sizes:?}");
        assert!(
            of("chuangkou") >= 4,
            "{b}: home, cases, intake, account at least: {sizes:?}"
        );
    }
}

#[tokio::test]
async fn the_dashboard_shows_the_work_waiting_overdue_first() {
    let mut db = yiwang_testkit::sqlite().await;
    yiwang_testkit::with_cases(&mut db).await;
    demo_staff(&db).await;
    let store = db.store.clone();
    let applicant =
        yiwang_testkit::applicant(&store, "11010519491231002X", "13900000000", DEMO_NOW_MS).await;
    let code = ImplCode::parse(FOOD).unwrap();
    let calendar = store.calendar().await.unwrap();
    let credit = CreditCode::with_check_char("92120112MA05L3XK1").unwrap();
    // Two cases submitted a month apart: the older one is overdue for acceptance by now.
    let mut numbers = Vec::new();
    for at in [DEMO_NOW_MS - 40 * 86_400_000, DEMO_NOW_MS] {
        let clock = CaseClock {
            now_ms: at,
            today: CivilDate::from_unix_ms(at, 8 * 3600),
            calendar: &calendar,
        };
        let app = store
            .create_application(applicant.id, &code, CaseSource::Online, None, at)
            .await
            .unwrap();
        store
            .save_answers(
                app.id,
                DraftOwner::Applicant(applicant.id),
                &answers(credit.as_str()),
                at,
            )
            .await
            .unwrap();
        let s = store
            .submit_application(app.id, CaseActor::Applicant(&applicant), "127.0.0.1", clock)
            .await
            .unwrap();
        numbers.push(s.number);
    }
    let app = crate::support::console::serve(&db, crate::support::console::config()).await;
    let http = crate::support::console::Http::new(&app);
    let session = http.login("chuangkou").await;
    let (status, html) = http.page("/console", &session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="work-waiting""#), "{html}");
    let urgent = &html[html.find(r#"id="work-urgent""#).unwrap()..];
    let old = urgent.find(numbers[0].as_str()).expect("older case listed");
    let new = urgent.find(numbers[1].as_str()).expect("newer case listed");
    assert!(old < new, "overdue first");
    assert!(html.contains("已超期"), "{html}");
    let by_state = &html[html.find(r#"id="work-by-state""#).unwrap()..];
    assert!(
        by_state.contains("已提交，等待受理") && by_state.contains(">2<"),
        "{by_state}"
    );
    // A role that handles no cases sees no case counts.
    let session = http.login("admin").await;
    let (_, html) = http.page("/console", &session).await;
    assert!(!html.contains(r#"id="work-waiting""#));
}

#[tokio::test]
async fn totp_enrolment_shows_a_qr_code_of_the_setup_link() {
    let db = yiwang_testkit::sqlite().await;
    yiwang_testkit::with_demo(&db).await;
    crate::support::auth::create_users(&db).await;
    let site = crate::support::auth::serve(&db, false).await;
    let pending = site.pending("admin").await;
    let html = site
        .get("/console/login/totp", Some(&pending))
        .await
        .text()
        .await
        .unwrap();
    let url = html
        .split(r#"id="totp-url" class="code">"#)
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(url.starts_with("otpauth://totp/"), "{url}");
    assert!(!html.contains("<script"), "no script");
    let scanned = decode_svg(&html, "totp-qr").expect("a QR code is shown");
    assert_eq!(scanned, url, "the QR code is the setup link");
}
