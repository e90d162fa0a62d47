//! The latchkey binary: `serve`, `openapi`, the offline `policy` tools,
//! and `backup`, `restore` and `master-key` for the data directory.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use latchkey::config::{Config, ServeArgs};
use latchkey::startup::Application;

/// A request allocates many small, short-lived buffers (headers, JSON,
/// context keys); mimalloc serves those markedly faster than glibc's
/// allocator under two worker threads (see the load numbers in README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "AWS-style IAM and STS in one binary, kept in SQLite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Offline policy tools: validate and evaluate documents.
    #[command(subcommand)]
    Policy(latchkey::cli::PolicyCommand),
    /// Write a consistent copy of the database while the server keeps
    /// serving, check it, and write FILE.manifest.json beside it.
    Backup(latchkey::maintenance::BackupArgs),
    /// Restore a backup into a data directory that holds no database.
    Restore(latchkey::maintenance::RestoreArgs),
    /// The master key: rotate it, forget the previous one, show its check.
    #[command(subcommand)]
    MasterKey(latchkey::maintenance::MasterKeyCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Openapi => match latchkey::api::openapi().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Policy(command) => latchkey::cli::run_policy(command),
        Command::Backup(args) => latchkey::maintenance::run_backup(args),
        Command::Restore(args) => latchkey::maintenance::run_restore(args),
        Command::MasterKey(command) => latchkey::maintenance::run_master_key(command),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let config = Config::from(args);
    latchkey::telemetry::init(config.log_format, "info");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let app = Application::build(config).await?;
        app.run_until_stopped().await?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "latchkey stopped");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
