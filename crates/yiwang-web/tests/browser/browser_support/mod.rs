//! Shared pieces of the headless-Chromium tests: chromedriver, a WebDriver session at phone or
//! desktop width, serving the app, and signing staff in through the two-step form.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::{Options, spawn_app_with};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver, or `None` outside CI when it is not installed (CI installs it and must run this).
pub fn start_driver() -> Option<(Driver, u16)> {
    let path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(path) = path else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("chromedriver is required under CI (apt-get install chromium chromium-driver)");
        }
        eprintln!("note: chromedriver not installed; browser test not run");
        return None;
    };
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    Some((Driver(child), port))
}

/// A headless Chromium session; `phone` emulates a 360-pixel-wide screen.
pub async fn session(port: u16, phone: bool) -> Client {
    if phone {
        phone_session(port, 780).await
    } else {
        sized_session(port, 1280, 900, false).await
    }
}

/// A phone-width (360 px) session `height` pixels tall (taller for full-page screenshots).
pub async fn phone_session(port: u16, height: u32) -> Client {
    sized_session(port, 360, height, true).await
}

async fn sized_session(port: u16, width: u32, height: u32, phone: bool) -> Client {
    let mut opts = serde_json::json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 format!("--window-size={width},{height}"), "--lang=zh-CN",
                 "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    });
    if phone {
        opts["mobileEmulation"] = serde_json::json!(
            {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}});
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), opts);
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("no webdriver session");
}

/// Serves `db` on a free port through the one harness, on the wall clock and with the peer
/// address; returns the base URL.
pub async fn serve(db: &yiwang_testkit::TestDb) -> String {
    let options = Options {
        peer_address: true,
        wall_clock: true,
        ..Options::default()
    };
    spawn_app_with(db, options, |s| s).await.base
}

pub async fn fill(c: &Client, css: &str, text: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"));
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .click()
        .await
        .unwrap();
}

/// Waits until the page's path no longer starts with `prefix`; returns the path.
pub async fn left(c: &Client, prefix: &str) -> String {
    for _ in 0..100 {
        let url = c.current_url().await.unwrap();
        if !url.path().starts_with(prefix) {
            return url.path().to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "still on {prefix}: {}",
        c.source().await.unwrap_or_default()
    );
}

/// The text of `main`.
pub async fn main_text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Signs a staff member in through both steps (enrolling the one-time code on first sign-in,
/// reading the key from the page as a person would from the screen).
pub async fn staff_sign_in(c: &Client, base: &str, username: &str, password: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    fill(c, "#username", username).await;
    fill(c, "#password", password).await;
    click(c, "main form button[type=submit]").await;
    let secret = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("totp-secret"))
        .await;
    let key = match secret {
        Ok(e) => e.text().await.unwrap(),
        Err(_) => panic!(
            "no one-time-code step: {}",
            c.source().await.unwrap_or_default()
        ),
    };
    #[allow(
        clippy::disallowed_methods,
        reason = "a real browser expires cookies on real time"
    )]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let code = yiwang_store::totp::code_at(key.trim(), now).unwrap();
    fill(c, "#code", &code).await;
    click(c, "main form button[type=submit]").await;
    left(c, "/console/login").await;
}

/// Signs the current staff member out.
pub async fn staff_sign_out(c: &Client, base: &str) {
    c.goto(&format!("{base}/console")).await.unwrap();
    click(c, "form.logout button").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Fails when the page is wider than the screen (sideways scrolling).
pub async fn assert_fits(c: &Client, width: i64, what: &str) {
    let w = c
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert!(w <= width, "{what} is {w}px wide on a {width}px screen");
}

/// Saves a screenshot as `/tmp/yiwang-<name>.png`.
pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join(format!("yiwang-{name}.png")), png).unwrap();
}
