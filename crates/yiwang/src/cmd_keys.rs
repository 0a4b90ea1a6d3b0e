//! `yiwang keys …`: data keys for personal data, and where the server gets them.
//!
//! Keys come from `YIWANG_DATA_KEYS` + `YIWANG_INDEX_KEY`, or the TOML file named by
//! `YIWANG_KEY_FILE`, or — when neither is set — `<data_dir>/keys.toml` if it exists. Only
//! `serve --demo` and `demo` create that file (random keys, mode 0600) on first start; a production
//! install supplies its own keys and keeps them away from the database and its backups.

use crate::config::Config;
use crate::env::now_ms;
use anyhow::{Context, anyhow, bail};
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use yiwang_crypto::{Alg, KeyFile, KeyRing};
use yiwang_domain::codes::{Phone, ResidentId};
use yiwang_store::{Shown, Store, UserPii};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Make a new key file (one data key, one index key), or add a new current data key to an
    /// existing one. Without --out or --add the new file is printed.
    Generate {
        /// Write the new key file here (mode 0600; an existing file is never overwritten).
        #[arg(long, conflicts_with = "add")]
        out: Option<PathBuf>,
        /// Add a new data key, which becomes current, to this key file; older keys stay so that
        /// existing values still decrypt until `yiwang keys rotate` has run.
        #[arg(long)]
        add: Option<PathBuf>,
        /// sm4-gcm (default) or aes-256-gcm.
        #[arg(long, default_value = "sm4-gcm")]
        alg: String,
    },
    /// Re-encrypt every personal-data value under the current data key (and recompute blind
    /// indexes under the current index key), one transaction per batch, and every uploaded
    /// file under `<data_dir>/files`, one file at a time, while the server runs.
    /// Safe to repeat. Prints what it did and which keys no value uses any more.
    Rotate {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Where the keys come from, their ids, and how many stored values each data key protects.
    Status,
}

/// The key file `serve --demo` creates when no keys are configured.
pub fn demo_key_file(cfg: &Config) -> PathBuf {
    cfg.data_dir.join("keys.toml")
}

/// The configured key ring: environment, `YIWANG_KEY_FILE`, or `<data_dir>/keys.toml`; with
/// `demo`, that file is created on first start.
pub fn load_ring(cfg: &Config, demo: bool) -> anyhow::Result<Option<Arc<KeyRing>>> {
    if let Some(ring) = KeyRing::from_env()? {
        return Ok(Some(Arc::new(ring)));
    }
    let path = demo_key_file(cfg);
    if !path.exists() {
        if !demo {
            return Ok(None);
        }
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create {}", cfg.data_dir.display()))?;
        write_new(&path, &KeyFile::generate(Alg::Sm4Gcm))?;
        eprintln!(
            "demo: generated data keys in {} (mode 0600). A production install must supply its \
             own keys (YIWANG_KEY_FILE or YIWANG_DATA_KEYS + YIWANG_INDEX_KEY).",
            path.display()
        );
    }
    Ok(Some(Arc::new(KeyRing::load_file(&path)?)))
}

/// `store` with the configured keys; without keys it still serves, but personal data can be
/// neither stored nor shown.
pub fn attach(store: Store, cfg: &Config, demo: bool) -> anyhow::Result<Store> {
    match load_ring(cfg, demo)? {
        Some(ring) => {
            tracing::info!(
                source = %ring.source(),
                current = ring.current_key_id(),
                "data keys loaded"
            );
            Ok(store.with_keys(ring))
        }
        None => {
            tracing::warn!(
                "no data keys configured (YIWANG_KEY_FILE, or YIWANG_DATA_KEYS and \
                 YIWANG_INDEX_KEY): personal data can be neither stored nor shown"
            );
            Ok(store)
        }
    }
}

/// Personal data given on the command line, checked.
pub fn user_pii(phone: Option<&str>, resident_id: Option<&str>) -> anyhow::Result<UserPii> {
    Ok(UserPii {
        phone: phone
            .map(Phone::parse)
            .transpose()
            .map_err(|_| anyhow!("--phone: a mobile number has 11 digits and starts with 1"))?,
        resident_id: resident_id
            .map(ResidentId::parse)
            .transpose()
            .map_err(|_| {
                anyhow!("--resident-id: 18 characters with a valid birth date and check character")
            })?,
    })
}

/// Fictitious phone and ID numbers for the demo accounts that have none yet.
pub async fn seed_demo_pii(store: &Store) -> anyhow::Result<()> {
    if store.keys().is_none() {
        return Ok(());
    }
    let demo = [
        ("admin", "13800138000", "12011219800101001"),
        ("jinnan", "13900139000", "12011219850615002"),
    ];
    for u in store.staff_pii_list().await? {
        let Some((_, phone, id17)) = demo.iter().find(|d| d.0 == u.username) else {
            continue;
        };
        if u.phone != Shown::Empty || u.resident_id != Shown::Empty {
            continue;
        }
        let pii = UserPii {
            phone: Some(Phone::parse(phone).map_err(|e| anyhow!("{e}"))?),
            resident_id: Some(ResidentId::with_check_char(id17).map_err(|e| anyhow!("{e}"))?),
        };
        store
            .set_user_pii(u.user_id, &pii, &crate::cmd_audit::cli_actor(), now_ms())
            .await?;
    }
    Ok(())
}

/// Creates `path` with mode 0600 and writes the key file; never replaces an existing file.
fn write_new(path: &Path, file: &KeyFile) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(file.to_toml().as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn parse_alg(alg: &str) -> anyhow::Result<Alg> {
    Alg::from_id(alg).ok_or_else(|| anyhow!("unknown algorithm {alg}; use sm4-gcm or aes-256-gcm"))
}

fn generate(out: Option<&Path>, add: Option<&Path>, alg: &str) -> anyhow::Result<()> {
    let alg = parse_alg(alg)?;
    match (out, add) {
        (Some(path), _) => {
            write_new(path, &KeyFile::generate(alg))?;
            println!(
                "key file written to {} (data key k1, index key i1)",
                path.display()
            );
        }
        (None, Some(path)) => {
            // Check that the file is a valid, private key file before changing it.
            KeyRing::load_file(path)?;
            let text = std::fs::read_to_string(path)?;
            let mut file = KeyFile::parse(&text)?;
            let id = file.add_data_key(alg);
            let tmp = path.with_extension("toml.new");
            let _ = std::fs::remove_file(&tmp);
            write_new(&tmp, &file)?;
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot replace {}", path.display()))?;
            println!(
                "added data key {id} ({}) to {}; it encrypts new values once the server restarts. \
                 Then run `yiwang keys rotate`.",
                alg.id(),
                path.display()
            );
        }
        (None, None) => print!("{}", KeyFile::generate(alg).to_toml()),
    }
    Ok(())
}

/// The store of uploaded materials under `<data_dir>/files`, encrypting with `store`'s keys.
pub fn file_store(cfg: &Config, store: &Store) -> anyhow::Result<yiwang_app::files::LocalDirStore> {
    let root = cfg.data_dir.join("files");
    Ok(yiwang_app::files::LocalDirStore::new(&root)
        .with_context(|| format!("cannot use {}", root.display()))?
        .with_keys(store.key_ring()))
}

async fn open_with_keys(url: &str, cfg: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(url)
        .await
        .context("cannot open the database")?;
    store.migrate().await.context("migrations failed")?;
    let ring = load_ring(cfg, false)?.ok_or_else(|| {
        anyhow!(
            "no data keys configured: set YIWANG_KEY_FILE, or YIWANG_DATA_KEYS and YIWANG_INDEX_KEY"
        )
    })?;
    Ok(store.with_keys(ring))
}

async fn print_usage(store: &Store) -> anyhow::Result<()> {
    let Some(ring) = store.keys() else {
        return Ok(());
    };
    let usage = store.pii_key_usage().await?;
    println!(
        "data keys (oldest first; current {}):",
        ring.current_key_id()
    );
    for id in ring.data_key_ids() {
        let n = usage.get(id).copied().unwrap_or(0);
        let note = if id == ring.current_key_id() {
            ""
        } else if n == 0 {
            "  ← no value uses it; it can be removed"
        } else {
            "  ← still in use; run `yiwang keys rotate`"
        };
        println!("  {id:<12} {n:>8} value(s){note}");
    }
    for (id, n) in usage
        .iter()
        .filter(|(id, _)| !ring.data_key_ids().contains(&id.as_str()))
    {
        println!("  {id:<12} {n:>8} value(s)  ← NOT in the key ring: these cannot be read");
    }
    Ok(())
}

pub async fn run(command: &KeysCommand, cfg: &Config, url: &str) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate { out, add, alg } => generate(out.as_deref(), add.as_deref(), alg),
        KeysCommand::Status => {
            let store = open_with_keys(url, cfg).await?;
            if let Some(ring) = store.keys() {
                println!(
                    "keys from {}; index key {}",
                    ring.source(),
                    ring.index_key_id()
                );
            }
            print_usage(&store).await?;
            if cfg.data_dir.join("files").is_dir() {
                let fs = file_store(cfg, &store)?;
                for (key, n) in fs.key_usage()? {
                    println!("  files under {key:<8} {n:>8}");
                }
            }
            Ok(())
        }
        KeysCommand::Rotate { batch } => {
            let store = open_with_keys(url, cfg).await?;
            let started = std::time::Instant::now();
            let summary = store.rotate_pii(*batch).await?;
            // Uploaded materials (ID card scans) under the data directory, one file at a time.
            let files = if cfg.data_dir.join("files").is_dir() {
                let fs = file_store(cfg, &store)?;
                let done = tokio::task::spawn_blocking(move || fs.rotate()).await??;
                println!(
                    "{:<20} {:>8} scanned {:>8} re-encrypted {:>8} failed",
                    "files", done.scanned, done.reencrypted, done.failed
                );
                Some(done)
            } else {
                None
            };
            for c in &summary.columns {
                println!(
                    "{:<20} {:>8} scanned {:>8} re-encrypted {:>8} re-indexed {:>4} failed {:>4} changed meanwhile",
                    c.column, c.scanned, c.reencrypted, c.reindexed, c.failed, c.raced
                );
            }
            println!(
                "rotation to key {} done in {:.2}s",
                summary.current_key,
                started.elapsed().as_secs_f64()
            );
            let event = crate::cmd_audit::cli_actor().event(
                "keys.rotate",
                format!("keys:{}", summary.current_key),
                serde_json::to_string(&summary)?,
            );
            store.audit(now_ms(), &event).await?;
            print_usage(&store).await?;
            let failed = summary.total(|c| c.failed);
            if let Some(files) = &files {
                store
                    .audit(
                        now_ms(),
                        &crate::cmd_audit::cli_actor().event(
                            "keys.rotate_files",
                            format!("keys:{}", summary.current_key),
                            serde_json::to_string(files)?,
                        ),
                    )
                    .await?;
                if files.failed > 0 {
                    bail!(
                        "{} stored file(s) could not be decrypted with the configured keys",
                        files.failed
                    );
                }
            }
            if failed > 0 {
                bail!("{failed} value(s) could not be decrypted with the configured keys");
            }
            Ok(())
        }
    }
}
