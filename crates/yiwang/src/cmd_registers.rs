//! `yiwang registers …`: importing a register file (基础库) and listing its import runs.

use crate::cmd_audit::cli_actor;
use crate::env::{lang, now_ms};
use anyhow::{Context, anyhow};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;
use yiwang_app::registers::{RegisterImportError, import_csv};
use yiwang_domain::registers::RegisterKind;
use yiwang_i18n::{error_message, issue_message, t, tf};
use yiwang_store::Store;

#[derive(Subcommand, Debug)]
pub enum RegistersCommand {
    /// Import a whole register file (UTF-8 CSV with the register's standard headers). Every
    /// problem is listed by row and field and then nothing is written; a clean file is written
    /// in one transaction (rows already held are updated).
    Import {
        #[arg(value_enum)]
        kind: RegisterArg,
        file: PathBuf,
    },
    /// List the import runs of a register, newest first.
    Imports {
        #[arg(value_enum)]
        kind: RegisterArg,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RegisterArg {
    /// 人口基础库
    Population,
    /// 法人基础库
    LegalEntity,
    /// 电子证照库
    Licence,
}

impl From<RegisterArg> for RegisterKind {
    fn from(a: RegisterArg) -> Self {
        match a {
            RegisterArg::Population => RegisterKind::Population,
            RegisterArg::LegalEntity => RegisterKind::LegalEntity,
            RegisterArg::Licence => RegisterKind::Licence,
        }
    }
}

pub async fn run(store: &Store, command: &RegistersCommand) -> anyhow::Result<()> {
    let lang = lang();
    match command {
        RegistersCommand::Import { kind, file } => {
            let kind = RegisterKind::from(*kind);
            let name = t(lang, &format!("registers.{}", kind.key())).to_string();
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            match import_csv(store, kind, &bytes, &cli_actor(), now_ms()).await {
                Ok(run) => {
                    let rows = run.rows.to_string();
                    println!(
                        "{}",
                        tf(
                            lang,
                            "registers.import_done",
                            &[("kind", &name), ("rows", &rows)]
                        )
                    );
                    Ok(())
                }
                Err(RegisterImportError::Refused(issues)) => {
                    for i in &issues {
                        eprintln!("{}", issue_message(lang, i));
                    }
                    let count = issues.len().to_string();
                    Err(anyhow!(tf(
                        lang,
                        "registers.import_refused",
                        &[("kind", &name), ("count", &count)]
                    )))
                }
                Err(RegisterImportError::Store(e)) => Err(anyhow!(error_message(lang, e.code()))),
            }
        }
        RegistersCommand::Imports { kind } => {
            let kind = RegisterKind::from(*kind);
            for run in store.register_imports(kind).await? {
                println!("{}\t{}\t{}\t{}", run.id, run.at_ms, run.rows, run.actor);
            }
            Ok(())
        }
    }
}
