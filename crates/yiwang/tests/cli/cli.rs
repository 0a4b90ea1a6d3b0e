//! The binary end to end on every backend: regions, departments, import, publish, export.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use yiwang_testkit::backends;

fn yiwang(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .env("YIWANG_DATABASE_URL", url)
        .env("YIWANG_PASSWORD", "Str0ng-Password!")
        .output()
        .expect("binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn app_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../yiwang-app")
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("yiwang-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn regions_departments_import_publish_export() {
    for (n, db) in backends().await.into_iter().enumerate() {
        let url = db.url.clone();
        let regions = app_dir().join("data/regions");
        let first = ok(&yiwang(
            &url,
            &["regions", "import", regions.to_str().unwrap()],
        ));
        assert!(first.contains("regions loaded"), "{first}");
        let count = db.store.region_count().await.unwrap();
        assert!(count > 5000);
        ok(&yiwang(
            &url,
            &["regions", "import", regions.to_str().unwrap()],
        ));
        assert_eq!(
            db.store.region_count().await.unwrap(),
            count,
            "import is idempotent"
        );

        let depts = app_dir().join("demo/departments.csv");
        ok(&yiwang(
            &url,
            &["departments", "import", depts.to_str().unwrap()],
        ));

        // A bad file: every problem reported, nothing written, non-zero exit.
        let dir = temp(&format!("bad{n}"));
        let items = std::fs::read_to_string(app_dir().join("demo/items.csv")).unwrap();
        let bad_items = items.replacen(",否,,", ",是,,", 1);
        std::fs::write(dir.join("items.csv"), bad_items).unwrap();
        let mats = std::fs::read_to_string(app_dir().join("demo/materials.csv")).unwrap();
        let mut lines: Vec<&str> = mats.lines().collect();
        let bad_mat = lines[1].replacen(
            &lines[1].split(',').nth(1).unwrap().to_string(),
            "其他材料",
            1,
        );
        lines[1] = &bad_mat;
        std::fs::write(dir.join("materials.csv"), lines.join("\n")).unwrap();
        let out = yiwang(
            &url,
            &[
                "import",
                dir.join("items.csv").to_str().unwrap(),
                dir.join("materials.csv").to_str().unwrap(),
            ],
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("收费依据"), "{err}");
        assert!(err.contains("材料名称"), "{err}");
        assert!(
            db.store.drafts_all().await.unwrap().is_empty(),
            "nothing written"
        );

        // The demo file imports and publishes.
        let out = ok(&yiwang(
            &url,
            &[
                "import",
                app_dir().join("demo/items.csv").to_str().unwrap(),
                app_dir().join("demo/materials.csv").to_str().unwrap(),
                "--publish",
            ],
        ));
        assert!(out.contains("published 78"), "{out}");

        // Export → import is lossless: same entries, next version identical in content.
        let before: Vec<_> = db
            .store
            .published_all()
            .await
            .unwrap()
            .iter()
            .map(|p| p.entry())
            .collect();
        for (fmt, target) in [
            ("csv", dir.join("csv")),
            ("xlsx", dir.join("c.xlsx")),
            ("json", dir.join("c.json")),
        ] {
            ok(&yiwang(
                &url,
                &["export", "--format", fmt, "--out", target.to_str().unwrap()],
            ));
            let args: Vec<String> = if fmt == "csv" {
                vec![
                    "import".into(),
                    target.join("items.csv").display().to_string(),
                    target.join("materials.csv").display().to_string(),
                    "--publish".into(),
                ]
            } else {
                vec![
                    "import".into(),
                    target.display().to_string(),
                    "--publish".into(),
                ]
            };
            let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            ok(&yiwang(&url, &args));
            let after: Vec<_> = db
                .store
                .published_all()
                .await
                .unwrap()
                .iter()
                .map(|p| p.entry())
                .collect();
            assert_eq!(before, after, "{fmt} round trip on {:?}", db.backend);
        }

        // Drift report and user creation.
        let drift = ok(&yiwang(&url, &["catalog", "drift"]));
        assert!(drift.contains("最低生活保障审批"), "{drift}");
        ok(&yiwang(
            &url,
            &[
                "user",
                "create",
                "--username",
                "wang",
                "--display-name",
                "王五",
                "--role",
                "region_admin",
                "--region",
                "120112",
            ],
        ));
        assert!(
            db.store
                .authenticate("wang", "Str0ng-Password!")
                .await
                .unwrap()
                .is_some()
        );
        let bad = yiwang(
            &url,
            &[
                "user",
                "create",
                "--username",
                "li",
                "--display-name",
                "李",
                "--role",
                "king",
            ],
        );
        assert!(!bad.status.success());
    }
}

#[test]
fn default_config_is_printed() {
    let out = Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .arg("default-config")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("listen = "));
}

/// `audit anchor` writes the chain head outside the database; `audit verify --anchors` checks
/// it, and a forged anchor line (or a changed chain) fails the check.
#[tokio::test]
async fn audit_anchors_are_written_and_checked() {
    for db in backends().await {
        let url = db.url.clone();
        db.store
            .audit(
                1_000,
                &yiwang_store::Actor::system("t").event("test.one", "x:1", ""),
            )
            .await
            .unwrap();
        let dir = temp(&format!("anchors-{}", db.backend.name()));
        let file = dir.join("anchors.txt");
        let line = ok(&yiwang(
            &url,
            &["audit", "anchor", "--file", file.to_str().unwrap()],
        ));
        assert!(line.starts_with("1 "), "{line}");
        let out = ok(&yiwang(
            &url,
            &["audit", "verify", "--anchors", file.to_str().unwrap()],
        ));
        assert!(out.contains("1 anchors match"), "{out}");
        std::fs::write(&file, format!("1 {}\n", "0".repeat(64))).unwrap();
        let out = yiwang(
            &url,
            &["audit", "verify", "--anchors", file.to_str().unwrap()],
        );
        assert!(!out.status.success(), "a forged anchor fails");
        assert!(String::from_utf8_lossy(&out.stderr).contains("REWRITTEN"));
        std::fs::write(&file, format!("9 {}\n", "0".repeat(64))).unwrap();
        let out = yiwang(
            &url,
            &["audit", "verify", "--anchors", file.to_str().unwrap()],
        );
        assert!(!out.status.success(), "an anchor past the end fails");
    }
}
