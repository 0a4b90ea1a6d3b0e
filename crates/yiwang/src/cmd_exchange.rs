//! `yiwang exchange …`: the exchange message log, checked offline from the database.

use anyhow::bail;
use clap::Subcommand;
use std::time::Instant;
use yiwang_store::{LogVerifyOptions, Store};

#[derive(Subcommand, Debug)]
pub enum ExchangeCommand {
    /// Check the message log's chain from its retention checkpoint (or its start) to its head:
    /// every entry's hash, every link, no gap, nothing cut off at the end. Prints the first
    /// altered, unreadable, deleted or reordered entry and exits non-zero if there is one.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The published trust bundle (JSON); with `--owner`, the retention checkpoint's seal is
        /// checked against it.
        #[arg(long)]
        trust_bundle: Option<std::path::PathBuf>,
        /// 统一社会信用代码 of the department that owns this log (and sealed its checkpoint).
        #[arg(long, requires = "trust_bundle")]
        owner: Option<String>,
        /// Also re-check every successful exchange's request and response seals (SM2) against
        /// `--trust-bundle`; slower, its rate is reported the same way.
        #[arg(long, requires = "trust_bundle")]
        signatures: bool,
    },
}

pub async fn run(store: &Store, command: &ExchangeCommand) -> anyhow::Result<()> {
    let ExchangeCommand::Verify {
        json,
        trust_bundle,
        owner,
        signatures,
    } = command;
    let bundle = match trust_bundle {
        Some(path) => Some(
            yiwang_exchange::TrustBundle::from_json(&std::fs::read_to_string(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        ),
        None => None,
    };
    let owner = match owner {
        Some(o) => Some(
            yiwang_domain::codes::CreditCode::parse(o)
                .map_err(|_| anyhow::anyhow!("--owner is not a valid 统一社会信用代码: {o}"))?,
        ),
        None => None,
    };
    let opts = LogVerifyOptions {
        bundle: bundle.as_ref(),
        owner: owner.as_ref(),
        signatures: *signatures,
    };
    let started = Instant::now();
    let pb = indicatif::ProgressBar::new_spinner();
    let report = store
        .exchange_log_verify(&opts, &mut |n| {
            pb.set_message(format!("{n} entries checked"))
        })
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
            "checkpoint_sealed": report.checkpoint_sealed,
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
                let what = if *signatures {
                    ", seals re-checked"
                } else {
                    ""
                };
                println!(
                    "ok: {} entries verified in {secs:.2} s ({rate} entries/s{what}), from entry {} to {}",
                    report.checked,
                    report.start.seq + 1,
                    report.head_seq
                );
                if report.start.seq > 0 && report.checkpoint_sealed.is_none() {
                    // Needs both the bundle and the owner.
                    println!(
                        "note: the chain starts at a retention checkpoint whose seal was not checked (give --trust-bundle and --owner)"
                    );
                }
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
