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
    let AuditCommand::Verify { json } = command;
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
