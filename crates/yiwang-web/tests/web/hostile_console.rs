//! Hostile input to every console form over real HTTP on every backend: sign-in (and brute
//! force), import (file names and contents, broken multipart), the edit form, department
//! registration, publishing, API tokens; forged ids of records outside the account's scope.
//! Expected: a clear 4xx, never 5xx, output escaped, nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::console::*;
use crate::support::security::*;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN};
use reqwest::multipart::{Form, Part};
use yiwang_testkit::{backends, with_demo};

fn form_of(fields: &[&str], value: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| (f.to_string(), value.to_string()))
        .collect()
}

#[tokio::test]
async fn console_forms_refuse_hostile_input() {
    for db in backends().await {
        with_demo(&db).await;
        create_users(&db).await;
        create_outsiders(&db).await;
        let samples = Samples::of(&db).await;
        let http = Http::new(&serve(&db, config()).await);
        let catalog = session_for(&db, "catalog").await;
        let platform = session_for(&db, "platform").await;
        let market = session_for(&db, MARKET).await;
        let before = counts(&db).await;
        let mut log = Log::new("console");
        let code = samples.impl_code.clone();
        let edit = format!("/console/implementations/{code}/edit");
        let mut values = hostile_values();
        values.push(("1 MB value".into(), "y".repeat(1 << 20)));

        // Every text field of every form, filled with each hostile value.
        let edit_fields = [
            "acceptance_conditions",
            "statutory_amount",
            "statutory_unit",
            "promised_amount",
            "promised_unit",
            "case_type",
            "visits",
            "online_depth",
            "fee_basis",
            "anywhere",
            "themes",
            "hall_address",
            "hours",
            "consult_phone",
            "complaint_phone",
            "result_name",
            "channels",
            "audiences",
            "m0_name",
            "m0_issuer",
            "m0_originals",
        ];
        for (label, value) in &values {
            // Sign-in: never a session.
            let res = http
                .client
                .post(http.url("/console/login"))
                .form(&[
                    ("username", value.as_str()),
                    ("password", value),
                    ("next", value),
                ])
                .send()
                .await
                .unwrap();
            let s = res.status();
            log.record("POST /console/login (username, password, next)", label, s);
            assert!(session_cookie(&res).is_none(), "login {label}");
            assert!(s.is_client_error(), "login {label}: {s}");
            assert_escaped(&res.text().await.unwrap(), &format!("login {label}"));

            // The edit form: refused with the values shown back, escaped; nothing saved.
            let mut f = form_of(&edit_fields, value);
            f.push(("version".into(), samples.version.to_string()));
            let res = http.post_form(&edit, &catalog, &f).await;
            let s = res.status();
            log.record(
                "POST /console/implementations/{code}/edit (every field)",
                label,
                s,
            );
            assert!(s.is_client_error(), "edit {label}: {s}");
            assert_escaped(&res.text().await.unwrap(), &format!("edit {label}"));
            let mut f = form_of(&edit_fields, "1");
            f.push(("version".into(), value.clone()));
            let res = http.post_form(&edit, &catalog, &f).await;
            log.record(
                "POST /console/implementations/{code}/edit (version)",
                label,
                res.status(),
            );
            assert!(res.status().is_client_error(), "edit version {label}");

            // Department registration.
            let f = form_of(&["name", "credit_code", "region"], value);
            let res = http.post_form("/console/departments", &platform, &f).await;
            let s = res.status();
            log.record(
                "POST /console/departments (name, credit_code, region)",
                label,
                s,
            );
            assert!(s.is_client_error(), "departments {label}: {s}");
            assert_escaped(&res.text().await.unwrap(), &format!("departments {label}"));

            // Publishing a code that is not one.
            let f = form_of(&["code"], value);
            let res = http.post_form("/console/publish", &platform, &f).await;
            log.record("POST /console/publish (code)", label, res.status());
            assert!(!res.status().is_success(), "publish {label}");

            // API tokens: a hostile name / revoking an id that is not one.
            let f = form_of(&["name", "role", "region", "department", "days"], value);
            let res = http.post_form("/console/tokens", &platform, &f).await;
            log.record("POST /console/tokens (every field)", label, res.status());
            assert!(
                res.status().is_client_error(),
                "tokens {label}: {}",
                res.status()
            );
            assert_escaped(&res.text().await.unwrap(), &format!("tokens {label}"));
            if value.len() < 1000 {
                let path = format!("/console/tokens/{}/revoke", encode(value));
                let res = http.post_form(&path, &platform, &[]).await;
                log.record("POST /console/tokens/{id}/revoke", label, res.status());
                assert!(res.status().is_client_error(), "revoke {label}");

                // Ids in console paths.
                for p in [
                    "/console/implementations/{}/edit",
                    "/console/implementations/{}/history",
                ] {
                    let res = http
                        .get(&p.replace("{}", &encode(value)), Some(&platform))
                        .await;
                    log.record(&format!("GET {p}"), label, res.status());
                    assert!(res.status().is_client_error(), "{p} {label}");
                    assert_escaped(&res.text().await.unwrap(), p);
                }
            }

            // Import: the value as a file name and as every cell of both files.
            let csv = format!("{value},{value}\n{value},{value}\n").into_bytes();
            let form = Form::new()
                .part(
                    "file",
                    Part::bytes(csv.clone()).file_name(format!("{value}.csv")),
                )
                .part(
                    "materials",
                    Part::bytes(csv).file_name(format!("../../{value}.csv")),
                );
            let res = http.post_multipart("/console/import", &catalog, form).await;
            let s = res.status();
            log.record("POST /console/import (file names and cells)", label, s);
            assert!(
                s.is_client_error() || s == StatusCode::OK,
                "import {label}: {s}"
            );
            assert_escaped(&res.text().await.unwrap(), &format!("import {label}"));
        }

        // Broken bodies.
        let broken: [(&str, &str, Vec<u8>); 6] = [
            ("multipart without boundary", "multipart/form-data", b"--x\r\n".to_vec()),
            (
                "truncated multipart",
                "multipart/form-data; boundary=XYZ",
                b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nabc"
                    .to_vec(),
            ),
            ("malformed JSON", "application/json", b"{\"username\":".to_vec()),
            ("invalid UTF-8 form", "application/x-www-form-urlencoded", b"username=\xff\xfe&password=%FF%FE%C3%28".to_vec()),
            ("NUL bytes in form", "application/x-www-form-urlencoded", b"username=a%00b&password=%00&name=%00&code=%00".to_vec()),
            ("no content type", "", b"username=platform&password=x".to_vec()),
        ];
        for path in [
            "/console/login",
            "/console/import",
            edit.as_str(),
            "/console/departments",
            "/console/publish",
            "/console/tokens",
        ] {
            for (label, ct, body) in &broken {
                let mut req = http
                    .client
                    .post(http.url(path))
                    .header(COOKIE, &platform)
                    .header(ORIGIN, http.base.clone())
                    .body(body.clone());
                if !ct.is_empty() {
                    req = req.header(CONTENT_TYPE, *ct);
                }
                let res = req.send().await.unwrap();
                let s = res.status();
                log.record(&format!("POST {path}"), label, s);
                assert!(s.is_client_error(), "{path} {label}: {s}");
            }
        }

        // Forged ids: another department's implementation, by its catalog administrator.
        let (status, html) = http.page(&edit, &catalog).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("hall_address"));
        let f = form_of(&edit_fields, "1");
        for (label, path, cookie) in [
            ("other department's record", edit.clone(), market.clone()),
            (
                "other department's history",
                format!("/console/implementations/{code}/history"),
                market.clone(),
            ),
        ] {
            let res = http.post_form(&path, &cookie, &f).await;
            log.record(&format!("POST {path}"), label, res.status());
            let res = http.get(&path, Some(&cookie)).await;
            log.record(&format!("GET {path}"), label, res.status());
            assert!(
                matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                "{label}: {}",
                res.status()
            );
        }
        let f = vec![("code".to_string(), code.clone())];
        let res = http.post_form("/console/publish", &market, &f).await;
        log.record(
            "POST /console/publish",
            "other department's code",
            res.status(),
        );
        assert!(!res.status().is_success() && !res.status().is_server_error());

        assert_eq!(
            counts(&db).await,
            before,
            "a hostile request wrote something"
        );

        // Brute force on one account: never signed in, never 5xx; 401, then locked (423) or
        // throttled (429).
        let mut statuses = std::collections::BTreeSet::new();
        for i in 0..30 {
            let res = http
                .post_login("township", &format!("wrong-{i}"), "/console")
                .await;
            statuses.insert(res.status().as_u16());
            assert!(session_cookie(&res).is_none(), "attempt {i}");
            assert!(
                matches!(
                    res.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::LOCKED | StatusCode::TOO_MANY_REQUESTS
                ),
                "attempt {i}: {}",
                res.status()
            );
        }
        log.record(
            "POST /console/login",
            &format!("30 wrong passwords for one account: {statuses:?}"),
            StatusCode::from_u16(*statuses.iter().last().unwrap()).unwrap(),
        );
        log.finish(&format!("{:?}", db.backend));
    }
}
