//! The audit log page: auditors read it newest first (filtered, paged, within their scope) and
//! check the chain, which is itself recorded; others are refused; hostile entry text comes back
//! escaped. Every backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::console::*;
use crate::support::security::{assert_escaped, session_for};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN};
use std::collections::BTreeSet;
use yiwang_domain::RegionCode;
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::{Actor, AuditEvent, AuditFilter, NewApiToken, NewUser};
use yiwang_testkit::{DEMO_NOW_MS, TestDb, backends, with_demo};

/// A platform-wide auditor and one limited to the township of the `township` account.
async fn create_auditors(db: &TestDb) {
    for (username, region) in [("auditor", None), ("township_auditor", Some(TOWNSHIP))] {
        db.store
            .create_user(
                &NewUser {
                    username: username.into(),
                    display_name: format!("Audit {username}"),
                    password: PASSWORD.into(),
                    grants: vec![Grant {
                        role: Role::Auditor,
                        region: region.map(|r| RegionCode::parse(r).unwrap()),
                        department: None,
                    }],
                },
                &Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
    }
}

async fn actor(db: &TestDb, username: &str) -> Actor {
    let id = db
        .store
        .user_id_by_username(username)
        .await
        .unwrap()
        .unwrap();
    let p = db.store.principal(id).await.unwrap().unwrap();
    Actor::principal(&p, "192.0.2.7")
}

async fn append(db: &TestDb, event: AuditEvent) -> i64 {
    db.store.audit(DEMO_NOW_MS + 1000, &event).await.unwrap()
}

async fn setup(db: &TestDb) -> Http {
    with_demo(db).await;
    create_users(db).await;
    create_auditors(db).await;
    Http::new(&serve(db, config()).await)
}

/// The sequence numbers of the rows shown, in page order.
fn seqs(html: &str) -> Vec<i64> {
    html.split("data-label=\"")
        .skip(1)
        .filter_map(|cell| {
            let (label, rest) = cell.split_once("\">")?;
            (label == "序号" || label == "No.").then_some(())?;
            rest.split('<').next()?.trim().parse().ok()
        })
        .collect()
}

/// The "earlier entries" link of a page, unescaped.
fn earlier(html: &str) -> Option<String> {
    let i = html.find("rel=\"next\"")?;
    let start = html[..i].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

#[tokio::test]
async fn auditors_read_newest_first_and_others_are_refused() {
    for db in backends().await {
        let http = setup(&db).await;
        let auditor = session_for(&db, "auditor").await;
        let catalog = session_for(&db, "catalog").await;
        let township = actor(&db, "township").await;
        let last = append(
            &db,
            township.event("catalog.publish", "implementation:X1", "{}"),
        )
        .await;

        // Anonymous: to the sign-in page, coming back here.
        let res = http.get("/console/audit", None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&res).starts_with("/console/login?next=%2Fconsole%2Faudit")
                || location(&res).starts_with("/console/login?next=/console/audit"),
            "{}",
            location(&res)
        );
        let res = http
            .client
            .post(http.url("/console/audit/verify"))
            .header(ORIGIN, http.base.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // A catalog administrator: 403 for reading and for checking; nothing recorded.
        let before = db.store.audit_count().await.unwrap();
        let (status, _) = http.page("/console/audit", &catalog).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let res = http.post_form("/console/audit/verify", &catalog, &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(db.store.audit_count().await.unwrap(), before);

        // The auditor: newest first, the latest entry at the top; reading records nothing.
        let (status, html) = http.page("/console/audit", &auditor).await;
        assert_eq!(status, StatusCode::OK, "{}", db.backend.name());
        let shown = seqs(&html);
        assert_eq!(shown.first(), Some(&last), "{shown:?}");
        assert!(shown.windows(2).all(|w| w[0] > w[1]), "{shown:?}");
        assert!(html.contains("catalog.publish") && html.contains("implementation:X1"));
        assert_eq!(db.store.audit_count().await.unwrap(), before);
        let (status, html) = http.page("/console/audit?lang=en", &auditor).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Audit log") && html.contains("lang=\"en\""));

        // Filters: by actor username, by object prefix; an unknown actor says so.
        let (_, html) = http.page("/console/audit?actor=township", &auditor).await;
        assert_eq!(seqs(&html), vec![last]);
        let (_, html) = http
            .page("/console/audit?object=implementation%3AX", &auditor)
            .await;
        assert_eq!(seqs(&html), vec![last]);
        let (status, html) = http.page("/console/audit?actor=nosuchuser", &auditor).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("没有这个登录名的账号") && seqs(&html).is_empty());

        // Bad paging and filter values: a clear 400, never a 5xx.
        for q in [
            "before=abc",
            "before=-1",
            "before=0",
            "before=99999999999999999999",
        ] {
            let (status, html) = http.page(&format!("/console/audit?{q}"), &auditor).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
            assert!(seqs(&html).is_empty(), "{q}");
        }
        let long = "x".repeat(201);
        let (status, _) = http
            .page(&format!("/console/audit?object={long}"), &auditor)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = http.page("/console/audit?actor=a%00b", &auditor).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // Not UTF-8: decoded with replacement characters, which name no account.
        let (status, html) = http.page("/console/audit?actor=%FF%FE", &auditor).await;
        assert!(!status.is_server_error(), "{status}");
        assert!(seqs(&html).is_empty());
    }
}

#[tokio::test]
async fn auditors_check_the_chain_and_the_check_is_recorded() {
    for db in backends().await {
        let http = setup(&db).await;
        let auditor = session_for(&db, "auditor").await;
        let n = db.store.audit_count().await.unwrap();
        assert!(n > 0);

        // A cross-site post is refused before anything runs.
        let res = http
            .client
            .post(http.url("/console/audit/verify"))
            .header(COOKIE, auditor.clone())
            .header(ORIGIN, "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(db.store.audit_count().await.unwrap(), n);

        let res = http.post_form("/console/audit/verify", &auditor, &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", db.backend.name());
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("日志完好：{n} 条记录全部核对无误")),
            "{html}"
        );
        // The check itself is the newest entry, by the auditor, and shown at the top.
        assert_eq!(db.store.audit_count().await.unwrap(), n + 1);
        let auditor_id = db.store.user_id_by_username("auditor").await.unwrap();
        let mine = db
            .store
            .audit_entries(&AuditFilter {
                actor_id: auditor_id,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].event.action, "audit.verify");
        assert_eq!(mine[0].event.object, "audit_log");
        assert!(
            mine[0].event.detail.contains("\"ok\":true"),
            "{}",
            mine[0].event.detail
        );
        assert_eq!(seqs(&html).first(), Some(&mine[0].seq));
        let report = db.store.audit_verify(&mut |_| {}).await.unwrap();
        assert!(report.ok());
    }
}

#[tokio::test]
async fn hostile_entry_text_is_escaped() {
    for db in backends().await {
        let http = setup(&db).await;
        let auditor = session_for(&db, "auditor").await;
        let township = actor(&db, "township").await;
        for v in crate::support::security::MARKUP {
            let mut e = township.event("x.<b>bold</b>", *v, *v);
            e.actor = v.to_string();
            e.client = (*v).to_string();
            append(&db, e).await;
        }
        let (status, html) = http.page("/console/audit", &auditor).await;
        assert_eq!(status, StatusCode::OK);
        assert_escaped(&html, "audit page");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "escaped payload shown"
        );
        assert!(!html.contains("<b>bold</b>"));
        // Hostile filter values come back escaped in the form.
        for v in crate::support::security::MARKUP {
            let q = crate::support::security::encode(v);
            let (status, html) = http
                .page(&format!("/console/audit?object={q}&actor="), &auditor)
                .await;
            assert!(!status.is_server_error(), "{v}: {status}");
            assert_escaped(&html, v);
        }
    }
}

#[tokio::test]
async fn paging_walks_every_entry_once() {
    for db in backends().await {
        let http = setup(&db).await;
        let auditor = session_for(&db, "auditor").await;
        let township = actor(&db, "township").await;
        let mut want = BTreeSet::new();
        for i in 0..120 {
            let seq = append(&db, township.event("test.page", format!("page:{i:03}"), "")).await;
            want.insert(seq);
            // Unrelated entries in between, so the filtered pages are sparse.
            append(&db, Actor::system("test").event("test.noise", "noise", "")).await;
        }
        let mut url = "/console/audit?object=page%3A".to_string();
        let mut got = Vec::new();
        let mut pages = 0;
        loop {
            let (status, html) = http.page(&url, &auditor).await;
            assert_eq!(status, StatusCode::OK, "{url}");
            let s = seqs(&html);
            assert!(s.len() <= 50);
            assert!(s.windows(2).all(|w| w[0] > w[1]), "{s:?}");
            got.extend(s);
            pages += 1;
            match earlier(&html) {
                Some(next) => {
                    assert!(
                        next.contains("object=page%3A") || next.contains("object=page:"),
                        "{next}"
                    );
                    url = next;
                }
                None => break,
            }
            assert!(pages < 20, "paging does not end");
        }
        assert_eq!(got.len(), 120, "{}", db.backend.name());
        assert!(
            got.windows(2).all(|w| w[0] > w[1]),
            "newest first, no repeats"
        );
        assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), want);
        assert_eq!(pages, 3);

        // Unfiltered: the whole log, in pages, once each.
        let total = db.store.audit_count().await.unwrap() as usize;
        let mut url = "/console/audit".to_string();
        let mut all = Vec::new();
        loop {
            let (_, html) = http.page(&url, &auditor).await;
            all.extend(seqs(&html));
            match earlier(&html) {
                Some(next) => url = next,
                None => break,
            }
        }
        assert_eq!(all.len(), total);
        assert!(all.windows(2).all(|w| w[0] > w[1]));
    }
}

#[tokio::test]
async fn a_scoped_auditor_sees_only_staff_in_scope() {
    for db in backends().await {
        let http = setup(&db).await;
        let scoped = session_for(&db, "township_auditor").await;
        let inside = append(
            &db,
            actor(&db, "township")
                .await
                .event("test.scope", "inside", ""),
        )
        .await;
        let district = append(
            &db,
            actor(&db, "catalog")
                .await
                .event("test.scope", "district", ""),
        )
        .await;
        let platform = append(
            &db,
            actor(&db, "platform")
                .await
                .event("test.scope", "platform", ""),
        )
        .await;
        let system = append(&db, Actor::system("test").event("test.scope", "system", "")).await;
        let (status, html) = http.page("/console/audit?object=", &scoped).await;
        assert_eq!(status, StatusCode::OK);
        let shown = seqs(&html);
        assert!(shown.contains(&inside), "{shown:?}");
        for hidden in [district, platform, system] {
            assert!(!shown.contains(&hidden), "{hidden} in {shown:?}");
        }
        assert!(html.contains("您只能看到您负责范围内工作人员的记录"));
        // The platform-wide auditor sees all four.
        let everywhere = session_for(&db, "auditor").await;
        let (_, html) = http.page("/console/audit", &everywhere).await;
        let shown = seqs(&html);
        for s in [inside, district, platform, system] {
            assert!(shown.contains(&s), "{s} in {shown:?}");
        }
    }
}

/// What an API token did is seen by an auditor whose scope holds the token's grant (before, a
/// token's entries reached platform-wide auditors only).
#[tokio::test]
async fn a_scoped_auditor_sees_what_tokens_in_scope_did() {
    for db in backends().await {
        let http = setup(&db).await;
        let scoped = session_for(&db, "township_auditor").await;
        let principal = |name: &'static str| {
            let db = &db;
            async move {
                let id = db.store.user_id_by_username(name).await.unwrap().unwrap();
                db.store.principal(id).await.unwrap().unwrap()
            }
        };
        let issue = |creator, region: &'static str| {
            let db = &db;
            async move {
                db.store
                    .create_api_token(
                        &NewApiToken {
                            name: format!("feed {region}"),
                            grant: Grant {
                                role: Role::Auditor,
                                region: Some(RegionCode::parse(region).unwrap()),
                                department: None,
                            },
                            expires_at: DEMO_NOW_MS + 86_400_000,
                        },
                        &creator,
                        "test",
                        DEMO_NOW_MS,
                    )
                    .await
                    .unwrap()
                    .0
            }
        };
        let inside_token = issue(principal("township").await, TOWNSHIP).await;
        let outside_token = issue(principal("platform").await, "120112").await;
        // As the API writes them: a case step (the token's principal, account id 0) and a feed
        // read (no account).
        let by_token = |id: i64, actor_id: Option<i64>, object: &str| AuditEvent {
            actor_id,
            actor: yiwang_store::token_actor_name(id),
            action: "test.token".into(),
            object: object.into(),
            detail: String::new(),
            client: format!("token:{id}@192.0.2.9"),
        };
        let inside_step = append(&db, by_token(inside_token, Some(0), "inside-step")).await;
        let inside_read = append(&db, by_token(inside_token, None, "inside-read")).await;
        let outside = append(&db, by_token(outside_token, Some(0), "outside")).await;
        let (status, html) = http.page("/console/audit?object=", &scoped).await;
        assert_eq!(status, StatusCode::OK);
        let shown = seqs(&html);
        assert!(shown.contains(&inside_step), "{shown:?}");
        assert!(shown.contains(&inside_read), "{shown:?}");
        assert!(!shown.contains(&outside), "{shown:?}");
        let everywhere = session_for(&db, "auditor").await;
        let (_, html) = http.page("/console/audit", &everywhere).await;
        let shown = seqs(&html);
        for s in [inside_step, inside_read, outside] {
            assert!(shown.contains(&s), "{s} in {shown:?}");
        }
    }
}

/// With an anchors file configured, the console's chain check also compares the log with it: a
/// log that matches says so; a log whose anchored entry differs (the chain rewritten as a whole
/// passes the hash check) or that ends before an anchor is reported as broken, and the check's
/// audit entry names the outcome.
#[tokio::test]
async fn the_chain_check_compares_with_the_anchors_file() {
    for db in backends().await {
        let b = db.backend.name();
        with_demo(&db).await;
        create_users(&db).await;
        create_auditors(&db).await;
        let head = db.store.audit_head().await.unwrap();
        let file = std::env::temp_dir().join(format!(
            "yiwang-anchors-{}-{b}-{}.txt",
            std::process::id(),
            head.seq
        ));
        let http = Http::new(
            &serve(
                &db,
                yiwang_web::WebConfig {
                    audit_anchors: Some(file.clone()),
                    ..config()
                },
            )
            .await,
        );
        let auditor = session_for(&db, "auditor").await;
        let check = |expect: &'static str| {
            let (http, auditor) = (&http, &auditor);
            async move {
                let res = http.post_form("/console/audit/verify", auditor, &[]).await;
                assert_eq!(res.status(), StatusCode::OK, "{b}");
                let html = res.text().await.unwrap();
                assert!(html.contains(expect), "{b}: {expect}\n{html}");
            }
        };
        // The anchor of today's head: matches.
        std::fs::write(&file, format!("{} {} 0\n", head.seq, head.hash)).unwrap();
        check("与库外保存的 1 个锚点也全部一致").await;
        // The same entry anchored with another hash: the log was rewritten.
        let other: String = head
            .hash
            .chars()
            .map(|c| if c == '0' { '1' } else { '0' })
            .collect();
        std::fs::write(&file, format!("{} {other} 0\n", head.seq)).unwrap();
        check(&*format!("日志与库外保存的锚点在第 {} 条不一致", head.seq).leak()).await;
        // An anchor beyond the end: entries were removed.
        std::fs::write(&file, format!("{} {} 0\n", head.seq + 1000, head.hash)).unwrap();
        check(&*format!("日志在库外锚定的第 {} 条之前就结束了", head.seq + 1000).leak()).await;
        // Not an anchors file.
        std::fs::write(&file, "not an anchor\n").unwrap();
        check("配置的锚点文件无法读取或格式不对").await;
        let auditor_id = db.store.user_id_by_username("auditor").await.unwrap();
        let mine = db
            .store
            .audit_entries(&AuditFilter {
                actor_id: auditor_id,
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let outcomes: Vec<bool> = ["match", "differs", "removed", "unreadable"]
            .iter()
            .zip(&mine)
            .map(|(k, e)| e.event.detail.contains(&format!("\"anchors\":\"{k}\"")))
            .collect();
        assert_eq!(outcomes, vec![true; 4], "{b}: {mine:?}");
        let _ = std::fs::remove_file(&file);
    }
}
