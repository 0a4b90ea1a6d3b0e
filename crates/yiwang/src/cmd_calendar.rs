//! `yiwang calendar …`: loading the official working calendar and computing due dates on it.

use crate::cmd_audit::cli_actor;
use crate::env::{lang, now_ms};
use anyhow::{Context, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;
use yiwang_domain::calendar::{CivilDate, Pause};
use yiwang_domain::catalog::TimeLimit;
use yiwang_domain::enums::TimeUnit;
use yiwang_i18n::issue_message;
use yiwang_store::Store;

#[derive(Subcommand, Debug)]
pub enum CalendarCommand {
    /// Load holidays and adjusted working days from a CSV file with columns
    /// date,kind,festival (kind: holiday or adjusted_workday). Importing again changes nothing.
    Import { file: PathBuf },
    /// Load the 2004–2026 data shipped in the binary.
    ImportShipped,
    /// Print the due date of a time limit: the acceptance day is day 0.
    Due {
        /// Acceptance date, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        #[arg(long)]
        days: u32,
        #[arg(long, value_enum, default_value = "working")]
        unit: DayUnit,
        /// A pause that does not count toward the limit, FROM:TO (the days after FROM up to
        /// and including TO are skipped). May be repeated.
        #[arg(long = "pause")]
        pauses: Vec<String>,
    },
    /// Print the years for which holidays are loaded.
    Years,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DayUnit {
    Working,
    Natural,
}

fn date(s: &str) -> anyhow::Result<CivilDate> {
    CivilDate::parse(s.trim()).map_err(|_| anyhow!("not a date (YYYY-MM-DD): {s}"))
}

fn import_failed(e: yiwang_app::ImportError) -> anyhow::Error {
    let lang = lang();
    for i in e.issues() {
        eprintln!("{}", issue_message(lang, &i));
    }
    anyhow!("the calendar was not imported")
}

fn print_summary(s: yiwang_store::calendar::CalendarImportSummary) {
    println!(
        "calendar: {} added, {} changed, {} unchanged",
        s.added, s.changed, s.unchanged
    );
}

pub async fn run(store: &Store, command: &CalendarCommand) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Import { file } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let source = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let s = yiwang_app::calendar::import_calendar(
                store,
                &bytes,
                &source,
                &cli_actor(),
                now_ms(),
            )
            .await
            .map_err(import_failed)?;
            print_summary(s);
            Ok(())
        }
        CalendarCommand::ImportShipped => {
            let s = yiwang_app::calendar::import_shipped_calendar(store, &cli_actor(), now_ms())
                .await
                .map_err(import_failed)?;
            print_summary(s);
            Ok(())
        }
        CalendarCommand::Due {
            from,
            days,
            unit,
            pauses,
        } => {
            let from = date(from)?;
            let mut list = Vec::new();
            for p in pauses {
                let Some((a, b)) = p.split_once(':') else {
                    bail!("a pause is FROM:TO, e.g. 2026-10-08:2026-10-12");
                };
                list.push(Pause {
                    from: date(a)?,
                    to: date(b)?,
                    counts_toward_limit: false,
                });
            }
            let limit = TimeLimit {
                amount: *days,
                unit: match unit {
                    DayUnit::Working => TimeUnit::WorkingDays,
                    DayUnit::Natural => TimeUnit::NaturalDays,
                },
            };
            let cal = yiwang_app::calendar::working_calendar(store)
                .await
                .map_err(import_failed)?;
            let due = cal
                .due_date(from, limit, &list)
                .map_err(|_| anyhow!("a pause ends before it starts"))?;
            if !cal.covers(from, due) {
                eprintln!(
                    "warning: no holiday data for some of {}–{}; weekends only were assumed \
                     (load it with `yiwang calendar import`)",
                    from.year(),
                    due.year()
                );
            }
            println!("{due}");
            Ok(())
        }
        CalendarCommand::Years => {
            let cal = yiwang_app::calendar::working_calendar(store)
                .await
                .map_err(import_failed)?;
            let years = cal.covered_years();
            match (years.first(), years.last()) {
                (Some(a), Some(b)) if b - a + 1 == years.len() as i32 => println!("{a}–{b}"),
                _ => println!(
                    "{}",
                    years
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
            Ok(())
        }
    }
}
