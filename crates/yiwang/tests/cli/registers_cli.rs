//! `yiwang registers import` as a department's data administrator runs it, on every backend: a
//! file with problems is refused with every problem by row and field (in the reader's language)
//! and nothing is written; the clean file is imported and its run listed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use yiwang_testkit::backends;

fn yiwang(url: &str, key_file: &Path, lang: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .env("YIWANG_DATABASE_URL", url)
        .env("YIWANG_KEY_FILE", key_file)
        .env_remove("YIWANG_DATA_KEYS")
        .env("YIWANG_LANG", lang)
        .env("YIWANG_LOG", "warn")
        .output()
        .expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("yiwang-registers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn a_bad_register_file_is_refused_with_every_problem_and_a_good_one_imported() {
    for (n, db) in backends().await.into_iter().enumerate() {
        let dir = temp(&n.to_string());
        let keys = dir.join("keys.toml");
        let url = db.url.clone();
        let out = yiwang(
            &url,
            &keys,
            "zh-CN",
            &["keys", "generate", "--out", keys.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));

        // A clerk's spreadsheet: one mistyped check digit, one person entered twice.
        let demo = include_str!("../../../yiwang-app/demo/registers/population.csv");
        let mut lines: Vec<String> = demo.lines().map(str::to_string).collect();
        let first = lines[1].clone();
        lines.push(first);
        lines[2] = lines[2].replacen("120112198506150036", "120112198506150037", 1);
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, lines.join("\n")).unwrap();
        let out = yiwang(
            &url,
            &keys,
            "zh-CN",
            &["registers", "import", "population", bad.to_str().unwrap()],
        );
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(err.contains("第 3 行") && err.contains("校验位"), "{err}");
        assert!(
            err.contains("第 8 行") && err.contains("出现了不止一次"),
            "{err}"
        );
        assert!(err.contains("未写入任何数据"), "{err}");
        // In English too, for the English-speaking administrator.
        let out = yiwang(
            &url,
            &keys,
            "en",
            &["registers", "import", "population", bad.to_str().unwrap()],
        );
        assert!(text(&out.stderr).contains("row 3"), "{}", text(&out.stderr));
        let out = yiwang(
            &url,
            &keys,
            "zh-CN",
            &["registers", "imports", "population"],
        );
        assert!(out.status.success());
        assert_eq!(text(&out.stdout).trim(), "", "nothing was written");

        let good = dir.join("good.csv");
        std::fs::write(&good, demo).unwrap();
        let out = yiwang(
            &url,
            &keys,
            "zh-CN",
            &["registers", "import", "population", good.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("已导入 人口基础库：6 行"),
            "{}",
            text(&out.stdout)
        );
        let out = yiwang(
            &url,
            &keys,
            "zh-CN",
            &["registers", "imports", "population"],
        );
        let runs = text(&out.stdout);
        assert_eq!(runs.lines().count(), 1, "{runs}");
        assert!(runs.contains("\t6\t"), "{runs}");
    }
}
