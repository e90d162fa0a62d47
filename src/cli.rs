//! The offline `latchkey policy` commands: validate a document, evaluate a
//! custom-mode request. They run the same engine as the server, no server
//! or database needed, so users can lint policies in CI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::policy::simulate::{simulate_custom, SimulateRequest};
use crate::policy::PolicyType;

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
        PolicyCommand::Validate {
            policy_type,
            json,
            file,
        } => validate(&policy_type, json, &file),
        PolicyCommand::Eval { request } => eval(&request),
    }
}

fn read(path: &PathBuf) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        ExitCode::from(2)
    })
}

fn validate(policy_type: &str, json: bool, file: &PathBuf) -> ExitCode {
    let policy_type: PolicyType = match policy_type.parse() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match read(file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let result = crate::policy::validate::validate(&text, policy_type);
    if json {
        let reply = serde_json::json!({
            "valid": result.is_ok(),
            "error": result.as_ref().err().map(|e| serde_json::json!({"code": e.code(), "message": e.message()})),
            "findings": [],
        });
        println!("{reply}");
    } else {
        match &result {
            Ok(()) => println!("{}: valid {} policy", file.display(), policy_type.as_str()),
            Err(e) => println!("{}: {}: {}", file.display(), e.code(), e.message()),
        }
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn eval(request: &PathBuf) -> ExitCode {
    let text = match read(request) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let parsed: SimulateRequest = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "error: {} is not an evaluate request: {e}",
                request.display()
            );
            return ExitCode::from(2);
        }
    };
    match simulate_custom(&parsed) {
        Ok(reply) => match serde_json::to_string_pretty(&reply) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {}: {}", e.code(), e.message());
            ExitCode::from(1)
        }
    }
}
