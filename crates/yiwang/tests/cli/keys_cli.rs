//! `yiwang keys` and personal data from the command line, on every backend: a key file is made
//! private, accounts get encrypted numbers, a new key is added and `keys rotate` moves every
//! value to it (idempotently), after which the old key can be removed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use yiwang_testkit::backends;

fn yiwang(url: &str, key_file: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .args(args)
        .env("YIWANG_DATABASE_URL", url)
        .env("YIWANG_KEY_FILE", key_file)
        .env_remove("YIWANG_DATA_KEYS")
        .env("YIWANG_PASSWORD", "Str0ng-Password!")
        .env("YIWANG_LOG", "warn")
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

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("yiwang-keys-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn raw_phones(db: &yiwang_testkit::TestDb) -> Vec<String> {
    use sqlx::Row;
    sqlx::query("SELECT phone_enc FROM users WHERE phone_enc IS NOT NULL ORDER BY id")
        .fetch_all(db.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn generate_create_rotate_and_retire_a_key() {
    for (n, db) in backends().await.into_iter().enumerate() {
        let dir = temp(&n.to_string());
        let keys = dir.join("keys.toml");
        let url = db.url.clone();
        let out = ok(&yiwang(
            &url,
            &keys,
            &["keys", "generate", "--out", keys.to_str().unwrap()],
        ));
        assert!(out.contains("k1"), "{out}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Never overwrites a key file.
        assert!(
            !yiwang(
                &url,
                &keys,
                &["keys", "generate", "--out", keys.to_str().unwrap()]
            )
            .status
            .success()
        );

        for (i, phone) in ["13800000001", "13800000002", "13800000003"]
            .iter()
            .enumerate()
        {
            ok(&yiwang(
                &url,
                &keys,
                &[
                    "user",
                    "create",
                    "--username",
                    &format!("staff{i}"),
                    "--display-name",
                    "S",
                    "--role",
                    "platform_admin",
                    "--phone",
                    phone,
                    "--resident-id",
                    "11010519491231002X",
                ],
            ));
        }
        // A bad number is refused before anything is written.
        let bad = yiwang(
            &url,
            &keys,
            &[
                "user",
                "create",
                "--username",
                "bad",
                "--display-name",
                "B",
                "--role",
                "platform_admin",
                "--phone",
                "12345",
            ],
        );
        assert!(!bad.status.success());
        assert_eq!(db.store.user_count().await.unwrap(), 3);
        let before = raw_phones(&db).await;
        assert_eq!(before.len(), 3);
        assert!(
            before
                .iter()
                .all(|p| p.starts_with("sm4-gcm:k1:") && !p.contains("1380000000"))
        );

        let status = ok(&yiwang(&url, &keys, &["keys", "status"]));
        assert!(
            status.contains("k1") && status.contains("6 value(s)"),
            "{status}"
        );

        let out = ok(&yiwang(
            &url,
            &keys,
            &["keys", "generate", "--add", keys.to_str().unwrap()],
        ));
        assert!(out.contains("k2"), "{out}");
        let out = ok(&yiwang(&url, &keys, &["keys", "rotate", "--batch", "2"]));
        assert!(out.contains("rotation to key k2"), "{out}");
        assert!(out.contains("no value uses it; it can be removed"), "{out}");
        let after = raw_phones(&db).await;
        assert!(
            after.iter().all(|p| p.starts_with("sm4-gcm:k2:")),
            "{after:?}"
        );
        // Again: nothing left to do.
        let again = ok(&yiwang(&url, &keys, &["keys", "rotate"]));
        assert!(again.contains("0 re-encrypted"), "{again}");
        assert!(!again.contains(" 3 re-encrypted"), "{again}");

        // Retire k1: the file keeps only k2, and everything still reads.
        let text = std::fs::read_to_string(&keys).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.contains("\"k1="))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&keys, kept).unwrap();
        let status = ok(&yiwang(&url, &keys, &["keys", "status"]));
        assert!(
            !status.contains("k1") && !status.contains("NOT in the key ring"),
            "{status}"
        );
        let ring = yiwang_crypto::KeyRing::load_file(&keys).unwrap();
        let store = db.store.clone().with_keys(std::sync::Arc::new(ring));
        let list = store.staff_pii_list().await.unwrap();
        assert!(
            list.iter()
                .all(|u| matches!(u.phone, yiwang_store::Shown::Masked(_)))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `yiwang keys rotate` re-encrypts the uploaded materials under `<data_dir>/files` too: files
/// under the old key and files stored in clear end up under the current key, and still read.
#[tokio::test]
async fn keys_rotate_reencrypts_stored_files() {
    use yiwang_app::files::{FileStore, LocalDirStore};
    for (n, db) in backends().await.into_iter().enumerate() {
        let dir = temp(&format!("files-{n}"));
        let keys = dir.join("keys.toml");
        let data = dir.join("data");
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_yiwang"))
                .args(args)
                .env("YIWANG_DATABASE_URL", &db.url)
                .env("YIWANG_KEY_FILE", &keys)
                .env("YIWANG_DATA_DIR", &data)
                .env_remove("YIWANG_DATA_KEYS")
                .env("YIWANG_LOG", "warn")
                .output()
                .expect("binary runs")
        };
        ok(&run(&["keys", "generate", "--out", keys.to_str().unwrap()]));
        let k1 = std::sync::Arc::new(yiwang_crypto::KeyRing::load_file(&keys).unwrap());
        let root = data.join("files");
        let scan = b"%PDF-1.7\n% ID card scan\n".to_vec();
        let clear = b"%PDF-1.7\n% stored before encryption\n".to_vec();
        let enc = LocalDirStore::new(&root).unwrap().with_keys(Some(k1));
        let scan_key = enc.put(&scan).await.unwrap();
        let clear_key = LocalDirStore::new(&root)
            .unwrap()
            .put(&clear)
            .await
            .unwrap();
        let usage = enc.key_usage().unwrap();
        assert_eq!(usage.get("k1"), Some(&1));
        assert_eq!(usage.get("plaintext"), Some(&1));

        ok(&run(&["keys", "generate", "--add", keys.to_str().unwrap()]));
        let out = ok(&run(&["keys", "rotate"]));
        assert!(out.contains("rotation to key k2"), "{out}");
        let files_line = out.lines().find(|l| l.starts_with("files")).unwrap();
        assert!(files_line.contains("2 re-encrypted"), "{out}");
        let k2 = std::sync::Arc::new(yiwang_crypto::KeyRing::load_file(&keys).unwrap());
        let after = LocalDirStore::new(&root).unwrap().with_keys(Some(k2));
        assert_eq!(
            after.key_usage().unwrap().into_iter().collect::<Vec<_>>(),
            vec![("k2".to_string(), 2)]
        );
        assert_eq!(after.get(&scan_key).await.unwrap(), scan);
        assert_eq!(after.get(&clear_key).await.unwrap(), clear);
        let status = ok(&run(&["keys", "status"]));
        assert!(status.contains("files under k2"), "{status}");
        let again = ok(&run(&["keys", "rotate"]));
        assert!(
            again
                .lines()
                .any(|l| l.starts_with("files") && l.contains(" 0 re-encrypted")),
            "{again}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
