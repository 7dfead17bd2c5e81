//! `zonewarden`: read-only scans of a real account before deploying, and
//! local runs. Parses arguments and dispatches; the work is in the libraries.

mod args;
mod license;
mod org;
mod output;
mod report;
mod scan;
mod triage;

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
            match e.downcast_ref::<scan::CliError>() {
                Some(scan::CliError::Usage(_)) => ExitCode::from(scan::EXIT_USAGE),
                _ => ExitCode::from(scan::EXIT_SCAN_FAILED),
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
            args::Command::Scan { what } => Ok(scan::scan(&cli.aws, what).await?),
            args::Command::License { what } => Ok(license::license(&cli.aws, what).await?),
            args::Command::Findings(args::FindingsArgs {
                action: Some(args::FindingsAction::Ack(a)),
                ..
            }) => Ok(triage::ack(&cli.aws, a).await?),
            args::Command::Findings(a) => Ok(org::findings(&cli.aws, a).await?),
            args::Command::Suppress { what } => Ok(triage::suppress(&cli.aws, what).await?),
            args::Command::Audit(a) => Ok(triage::audit(&cli.aws, a).await?),
            args::Command::Export(a) => Ok(triage::export(&cli.aws, a).await?),
            args::Command::Inventory(a) => Ok(triage::inventory(&cli.aws, a).await?),
            args::Command::Report(a) => Ok(triage::report(&cli.aws, a).await?),
            args::Command::Purge(a) => Ok(triage::purge(&cli.aws, a).await?),
            args::Command::Table {
                what: args::TableCommand::Migrate(a),
            } => Ok(org::migrate(&cli.aws, a).await?),
        }
    })
}
