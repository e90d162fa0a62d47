//! The latchkey binary: `serve`, `config check`, `openapi`, the offline
//! `policy` tools, `backup`, `restore` and `master-key` for the data
//! directory, and `store copy` from SQLite to PostgreSQL.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use latchkey::config::{annotate_help, process_env, ServeArgs};
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
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
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
    /// Move the database: copy a SQLite database into PostgreSQL.
    #[command(subcommand)]
    Store(latchkey::maintenance::copy::StoreCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (secrets masked) and where each
    /// value came from; exit 1 when the file or a variable is invalid.
    Check(ServeArgs),
}

fn main() -> ExitCode {
    let command = Cli::command()
        .mut_subcommand("serve", annotate_help)
        .mut_subcommand("config", |c| c.mut_subcommand("check", annotate_help));
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Config(ConfigCommand::Check(args)) => match args.resolve(&process_env()) {
            Ok(resolved) => {
                for warning in &resolved.warnings {
                    eprintln!("warning: {warning}");
                }
                print!("{}", resolved.render());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
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
        Command::Store(command) => latchkey::maintenance::copy::run_store(command),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let (config, file, warnings) = match args.resolve(&process_env()) {
        Ok(resolved) => (resolved.config, resolved.file, resolved.warnings),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    latchkey::telemetry::init(config.log_format, "info");
    if let Some(file) = file {
        tracing::info!(file = %file.display(), "configuration file read");
    }
    for warning in warnings {
        tracing::warn!("{warning}");
    }
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
