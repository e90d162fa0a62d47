//! The offline `latchkey policy` commands: validate a document, evaluate a
//! custom-mode request. They run the same engine as the server, no server
//! or database needed, so users can lint policies in CI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy document; exit 0 when valid, 1 when not.
    Validate {
        /// identity, resource, trust, boundary or session.
        #[arg(long = "type", default_value = "identity")]
        policy_type: String,
        /// Print `{"valid", "error", "findings"}` as JSON.
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
    /// Evaluate the custom-mode body of POST /v1/evaluate and print the reply.
    Eval {
        #[arg(long)]
        request: PathBuf,
    },
}

pub fn run_policy(command: PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Validate { .. } | PolicyCommand::Eval { .. } => {
            eprintln!("not yet available");
            ExitCode::from(2)
        }
    }
}
