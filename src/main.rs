//! The latchkey binary: `serve`, `openapi`, and the offline `policy` tools.

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

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Offline policy tools: validate and evaluate documents.
    #[command(subcommand)]
    Policy(latchkey::cli::PolicyCommand),
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
