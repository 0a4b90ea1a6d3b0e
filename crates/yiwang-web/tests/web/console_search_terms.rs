//! Search terms and life events edited in the console over real HTTP on every backend: the
//! policy (platform-wide for terms, the event's region for a life event), invalid input listed
//! and not saved, and every saved change — and a catalog publication — found by search within
//! one second.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::console::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use yiwang_app::clock::Clock;
use yiwang_domain::ImplCode;
use yiwang_domain::catalog::CatalogEntry;
use yiwang_domain::policy::CatalogScope;
use yiwang_store::AuditFilter;
use yiwang_testkit::{backends, with_demo};

const TERMS: &str = "/console/search-terms";
const EVENT: &str = "/console/life-events/open-restaurant";
/// 药品零售企业许可 of 津南区.
const PHARMACY: &str = "药品零售企业许可";
const HYGIENE: &str = "公共场所卫生许可";
/// A phrase no catalog text contains.
const PHRASE: &str = "茶饮铺子";

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, val)| (k.to_string(), val.to_string()))
        .collect()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The names of the first hits of `GET /api/v1/search?q=`.
async fn top_names(http: &Http, q: &str) -> Vec<String> {
    let res = http
        .get(&format!("/api/v1/search?q={}&limit=3", enc(q)), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: serde_json::Value = res.json().await.unwrap();
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect()
}

/// Polls the search API until the first hit for `q` satisfies `ok`; the time it took. The index
/// looks for changes on the server's clock, at most every `CHECK_EVERY_MS`: the fixed clock
/// starts one such period after the last look (as the wall clock would be after the console
/// steps) and then moves with the wall clock.
async fn until_found(http: &Http, q: &str, ok: impl Fn(&[String]) -> bool) -> Duration {
    let t = Instant::now();
    let start_ms = http.clock.now_ms() + yiwang_search::service::CHECK_EVERY_MS;
    loop {
        follow_wall_clock(http, start_ms, t);
        let names = top_names(http, q).await;
        if ok(&names) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{q:?} still gives {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sets the server's clock to `start_ms` plus the wall time since `t`.
fn follow_wall_clock(http: &Http, start_ms: i64, t: Instant) {
    let elapsed_ms = i64::try_from(t.elapsed().as_millis()).unwrap();
    http.clock.set(start_ms + elapsed_ms);
}

#[tokio::test]
async fn search_terms_and_life_events_edited_in_the_console_on_every_backend() {
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        create_users(&db).await;
        let http = Http::new(&serve(&db, config()).await);

        // Anonymous: to the sign-in page.
        let res = http.get(TERMS, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(location(&res).starts_with("/console/login?next="), "{b}");

        // Search is warm and knows nothing of the phrase yet.
        let before = top_names(&http, PHRASE).await;
        assert!(
            before.first().is_none_or(|n| n != HYGIENE),
            "{b}: {before:?}"
        );

        // A department's catalog administrator may read but not change terms or life events.
        let catalog = http.login("catalog").await;
        let (status, html) = http.page(TERMS, &catalog).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert!(html.contains("准生证"), "{b}: the seed terms are listed");
        assert!(html.contains("只有平台级的发布权限才能修改"), "{b}");
        assert!(!html.contains(r#"name="phrase""#), "{b}: no form");
        let res = http
            .post_form(
                TERMS,
                &catalog,
                &pairs(&[
                    ("kind", "synonym"),
                    ("phrase", PHRASE),
                    ("expansion", HYGIENE),
                ]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        let (status, _) = http.page(EVENT, &catalog).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{b}: a department is not the region"
        );
        // A township's administrator does not hold the district's life events.
        let township = http.login("township").await;
        let (status, _) = http.page(EVENT, &township).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{b}");

        let admin = http.login("platform").await;
        let count = db.store.search_terms().await.unwrap().len();

        // Invalid: a synonym without an expansion, a word with one. Listed, nothing saved.
        for (kind, expansion, message) in [
            ("synonym", "", "同义词要填写“按此查找”的词"),
            ("word", HYGIENE, "只有同义词才填写“按此查找”"),
            ("nonsense", "", "取值不在允许范围内"),
        ] {
            let res = http
                .post_form(
                    TERMS,
                    &admin,
                    &pairs(&[("kind", kind), ("phrase", PHRASE), ("expansion", expansion)]),
                )
                .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b} {kind}");
            let html = res.text().await.unwrap();
            assert!(html.contains(message), "{b} {kind}: {message}");
            assert!(html.contains(PHRASE), "{b}: the typed text comes back");
        }
        assert_eq!(db.store.search_terms().await.unwrap().len(), count, "{b}");

        // Add a synonym: search reads the phrase as the item within a second.
        let res = http
            .post_form(
                TERMS,
                &admin,
                &pairs(&[
                    ("kind", "synonym"),
                    ("phrase", &format!("  {PHRASE} ")),
                    ("expansion", HYGIENE),
                ]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let took = until_found(&http, PHRASE, |n| n.first().is_some_and(|n| n == HYGIENE)).await;
        assert!(took < Duration::from_secs(1), "{b}: visible after {took:?}");
        let row = db
            .store
            .search_terms()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.phrase == PHRASE)
            .expect("saved, trimmed");
        assert_eq!(
            (
                row.kind.as_str(),
                row.expansion.as_str(),
                row.updated_by.as_str()
            ),
            ("synonym", HYGIENE, "platform"),
            "{b}"
        );

        // Edit it: the form comes prefilled, the change is live within a second.
        let (status, html) = http.page(&format!("{TERMS}?edit={}", row.id), &admin).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        assert!(
            html.contains(&format!(r#"name="id" value="{}""#, row.id)),
            "{b}"
        );
        assert!(html.contains(&format!(r#"value="{PHRASE}""#)), "{b}");
        let res = http
            .post_form(
                TERMS,
                &admin,
                &pairs(&[
                    ("id", &row.id.to_string()),
                    ("kind", "synonym"),
                    ("phrase", PHRASE),
                    ("expansion", PHARMACY),
                ]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let took = until_found(&http, PHRASE, |n| n.first().is_some_and(|n| n == PHARMACY)).await;
        assert!(
            took < Duration::from_secs(1),
            "{b}: edit visible after {took:?}"
        );
        // Renaming it onto an existing phrase of the same kind is a conflict, shown plainly.
        let res = http
            .post_form(
                TERMS,
                &admin,
                &pairs(&[
                    ("id", &row.id.to_string()),
                    ("kind", "synonym"),
                    ("phrase", "准生证"),
                    ("expansion", PHARMACY),
                ]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{b}");
        assert!(
            res.text().await.unwrap().contains("已有同类型的相同说法"),
            "{b}"
        );

        // Delete it: gone from the list and from search.
        let res = http
            .post_form(&format!("{TERMS}/{}/delete", row.id), &admin, &[])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert!(
            !db.store
                .search_terms()
                .await
                .unwrap()
                .iter()
                .any(|r| r.phrase == PHRASE),
            "{b}"
        );
        until_found(&http, PHRASE, |n| n.first().is_none_or(|n| n != PHARMACY)).await;
        let res = http
            .post_form(&format!("{TERMS}/{}/delete", row.id), &admin, &[])
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}: already deleted");
        let audits = db
            .store
            .audit_entries(&AuditFilter {
                object_prefix: Some(format!("search_term:{}", row.id)),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let actions: Vec<&str> = audits.iter().map(|a| a.event.action.as_str()).collect();
        for a in [
            "search.term.save",
            "search.term.update",
            "search.term.delete",
        ] {
            assert!(actions.contains(&a), "{b}: {a} in {actions:?}");
        }

        // A life event: the definition as JSON; an invalid one is listed and not saved.
        let (status, html) = http.page(EVENT, &admin).await;
        assert_eq!(status, StatusCode::OK, "{b}: {html}");
        assert!(
            html.contains("open-restaurant") && html.contains("<textarea"),
            "{b}"
        );
        let stored = |db: &yiwang_testkit::TestDb| {
            let store = db.store.clone();
            async move {
                store
                    .life_events()
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|e| e.code == "open-restaurant")
                    .unwrap()
            }
        };
        let original = stored(&db).await;
        let mut def: serde_json::Value = serde_json::from_str(&original.definition).unwrap();
        let mut broken = def.clone();
        broken["items"][0]["basic_code"] = "999999999".into();
        broken["items"][0]["when"] = serde_json::json!([{"question": "nope", "any_of": ["x"]}]);
        broken["region"] = "12".into();
        let broken = serde_json::to_string_pretty(&broken).unwrap();
        for (json, messages) in [
            (
                broken.as_str(),
                &[
                    "条件里的问题“nope”不存在",
                    "目录里没有基本编码为“999999999”的事项",
                ][..],
            ),
            ("{ not json", &["JSON 格式不对"][..]),
        ] {
            let res = http
                .post_form(
                    EVENT,
                    &admin,
                    &pairs(&[("definition", json), ("op", "save")]),
                )
                .await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
            let html = res.text().await.unwrap();
            assert!(html.contains("没有保存"), "{b}");
            for m in messages {
                assert!(html.contains(m), "{b}: {m}");
            }
            assert!(html.contains(r#"aria-invalid="true""#), "{b}");
        }
        assert_eq!(stored(&db).await.definition, original.definition, "{b}");

        // Valid: saved, and the portal and search use it within a second.
        def["name"] = "开办小吃店".into();
        def["keywords"] = serde_json::json!(["卖煎饼果子"]);
        let json = serde_json::to_string_pretty(&def).unwrap();
        let res = http
            .post_form(
                EVENT,
                &admin,
                &pairs(&[("definition", &json), ("op", "check")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{b}");
        assert!(
            res.text().await.unwrap().contains("检查通过，还没有保存"),
            "{b}"
        );
        assert_eq!(stored(&db).await.name, original.name, "{b}: check only");
        let res = http
            .post_form(
                EVENT,
                &admin,
                &pairs(&[("definition", &json), ("op", "save")]),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        assert_eq!(stored(&db).await.name, "开办小吃店", "{b}");
        let t = Instant::now();
        // As in `until_found`: the server's clock moves with the wall clock.
        let start_ms = http.clock.now_ms() + yiwang_search::service::CHECK_EVERY_MS;
        loop {
            follow_wall_clock(&http, start_ms, t);
            let res = http
                .get(&format!("/api/v1/search?q={}", enc("卖煎饼果子")), None)
                .await;
            let v: serde_json::Value = res.json().await.unwrap();
            if v["life_events"][0]["name"] == "开办小吃店" {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(1), "{b}: {v}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_publication_is_found_by_search_within_one_second_on_every_backend() {
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let result = "鲸鱼飞艇";
        let before = top_names(&http, result).await;
        assert!(
            before.first().is_none_or(|n| n != PHARMACY),
            "{b}: {before:?}"
        );
        // A new version of 药品零售企业许可 whose result names something no other item has.
        let code = ImplCode::parse("11120112MB1W167324000124001001").unwrap();
        let w = db
            .store
            .published_implementation(&code)
            .await
            .unwrap()
            .expect("demo item");
        assert_eq!(w.standard.name, PHARMACY, "{b}");
        let mut entry = CatalogEntry {
            standard: w.standard.clone(),
            implementation: w.implementation.clone(),
        };
        entry.implementation.result_name = result.to_string();
        let actor = yiwang_store::Actor::system("test");
        #[allow(
            clippy::disallowed_methods,
            reason = "the search index checks for changes on a real timer"
        )]
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        db.store
            .save_drafts(&[entry], &actor, now, &mut |_| {})
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        let draft = top_names(&http, result).await;
        assert!(
            draft.first().is_none_or(|n| n != PHARMACY),
            "{b}: a draft is not searchable: {draft:?}"
        );
        let scope = CatalogScope {
            all: true,
            grants: Vec::new(),
        };
        db.store
            .publish_drafts(&scope, None, &actor, now)
            .await
            .unwrap();
        let took = until_found(&http, result, |n| n.first().is_some_and(|n| n == PHARMACY)).await;
        assert!(took < Duration::from_secs(1), "{b}: visible after {took:?}");
    }
}
