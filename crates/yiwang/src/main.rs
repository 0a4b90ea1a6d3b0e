//! `yiwang`: the one binary. `serve` runs the platform; the other subcommands manage data.

mod background;
mod cli;
mod cmd_audit;
mod cmd_calendar;
mod cmd_exchange;
mod cmd_keys;
mod cmd_registers;
mod cmd_search;
mod cmd_user;
mod commands;
mod config;
mod env;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("YIWANG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
