//! A real headless Chromium (Debian's chromium + chromedriver) reads a guide page at phone
//! width and a staff member imports a catalog file through the console.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;

use crate::support::{Options, spawn_app_with};
use browser_support::{session, start_driver};
use fantoccini::Locator;
use std::time::Duration;
use yiwang_domain::policy::{Grant, Role};
use yiwang_store::NewUser;
use yiwang_testkit::{DEMO_NOW_MS, backends, with_demo};

/// Chooses `file` on the console's import form and submits it.
async fn upload(c: &fantoccini::Client, base: &str, file: &std::path::Path) {
    c.goto(&format!("{base}/console/import")).await.unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::Css("form.console-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn guide_page_and_console_import_in_chromium() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    for db in backends().await {
        with_demo(&db).await;
        db.store
            .create_user(
                &NewUser {
                    username: "e2e".into(),
                    display_name: "E2E Admin".into(),
                    password: "Browser-Test-2026".into(),
                    grants: vec![Grant {
                        role: Role::PlatformAdmin,
                        region: None,
                        department: None,
                    }],
                },
                &yiwang_store::Actor::system("test"),
                DEMO_NOW_MS,
            )
            .await
            .unwrap();
        let options = Options {
            wall_clock: true,
            ..Options::default()
        };
        let base = spawn_app_with(&db, options, |s| s).await.base;

        let c = session(port, true).await;

        // The guide page, at phone width.
        let published = db.store.published_all().await.unwrap();
        let item = &published[0];
        c.goto(&format!("{base}/items/{}", item.implementation.code))
            .await
            .unwrap();
        let h1 = c
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(h1.contains(&item.standard.name), "{h1}");
        let body = c
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for m in &item.implementation.materials {
            assert!(body.contains(&m.name), "material {} missing", m.name);
        }
        assert!(body.contains(&item.implementation.hall_address));
        assert!(body.contains("第 1 版"), "version line");
        let width = c
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth + 360",
                vec![],
            )
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(
            std::env::temp_dir().join(format!("yiwang-guide-360-{:?}.png", db.backend)),
            png,
        )
        .unwrap();
        assert!(
            width <= 360,
            "guide page overflows a 360px screen: {width}px"
        );

        // Console: sign in, import a clean file, then a bad one.
        c.goto(&format!("{base}/console/login")).await.unwrap();
        c.find(Locator::Id("username"))
            .await
            .unwrap()
            .send_keys("e2e")
            .await
            .unwrap();
        c.find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys("Browser-Test-2026")
            .await
            .unwrap();
        c.find(Locator::Css("main form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Second step: the first sign-in sets up the one-time code; the key is on the page.
        let secret = c
            .wait()
            .for_element(Locator::Id("totp-secret"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        #[allow(
            clippy::disallowed_methods,
            reason = "a real browser expires cookies on real time"
        )]
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let code = yiwang_store::totp::code_at(secret.trim(), now).unwrap();
        c.find(Locator::Id("code"))
            .await
            .unwrap()
            .send_keys(&code)
            .await
            .unwrap();
        c.find(Locator::Css("main form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Wait for the redirect after sign-in.
        let mut url = c.current_url().await.unwrap();
        for _ in 0..50 {
            if !url.path().starts_with("/console/login") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            url = c.current_url().await.unwrap();
        }
        assert!(url.path().starts_with("/console"), "{url}");
        if url.path().starts_with("/console/login") {
            panic!("login failed: {}", c.source().await.unwrap_or_default());
        }

        let dir = std::env::temp_dir().join(format!(
            "yiwang-e2e-{}-{:?}",
            std::process::id(),
            db.backend
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut entries: Vec<_> = published.iter().take(3).map(|p| p.entry()).collect();
        for e in &mut entries {
            e.implementation.hours = "周一至周六 9:00-17:00".into();
        }
        let good = dir.join("good.json");
        std::fs::write(&good, yiwang_interchange::write_json(&entries)).unwrap();
        upload(&c, &base, &good).await;
        let status = match c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(".ok"))
            .await
        {
            Ok(e) => e.text().await.unwrap(),
            Err(_) => panic!("import failed: {}", c.source().await.unwrap_or_default()),
        };
        assert!(status.contains('3'), "{status}");
        assert_eq!(db.store.drafts_all().await.unwrap().len(), 3);

        entries[0].implementation.materials[0].name = "其他材料".into();
        entries[1].implementation.promised_limit.amount = 9999;
        let bad = dir.join("bad.json");
        std::fs::write(&bad, yiwang_interchange::write_json(&entries)).unwrap();
        upload(&c, &base, &bad).await;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(".issues-table"))
            .await
            .unwrap();
        let rows = c
            .find_all(Locator::Css(".issues-table tbody tr"))
            .await
            .unwrap();
        assert!(rows.len() >= 2, "every problem listed, got {}", rows.len());
        let png = c.screenshot().await.unwrap();
        std::fs::write(
            std::env::temp_dir().join(format!("yiwang-import-issues-{:?}.png", db.backend)),
            png,
        )
        .unwrap();
        let drafts = db.store.drafts_all().await.unwrap();
        assert!(
            drafts
                .iter()
                .all(|d| d.implementation.promised_limit.amount != 9999),
            "nothing written"
        );
        c.close().await.unwrap();
    }
}
