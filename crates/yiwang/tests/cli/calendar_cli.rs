//! `yiwang calendar` end to end on every backend: import is idempotent, a bad file is refused
//! with row-numbered messages and changes nothing, and `due` prints the due date.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use yiwang_testkit::backends;

const SHIPPED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../yiwang-app/data/calendar/cn-holidays.csv"
);

fn yiwang(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .env("YIWANG_DATABASE_URL", url)
        .env("YIWANG_LANG", "en")
        .env("USER", "operator7")
        .output()
        .expect("binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn import_is_idempotent_and_due_dates_use_it() {
    for db in backends().await {
        let url = db.url.clone();
        let b = db.backend.name();
        let first = ok(&yiwang(&url, &["calendar", "import", SHIPPED]));
        assert!(
            first.contains("771 added, 0 changed, 0 unchanged"),
            "{b}: {first}"
        );
        let second = ok(&yiwang(&url, &["calendar", "import", SHIPPED]));
        assert!(
            second.contains("0 added, 0 changed, 771 unchanged"),
            "{b}: {second}"
        );
        assert_eq!(db.store.calendar_days().await.unwrap().len(), 771, "{b}");

        let due = ok(&yiwang(
            &url,
            &[
                "calendar",
                "due",
                "--from",
                "2026-09-28",
                "--days",
                "5",
                "--unit",
                "working",
            ],
        ));
        assert_eq!(due.trim(), "2026-10-10", "{b}");
        let paused = ok(&yiwang(
            &url,
            &[
                "calendar",
                "due",
                "--from",
                "2026-09-28",
                "--days",
                "5",
                "--pause",
                "2026-09-29:2026-10-08",
            ],
        ));
        assert_eq!(paused.trim(), "2026-10-13", "{b}");
        let natural = ok(&yiwang(
            &url,
            &[
                "calendar",
                "due",
                "--from",
                "2026-09-24",
                "--days",
                "7",
                "--unit",
                "natural",
            ],
        ));
        assert_eq!(natural.trim(), "2026-10-08", "{b}");
        assert_eq!(
            ok(&yiwang(&url, &["calendar", "years"])).trim(),
            "2004–2026"
        );

        // Past the loaded years: weekends only, with a warning.
        let out = yiwang(
            &url,
            &["calendar", "due", "--from", "2026-12-28", "--days", "5"],
        );
        assert_eq!(ok(&out).trim(), "2027-01-04", "{b}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("weekends only"));

        // A bad file: non-zero exit, the rows named, nothing written.
        let dir = std::env::temp_dir().join(format!("yiwang-cal-{}-{b}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.csv");
        std::fs::write(
            &bad,
            "date,kind,festival\n2027-01-01,holiday,New Year's Day\n2027-13-01,holiday,X\n",
        )
        .unwrap();
        let out = yiwang(&url, &["calendar", "import", bad.to_str().unwrap()]);
        assert!(!out.status.success(), "{b}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("row 3") && err.contains("2027-13-01"),
            "{b}: {err}"
        );
        assert_eq!(db.store.calendar_days().await.unwrap().len(), 771, "{b}");

        let out = yiwang(
            &url,
            &["calendar", "due", "--from", "2026-9-28", "--days", "5"],
        );
        assert!(!out.status.success(), "{b}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
