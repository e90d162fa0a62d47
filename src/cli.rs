//! The offline `latchkey policy` commands: validate and lint documents,
//! evaluate a custom-mode request. They run the same engine as the server,
//! no server or database needed, so users can lint policies in CI.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::policy::lint::{lint, lint_with, Catalog, Finding, LintOptions, Severity};
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
    /// Lint policy documents (Access-Analyzer-style findings). Exit 0 when no
    /// finding reaches --fail-on, 1 when one does, 2 on usage or I/O errors.
    Lint {
        /// identity, resource, trust, boundary or session.
        #[arg(long = "type", default_value = "identity")]
        policy_type: String,
        /// The least severity that fails the run: error, security_warning,
        /// warning or suggestion.
        #[arg(long = "fail-on", default_value = "error")]
        fail_on: String,
        /// Print `{"results": [{"file", "findings"}], "failed"}` as JSON.
        #[arg(long)]
        json: bool,
        /// The 12-digit account owning the policies: trust checks then tell
        /// same-account principals from other accounts'.
        #[arg(long)]
        account: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
        PolicyCommand::Lint {
            policy_type,
            fail_on,
            json,
            account,
            files,
        } => lint_files(&policy_type, &fail_on, json, account, &files),
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
            "findings": lint(&text, policy_type, &Catalog::builtin()),
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

fn lint_files(
    policy_type: &str,
    fail_on: &str,
    json: bool,
    account: Option<String>,
    files: &[PathBuf],
) -> ExitCode {
    let parsed = policy_type
        .parse::<PolicyType>()
        .and_then(|t| fail_on.parse::<Severity>().map(|s| (t, s)));
    let (policy_type, fail_on) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let catalog = Catalog::builtin();
    let options = LintOptions {
        account_id: account,
    };
    let mut io_error = false;
    let mut results = Vec::new();
    for file in files {
        match read(file) {
            Ok(text) => results.push((file, lint_with(&text, policy_type, &catalog, &options))),
            Err(_) => io_error = true,
        }
    }
    let failed = results
        .iter()
        .flat_map(|(_, findings)| findings)
        .any(|f| f.severity >= fail_on);
    if json {
        let results: Vec<_> = results
            .iter()
            .map(|(file, findings)| serde_json::json!({"file": file.display().to_string(), "findings": findings}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"results": results, "failed": failed})
        );
    } else {
        for (file, findings) in &results {
            for f in findings {
                println!("{}", human_line(file, f));
            }
        }
        let count: usize = results.iter().map(|(_, f)| f.len()).sum();
        eprintln!(
            "{count} finding(s) in {} file(s); failing on {} and above: {}",
            results.len(),
            fail_on.as_str(),
            if failed { "failed" } else { "passed" }
        );
    }
    if io_error {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `file: SEVERITY CODE path: message`, the shape compilers use, so editors
/// and CI annotators can pick it up.
fn human_line(file: &std::path::Path, f: &Finding) -> String {
    let path = if f.location.path.is_empty() {
        "(document)"
    } else {
        &f.location.path
    };
    format!(
        "{}: {} {} {path}: {}",
        file.display(),
        f.severity.as_str(),
        f.code,
        f.message
    )
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
