//! Hostile input to the applicant side and case handling, over real HTTP on every backend:
//! registration and sign-in (markup, SQL, traversal, over-long values, malformed UTF-8 bodies,
//! brute force), application forms, uploads (renamed programs, traversal file names, broken
//! multipart), case actions and correction notices, a bundle's "submit all", forged case numbers
//! and ids, malformed JSON.
//! Expected: a clear 4xx, never a 5xx, output escaped, nothing written by a refused request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::auth::{location, serve};
use crate::support::security::{BAD_UTF8, Log, assert_escaped, hostile_values};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN};
use yiwang_testkit::{TestDb, backends};

const ITEM: &str = "11120112MB1W167324000112001001";
const PASSWORD: &str = "Shenqing-2026!";

async fn applicants(db: &TestDb) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM applicants")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    n
}

async fn cases(db: &TestDb) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn applicant_and_case_surfaces_refuse_hostile_input() {
    for mut db in backends().await {
        let b = db.backend.name();
        yiwang_testkit::with_cases(&mut db).await;
        let site = serve(&db, true).await;
        let mut log = Log::new("applicants and cases");

        // Registration: every field with every hostile value; nothing registered, all escaped.
        for (label, v) in hostile_values() {
            for field in ["name", "id_number", "phone", "legal_rep", "password"] {
                let mut form = vec![
                    ("name", "张三".to_string()),
                    ("id_number", "not-an-id".to_string()),
                    ("phone", "13800138000".to_string()),
                    ("password", PASSWORD.to_string()),
                    ("again", PASSWORD.to_string()),
                ];
                form.retain(|(k, _)| *k != field);
                form.push((field, v.clone()));
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                // Past the registration throttle (10 an hour per address), so each value
                // reaches the checks.
                site.clock.advance(7 * 60_000);
                let res = site.post("/register", None, &pairs).await;
                let s = res.status();
                log.record(&format!("POST /register ({field})"), &label, s);
                assert!(s.is_client_error(), "{b} register {field} {label}: {s}");
                assert_escaped(
                    &res.text().await.unwrap(),
                    &format!("register {field} {label}"),
                );
            }
        }
        assert_eq!(applicants(&db).await, 0, "{b}: nothing registered");
        // Bodies that are not UTF-8.
        for raw in BAD_UTF8 {
            site.clock.advance(7 * 60_000);
            let res = site
                .client
                .post(site.url("/register"))
                .header(ORIGIN, site.base.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("name={raw}&id_number={raw}"))
                .send()
                .await
                .unwrap();
            log.record(
                "POST /register",
                &format!("malformed UTF-8 `{raw}`"),
                res.status(),
            );
            assert!(res.status().is_client_error(), "{b}");
        }

        // A real applicant, then sign-in with hostile identifiers and brute force.
        site.clock.advance(3_600_000);
        let alice = site
            .register_applicant("张三", "11010519491231002X", "13800138000", PASSWORD)
            .await;
        for (label, v) in hostile_values() {
            let res = site
                .post(
                    "/login",
                    None,
                    &[("id_number", v.as_str()), ("password", "x")],
                )
                .await;
            log.record("POST /login (id_number)", &label, res.status());
            assert!(res.status().is_client_error(), "{b} login {label}");
            assert_escaped(&res.text().await.unwrap(), "login");
        }
        let mut throttled = false;
        let mut locked = false;
        for _ in 0..25 {
            let res = site
                .post(
                    "/login",
                    None,
                    &[
                        ("id_number", "11010519491231002X"),
                        ("password", "Wrong-Password-1"),
                    ],
                )
                .await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                assert!(res.headers().contains_key("retry-after"), "{b}");
                throttled = true;
                break;
            }
            assert!(
                matches!(
                    res.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ),
                "{b}: {}",
                res.status()
            );
            locked |= res.status() == StatusCode::FORBIDDEN;
        }
        assert!(
            locked,
            "{b}: the account is locked after five wrong passwords"
        );
        log.record(
            "POST /login",
            "25 wrong passwords from one address",
            StatusCode::TOO_MANY_REQUESTS,
        );
        assert!(throttled, "{b}: brute force is throttled");

        // Application forms: hostile values saved as a draft come back escaped, never as markup.
        let res = site
            .post(&format!("/items/{ITEM}/apply"), Some(&alice), &[])
            .await;
        let form_path = location(&res);
        for (label, v) in hostile_values() {
            let res = site
                .post(
                    &form_path,
                    Some(&alice),
                    &[
                        ("description", v.as_str()),
                        ("contact_name", v.as_str()),
                        ("_action", "save"),
                    ],
                )
                .await;
            log.record("POST /me/applications/{id}", &label, res.status());
            assert!(!res.status().is_server_error(), "{b}");
            // Saved, then back to the form (post/redirect/get): the page shows it escaped.
            let html = if res.status() == StatusCode::SEE_OTHER {
                let back = location(&res);
                let back = back.split('#').next().unwrap_or_default().to_string();
                site.get(&back, Some(&alice)).await.text().await.unwrap()
            } else {
                res.text().await.unwrap()
            };
            assert_escaped(&html, &format!("form {label}"));
        }
        for raw in BAD_UTF8 {
            let res = site
                .client
                .post(site.url(&form_path))
                .header(ORIGIN, site.base.clone())
                .header(COOKIE, alice.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("description={raw}&_action=save"))
                .send()
                .await
                .unwrap();
            log.record(
                "POST /me/applications/{id}",
                &format!("malformed UTF-8 `{raw}`"),
                res.status(),
            );
            assert!(res.status().is_client_error(), "{b}: {raw}");
        }
        // Forged draft ids and case numbers: not found, never an error page with a trace.
        for forged in [
            "999999",
            "-1",
            "1%20OR%201=1",
            "..%2F..%2Fetc%2Fpasswd",
            "99999999999999999999999",
        ] {
            let res = site
                .get(&format!("/me/applications/{forged}"), Some(&alice))
                .await;
            log.record(
                "GET /me/applications/{id}",
                &format!("forged `{forged}`"),
                res.status(),
            );
            assert!(res.status().is_client_error(), "{b}: {forged}");
        }
        for forged in [
            "' OR '1'='1",
            "../../etc/passwd",
            "11120112MB1W167324000112001001-20261130-000001",
            "<script>alert(1)</script>",
        ] {
            let path = format!("/me/cases/{}", crate::support::security::encode(forged));
            let res = site.get(&path, Some(&alice)).await;
            log.record(
                "GET /me/cases/{number}",
                &format!("forged `{forged}`"),
                res.status(),
            );
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{b}: {forged}");
            assert_escaped(&res.text().await.unwrap(), "case number");
        }

        // Uploads: a renamed program, traversal names, a broken multipart body.
        let pdf: &[u8] =
            b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
        let cases_before = cases(&db).await;
        for (label, name, bytes) in [
            (
                "renamed Windows program",
                "申请表.pdf",
                b"MZ\x90\x00\x03\x00\x00\x00".to_vec(),
            ),
            ("ELF program", "scan.jpg", b"\x7fELF\x02\x01\x01".to_vec()),
            (
                "HTML as PNG",
                "x.png",
                b"<html><script>alert(1)</script></html>".to_vec(),
            ),
            ("empty file", "empty.pdf", Vec::new()),
            ("traversal name", "../../../../etc/passwd", pdf.to_vec()),
            ("NUL in name", "a.pdf\u{0}.exe", pdf.to_vec()),
            ("markup name", "<script>alert(1)</script>.pdf", pdf.to_vec()),
        ] {
            let form = reqwest::multipart::Form::new()
                .text("material", "营业执照")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
                );
            let res = site
                .client
                .post(site.url(&format!("{form_path}/materials")))
                .header(ORIGIN, site.base.clone())
                .header(COOKIE, alice.clone())
                .multipart(form)
                .send()
                .await
                .unwrap();
            log.record("POST /me/applications/{id}/materials", label, res.status());
            assert!(!res.status().is_server_error(), "{b}: {label}");
            let ok = res.status() == StatusCode::SEE_OTHER;
            if label.contains("program") || label.contains("HTML") || label.contains("empty") {
                assert!(!ok, "{b}: {label} refused");
            }
        }
        let html = site
            .get(&form_path, Some(&alice))
            .await
            .text()
            .await
            .unwrap();
        assert_escaped(&html, "upload names");
        let app_id: i64 = form_path.rsplit('/').next().unwrap().parse().unwrap();
        for up in db
            .store
            .uploads_for_application(app_id, true)
            .await
            .unwrap()
        {
            let n = &up.filename;
            assert!(
                !n.contains('/') && !n.contains('\\') && !n.contains("..") && !n.contains('\0'),
                "{b}: {n}"
            );
        }
        let res = site
            .client
            .post(site.url(&format!("{form_path}/materials")))
            .header(ORIGIN, site.base.clone())
            .header(COOKIE, alice.clone())
            .header(CONTENT_TYPE, "multipart/form-data; boundary=xyz")
            .body("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF")
            .send()
            .await
            .unwrap();
        log.record(
            "POST /me/applications/{id}/materials",
            "truncated multipart body",
            res.status(),
        );
        assert!(res.status().is_client_error(), "{b}");

        // 一件事 "submit all": hostile values in the form, malformed bodies, forged ids and a
        // cross-site post; the parts are incomplete, so nothing is ever submitted.
        let res = site
            .post(
                "/life-events/open-restaurant/apply",
                Some(&alice),
                &[("impl", ITEM)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{b}");
        let submit_all = format!("{}/submit", location(&res));
        for (label, v) in hostile_values() {
            let res = site
                .post(
                    &submit_all,
                    Some(&alice),
                    &[("_declaration", v.as_str()), (v.as_str(), v.as_str())],
                )
                .await;
            log.record("POST /me/bundles/{id}/submit", &label, res.status());
            assert!(res.status().is_client_error(), "{b}: {label}");
            assert_escaped(&res.text().await.unwrap(), &format!("bundle {label}"));
        }
        for raw in BAD_UTF8 {
            let res = site
                .client
                .post(site.url(&submit_all))
                .header(ORIGIN, site.base.clone())
                .header(COOKIE, alice.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("_declaration={raw}"))
                .send()
                .await
                .unwrap();
            log.record(
                "POST /me/bundles/{id}/submit",
                &format!("malformed UTF-8 `{raw}`"),
                res.status(),
            );
            assert!(res.status().is_client_error(), "{b}: {raw}");
        }
        for forged in ["999999", "-1", "1%20OR%201=1", "99999999999999999999999"] {
            let res = site
                .post(
                    &format!("/me/bundles/{forged}/submit"),
                    Some(&alice),
                    &[("_declaration", "1")],
                )
                .await;
            log.record(
                "POST /me/bundles/{id}/submit",
                &format!("forged `{forged}`"),
                res.status(),
            );
            assert!(res.status().is_client_error(), "{b}: {forged}");
        }
        let res = site
            .client
            .post(site.url(&submit_all))
            .header(ORIGIN, "https://evil.example")
            .header(COOKIE, alice.clone())
            .form(&[("_declaration", "1")])
            .send()
            .await
            .unwrap();
        log.record(
            "POST /me/bundles/{id}/submit",
            "cross-site Origin",
            res.status(),
        );
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");

        // JSON API: malformed and wrong-typed bodies.
        for body in [
            "{",
            "[]",
            "{\"impl_code\": 5}",
            "null",
            "{\"impl_code\": \"' OR 1=1 --\"}",
        ] {
            let res = site
                .client
                .post(site.url("/api/v1/applications"))
                .header(ORIGIN, site.base.clone())
                .header(COOKIE, alice.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            log.record(
                "POST /api/v1/applications",
                &format!("body `{body}`"),
                res.status(),
            );
            assert!(res.status().is_client_error(), "{b}: {body}");
            let v: serde_json::Value = res.json().await.unwrap();
            assert!(v["error"]["code"].is_string(), "{b}: JSON error for {body}");
        }
        // A cross-site post of the applicant's session is refused.
        let res = site
            .client
            .post(site.url(&format!("/items/{ITEM}/apply")))
            .header(ORIGIN, "https://evil.example")
            .header(COOKIE, alice.clone())
            .send()
            .await
            .unwrap();
        log.record(
            "POST /items/{code}/apply",
            "cross-site Origin",
            res.status(),
        );
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{b}");
        assert_eq!(
            cases(&db).await,
            cases_before,
            "{b}: no case from a refused request"
        );
        log.finish(b);
    }
}
