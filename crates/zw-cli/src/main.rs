//! `zonewarden`: read-only scans of a real account before deploying, and
//! local runs. Parses arguments and dispatches; the work is in the libraries.

mod args;
mod commands;
mod exit;
mod html;
mod live;
mod output;
mod session;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    // aws_config warns at length about every credential and region source it
    // tries (IMDS on a laptop); our own error says what is missing instead.
    let level = match cli.verbose {
        0 => "warn,aws_config=error",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZONEWARDEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        .init();

    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<exit::CliError>() {
                Some(exit::CliError::Usage(_)) => ExitCode::from(exit::EXIT_USAGE),
                _ => ExitCode::from(exit::EXIT_SCAN_FAILED),
            }
        }
    }
}

fn run(cli: args::Cli) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match &cli.command {
            args::Command::Scan { what } => Ok(commands::scan::scan(&cli.aws, what).await?),
            args::Command::License { what } => {
                Ok(commands::license::license(&cli.aws, what).await?)
            }
            args::Command::Findings(args::FindingsArgs {
                action: Some(args::FindingsAction::Ack(a)),
                ..
            }) => Ok(commands::findings::ack(&cli.aws, a).await?),
            args::Command::Findings(a) => Ok(commands::findings::findings(&cli.aws, a).await?),
            args::Command::Suppress { what } => {
                Ok(commands::suppress::suppress(&cli.aws, what).await?)
            }
            args::Command::Audit(a) => Ok(commands::audit::audit(&cli.aws, a).await?),
            args::Command::Export(a) => Ok(commands::export::export(&cli.aws, a).await?),
            args::Command::Inventory(a) => Ok(commands::inventory::inventory(&cli.aws, a).await?),
            args::Command::Report(a) => Ok(commands::report::report(&cli.aws, a).await?),
            args::Command::Purge(a) => Ok(commands::purge::purge(&cli.aws, a).await?),
            args::Command::Table {
                what: args::TableCommand::Migrate(a),
            } => Ok(commands::table::migrate(&cli.aws, a).await?),
        }
    })
}
