//! `yiwang audit …`: checking the tamper-evident audit log, and who the command line acts as.

use anyhow::bail;
use clap::Subcommand;
use std::time::Instant;
use yiwang_store::{Actor, Store};

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole chain: every entry's hash, every link, no gaps, and the chain head.
    /// Prints the first altered, deleted or reordered entry and exits non-zero if there is one.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also check the anchors in this file (written by `audit anchor`): a chain rewritten
        /// as a whole passes the hash check but not its earlier anchors.
        #[arg(long)]
        anchors: Option<std::path::PathBuf>,
    },
    /// Append the chain head (sequence number and hash) to a file kept outside the database
    /// (another host, write-once storage, a printed report), for `verify --anchors`.
    Anchor {
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

/// The actor of audited writes made from the command line: `system`, with the OS user.
pub fn cli_actor() -> Actor {
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_string());
    Actor::system(format!("cli:{user}"))
}

pub async fn run(store: &Store, command: &AuditCommand) -> anyhow::Result<()> {
    let (json, anchors) = match command {
        AuditCommand::Verify { json, anchors } => (json, anchors),
        AuditCommand::Anchor { file } => return anchor(store, file).await,
    };
    let started = Instant::now();
    let pb = indicatif::ProgressBar::new_spinner();
    let report = store
        .audit_verify(&mut |n| pb.set_message(format!("{n} entries checked")))
        .await?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    if *json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    match &report.problem {
        None => {
            if !*json {
                println!("ok: {} entries verified in {secs:.2} s", report.entries);
            }
            if let Some(path) = anchors {
                check_anchors(store, path).await?;
            }
            Ok(())
        }
        Some(p) => {
            eprintln!(
                "TAMPERED ({}): {p}; {} entries before it are intact",
                p.kind.key(),
                report.entries
            );
            bail!("the audit log failed verification at entry {}", p.seq)
        }
    }
}

async fn anchor(store: &Store, file: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let head = store.audit_head().await?;
    let line = format!("{} {} {}\n", head.seq, head.hash, crate::env::now_ms());
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    f.write_all(line.as_bytes())?;
    f.sync_all()?;
    print!("{line}");
    Ok(())
}

async fn check_anchors(store: &Store, path: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut anchors = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match yiwang_store::Anchor::parse_line(line) {
            Some(a) => anchors.push(a),
            None => bail!("{}:{}: not an anchor line", path.display(), i + 1),
        }
    }
    let head = store.audit_head().await?;
    if let Some(last) = anchors.iter().map(|a| a.seq).max()
        && last > head.seq
    {
        bail!(
            "the audit log ends at entry {} but was anchored at {last}: entries were removed",
            head.seq
        );
    }
    let bad = store.audit_check_anchors(&anchors).await?;
    if let Some(m) = bad.first() {
        eprintln!(
            "REWRITTEN: entry {} was anchored as {} but is now {}",
            m.seq,
            m.anchored,
            m.stored.as_deref().unwrap_or("missing")
        );
        bail!(
            "the audit log differs from {} of its {} anchors",
            bad.len(),
            anchors.len()
        );
    }
    println!("ok: {} anchors match", anchors.len());
    Ok(())
}
