//! `yiwang serve` prints notices' QR codes with the address it really listens on: `--listen
//! 127.0.0.1:0` gives the port the system chose (not the configured 8080), with a warning that
//! a loopback address cannot be opened from a phone; a configured `public_url` wins, without
//! the warning.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

/// Runs `serve` until it prints where notices link to; returns (running address line,
/// notices line, stderr).
fn start(dir: &std::path::Path, config: Option<&str>) -> (String, String, String) {
    let cfg = dir.join("yiwang.toml");
    std::fs::write(&cfg, config.unwrap_or("")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("YIWANG_DATABASE_URL")
        .env_remove("YIWANG_DATA_KEYS")
        .env_remove("YIWANG_KEY_FILE")
        .env("YIWANG_CONFIG", &cfg)
        .env("YIWANG_DATA_DIR", dir.join("data"))
        .env("YIWANG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut running, mut notices) = (String::new(), String::new());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        if line.contains("is running at") {
            running = line.trim().to_string();
        }
        if line.contains("notices link to") {
            notices = line.trim().to_string();
            break;
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (running, notices, err)
}

#[test]
fn notices_follow_the_real_listen_address_unless_one_is_configured() {
    let dir = std::env::temp_dir().join(format!("yiwang-public-url-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let (running, notices, err) = start(&dir, None);
    let addr = running
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("running address printed")
        .to_string();
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0, "{running}");
    assert_ne!(
        port, 8080,
        "the configured default is not what was bound: {running}"
    );
    assert!(
        notices.contains(&format!("http://{addr}/verify/")),
        "notices follow the bound address: {notices} vs {running}"
    );
    assert!(
        err.contains("loopback"),
        "a loopback public address is warned about outside demo mode: {err}"
    );

    let (_, notices, err) = start(
        &dir,
        Some("public_url = \"https://zwfw.example.gov.cn/\"\n"),
    );
    assert!(
        notices.contains("https://zwfw.example.gov.cn/verify/"),
        "the configured address wins: {notices}"
    );
    assert!(!err.contains("loopback"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
