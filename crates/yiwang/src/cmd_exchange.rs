//! `yiwang exchange …`: the exchange message log, checked offline from the database.

use anyhow::bail;
use clap::Subcommand;
use std::time::Instant;
use yiwang_store::Store;

#[derive(Subcommand, Debug)]
pub enum ExchangeCommand {
    /// Check the message log's chain from its retention checkpoint (or its start) to its head:
    /// every entry's hash, every link, no gap, nothing cut off at the end. Prints the first
    /// altered, unreadable, deleted or reordered entry and exits non-zero if there is one.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(store: &Store, command: &ExchangeCommand) -> anyhow::Result<()> {
    let ExchangeCommand::Verify { json } = command;
    let started = Instant::now();
    let pb = indicatif::ProgressBar::new_spinner();
    let report = store
        .exchange_log_verify(&mut |n| pb.set_message(format!("{n} entries checked")))
        .await?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    // Entries per second, the figure the performance goal is stated in.
    let rate = if secs > 0.0 {
        format!("{:.0}", report.checked as f64 / secs)
    } else {
        "-".into()
    };
    if *json {
        let v = serde_json::json!({
            "checked": report.checked,
            "start_seq": report.start.seq,
            "head_seq": report.head_seq,
            "seconds": secs,
            "problem": report.problem.map(|p| serde_json::json!({
                "seq": p.seq,
                "kind": format!("{:?}", p.kind).to_lowercase(),
                "detail": p.to_string(),
            })),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    match report.problem {
        None => {
            if !*json {
                println!(
                    "ok: {} entries verified in {secs:.2} s ({rate} entries/s), from entry {} to {}",
                    report.checked,
                    report.start.seq + 1,
                    report.head_seq
                );
            }
            Ok(())
        }
        Some(p) => {
            eprintln!(
                "TAMPERED: {p}; {} entries before it are intact",
                report.checked
            );
            bail!(
                "the exchange message log failed verification at entry {}",
                p.seq
            )
        }
    }
}
