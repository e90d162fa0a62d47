//! The one place precedence is decided: defaults, then the file, then the
//! environment, then the flags, each layer taking what it sets. The
//! environment comes in as a map (not read here), so tests resolve with
//! their own variables while running in parallel in one process.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args as _, FromArgMatches as _};

use super::{Config, Settings};

/// Prefix of every setting's environment variable.
pub const ENV_PREFIX: &str = "LATCHKEY_";
/// The environment variable naming the file, when `--config` is not given.
pub const CONFIG_ENV: &str = "LATCHKEY_CONFIG";

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env,
    Flag,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("invalid environment variable {var}: {message}")]
    Env { var: String, message: String },
    /// Settings that only make sense together, given apart.
    #[error("{0}")]
    Incomplete(String),
    /// A value outside the setting's range.
    #[error("{0}")]
    OutOfRange(String),
}

/// The configuration and where each of its values came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// What is unsafe about the file (its mode), for the log and
    /// `config check`; not a refusal, as the owner may know better.
    pub warnings: Vec<String>,
    sources: HashMap<&'static str, Source>,
}

impl Resolved {
    pub fn source(&self, setting: &str) -> Source {
        self.sources
            .get(setting)
            .copied()
            .unwrap_or(Source::Default)
    }

    /// The effective configuration as TOML, each value commented with its
    /// source; secrets masked, unset settings commented out.
    pub fn render(&self) -> String {
        let mut out =
            String::from("# Effective configuration (flags > environment > file > defaults).\n");
        match &self.file {
            Some(file) => {
                let _ = writeln!(out, "# File: {}", file.display());
            }
            None => out.push_str("# File: none\n"),
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "# WARNING: {warning}");
        }
        for (name, value) in self.config.entries() {
            let from = match self.source(name) {
                Source::Default => "default".to_string(),
                Source::File => "file".to_string(),
                Source::Env => format!("env {}", env_var(name)),
                Source::Flag => format!("flag --{}", name.replace('_', "-")),
            };
            let _ = match value {
                Some(value) => writeln!(out, "{name} = {value}  # {from}"),
                None => writeln!(out, "# {name} is not set  # {from}"),
            };
        }
        out
    }
}

/// `LATCHKEY_` and the setting in upper case: `LATCHKEY_MAX_BODY_BYTES`.
pub fn env_var(setting: &str) -> String {
    format!("{ENV_PREFIX}{}", setting.to_ascii_uppercase())
}

/// The process's `LATCHKEY_*` variables, for [`resolve`].
pub fn process_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with(ENV_PREFIX)
                .then(|| (name, value.to_string_lossy().into_owned()))
        })
        .collect()
}

/// Merges the layers. The file is `config_file`, else `LATCHKEY_CONFIG`,
/// else none.
pub fn resolve(
    flags: Settings,
    config_file: Option<PathBuf>,
    env: &HashMap<String, String>,
) -> Result<Resolved, ConfigError> {
    let file = config_file.or_else(|| set(env, CONFIG_ENV).map(PathBuf::from));
    let mut merged = Settings::default();
    let mut sources = HashMap::new();
    let mut warnings = Vec::new();
    let mut take = |layer: Settings, source: Source| {
        for name in merged.overlay(layer) {
            sources.insert(name, source);
        }
    };
    if let Some(path) = &file {
        let layer = read_file(path)?;
        warnings = file_warnings(path, &layer);
        take(layer, Source::File);
    }
    take(from_env(env)?, Source::Env);
    take(flags, Source::Flag);
    let config = merged.into_config();
    if config.tls_cert.is_some() != config.tls_key.is_some() {
        return Err(ConfigError::Incomplete(
            "tls_cert and tls_key (--tls-cert, --tls-key) must be set together".into(),
        ));
    }
    if !(1..=super::MAX_COHERENCE_POLL_MS).contains(&config.coherence_poll_ms) {
        return Err(ConfigError::OutOfRange(format!(
            "coherence_poll_ms (--coherence-poll-ms) must be between 1 and {}, not {}",
            super::MAX_COHERENCE_POLL_MS,
            config.coherence_poll_ms
        )));
    }
    Ok(Resolved {
        config,
        file,
        warnings,
        sources,
    })
}

/// An empty variable counts as unset, as a unit file's `Environment=X=`
/// usually means.
fn set<'a>(env: &'a HashMap<String, String>, var: &str) -> Option<&'a str> {
    env.get(var).map(String::as_str).filter(|v| !v.is_empty())
}

fn read_file(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // `Settings` denies unknown fields: a misspelt key is an error naming
    // it (with its line), not a setting silently left at its default.
    toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })
}

/// A file others may write could point the server at their key or their
/// proxies; one others may read must not hold a secret. Group access is
/// fine: `root:latchkey 0640` is how a service reads its file.
#[cfg(unix)]
fn file_warnings(path: &Path, layer: &Settings) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(mode) = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    if mode & 0o002 != 0 {
        warnings.push(format!(
            "{} is writable by every user (mode {mode:04o})",
            path.display()
        ));
    }
    // A secret shows as the mask; a database URL's password as the mask
    // within the URL.
    let secrets: Vec<&str> = layer
        .clone()
        .into_config()
        .entries()
        .into_iter()
        .filter(|(_, value)| {
            matches!(value, Some(toml::Value::String(s)) if s.contains(super::Secret::MASK))
        })
        .map(|(name, _)| name)
        .collect();
    if mode & 0o004 != 0 && !secrets.is_empty() {
        warnings.push(format!(
            "{} sets {} and is readable by every user (mode {mode:04o}); make it 0600, or 0640 with the service's group",
            path.display(),
            secrets.join(" and ")
        ));
    }
    warnings
}

#[cfg(not(unix))]
fn file_warnings(_path: &Path, _layer: &Settings) -> Vec<String> {
    Vec::new()
}

/// Each variable is parsed as its flag would be, by the same clap
/// definition, so the two accept exactly the same values.
fn from_env(env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
    let mut layer = Settings::default();
    for name in Settings::NAMES {
        let var = env_var(name);
        let Some(value) = set(env, &var) else {
            continue;
        };
        let flag = format!("--{}={value}", name.replace('_', "-"));
        let parsed = Settings::augment_args(clap::Command::new("env"))
            .try_get_matches_from(["env", flag.as_str()])
            .and_then(|matches| Settings::from_arg_matches(&matches))
            .map_err(|e| ConfigError::Env {
                message: clap_message(&e),
                var,
            })?;
        layer.overlay(parsed);
    }
    Ok(layer)
}

/// clap's first line without its `error: ` prefix.
fn clap_message(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// A value as TOML, for [`Resolved::render`].
pub(super) fn shown<T: serde::Serialize>(value: &T) -> toml::Value {
    toml::Value::try_from(value)
        .unwrap_or_else(|e| toml::Value::String(format!("<cannot show: {e}>")))
}

/// Adds each setting's variable and default to its `--help` line: the
/// flags have no clap `env`/`default_value`, since precedence is decided
/// in [`resolve`], not by clap.
pub fn annotate_help(command: clap::Command) -> clap::Command {
    let defaults: HashMap<&str, Option<toml::Value>> =
        Config::default().entries().into_iter().collect();
    command.mut_args(|arg| {
        let name = arg.get_id().as_str().to_string();
        let Some(default) = defaults.get(name.as_str()) else {
            return arg;
        };
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        let default = match default {
            Some(toml::Value::Array(items)) if items.is_empty() => " [default: none]".to_string(),
            Some(value) => format!(" [default: {value}]"),
            None => String::new(),
        };
        arg.help(format!("{help} [env: {}]{default}", env_var(&name)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuditAuthorize, Secret};
    use crate::telemetry::LogFormat;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn flags(args: &[&str]) -> Settings {
        let matches = Settings::augment_args(clap::Command::new("serve"))
            .try_get_matches_from(std::iter::once("serve").chain(args.iter().copied()))
            .unwrap();
        Settings::from_arg_matches(&matches).unwrap()
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latchkey.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let (_dir, path) =
            file("bind = \"10.0.0.1:1\"\nregion = \"eu-west-1\"\nmax_body_bytes = 1000\n");
        let env = vars(&[
            ("LATCHKEY_BIND", "10.0.0.2:2"),
            ("LATCHKEY_REGION", "eu-west-2"),
        ]);
        let r = resolve(flags(&["--bind", "10.0.0.3:3"]), Some(path), &env).unwrap();
        assert_eq!(r.config.bind, "10.0.0.3:3");
        assert_eq!(r.source("bind"), Source::Flag);
        assert_eq!(r.config.region, "eu-west-2");
        assert_eq!(r.source("region"), Source::Env);
        assert_eq!(r.config.max_body_bytes, 1000);
        assert_eq!(r.source("max_body_bytes"), Source::File);
        assert_eq!(r.config.session_retention_hours, 24);
        assert_eq!(r.source("session_retention_hours"), Source::Default);
    }

    #[test]
    fn a_tls_certificate_without_its_key_is_refused() {
        let (_dir, path) = file("tls_cert = \"/etc/latchkey/tls/chain.pem\"\n");
        let e = resolve(Settings::default(), Some(path), &HashMap::new()).unwrap_err();
        assert!(e.to_string().contains("tls_key"), "{e}");
    }

    #[test]
    fn a_coherence_poll_beyond_a_second_is_refused() {
        for value in ["0", "1001"] {
            let env = vars(&[("LATCHKEY_COHERENCE_POLL_MS", value)]);
            let e = resolve(Settings::default(), None, &env).unwrap_err();
            assert!(e.to_string().contains("coherence_poll_ms"), "{e}");
        }
        let env = vars(&[("LATCHKEY_COHERENCE_POLL_MS", "1000")]);
        let r = resolve(Settings::default(), None, &env).unwrap();
        assert_eq!(r.config.coherence_poll(), std::time::Duration::from_secs(1));
    }

    #[test]
    fn every_setting_is_read_from_the_file() {
        let (_dir, path) = file(
            r#"
bind = "0.0.0.0:9000"
data_dir = "/var/lib/latchkey"
database_url = "postgres://latchkey@db.internal/latchkey"
log_format = "json"
region = "eu-central-1"
max_body_bytes = 1048576
trusted_proxies = ["10.0.0.1", "::1"]
master_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
root_access_key_id = "AKIAPRESETPRESET0001"
root_secret_access_key = "preset/secret"
session_retention_hours = 48
strict_policy_lint = true
audit_authorize = "all"
audit_retention_days = 0
audit_queue_capacity = 100
metrics_require_auth = true
body_timeout_secs = 5
password_hash_concurrency = 2
password_hash_queue = 3
previous_master_key = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
tls_cert = "/etc/latchkey/tls/chain.pem"
tls_key = "/etc/latchkey/tls/key.pem"
tls_reload_secs = 30
wal_checkpoint_bytes = 1048576
rotate_batch_size = 50
rotate_batch_pause_ms = 10
coherence_poll_ms = 100
"#,
        );
        let r = resolve(Settings::default(), Some(path), &HashMap::new()).unwrap();
        for name in Settings::NAMES {
            assert_eq!(r.source(name), Source::File, "{name}");
        }
        let c = &r.config;
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(c.database_url(), "postgres://latchkey@db.internal/latchkey");
        assert_eq!(c.wal_checkpoint_bytes, 1_048_576);
        assert_eq!((c.rotate_batch_size, c.rotate_batch_pause_ms), (50, 10));
        assert_eq!(c.coherence_poll(), std::time::Duration::from_millis(100));
        let tls = c.tls().expect("both TLS files");
        assert_eq!(tls.key, PathBuf::from("/etc/latchkey/tls/key.pem"));
        assert_eq!(
            tls.reload_interval,
            Some(std::time::Duration::from_secs(30))
        );
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/latchkey"));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(
            c.master_key.as_ref().map(Secret::expose).map(str::len),
            Some(64)
        );
        assert_eq!(
            c.root_secret_access_key,
            Some(Secret::from("preset/secret"))
        );
        assert!(c.strict_policy_lint && c.metrics_require_auth);
        assert_eq!(c.audit_authorize, AuditAuthorize::All);
        assert_eq!(c.password_hash_queue, Some(3));
    }

    #[test]
    fn unknown_key_is_refused_by_name() {
        let (_dir, path) = file("bind = \"127.0.0.1:1\"\nmax_body_byte = 10\n");
        let e = resolve(Settings::default(), Some(path.clone()), &HashMap::new()).unwrap_err();
        let message = e.to_string();
        assert!(message.contains("max_body_byte"), "{message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn a_wrongly_typed_value_is_refused() {
        let (_dir, path) = file("max_body_bytes = \"big\"\n");
        let e = resolve(Settings::default(), Some(path), &HashMap::new()).unwrap_err();
        assert!(e.to_string().contains("max_body_bytes"), "{e}");
    }

    #[test]
    fn env_values_parse_like_flags() {
        let env = vars(&[
            ("LATCHKEY_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2"),
            ("LATCHKEY_STRICT_POLICY_LINT", "true"),
            ("LATCHKEY_AUDIT_AUTHORIZE", "all"),
            ("LATCHKEY_REGION", ""),
        ]);
        let r = resolve(Settings::default(), None, &env).unwrap();
        assert_eq!(r.config.trusted_proxies.len(), 2);
        assert!(r.config.strict_policy_lint);
        assert_eq!(r.config.audit_authorize, AuditAuthorize::All);
        // Empty is unset.
        assert_eq!(r.config.region, "us-east-1");
        assert_eq!(r.source("region"), Source::Default);

        let e = resolve(
            Settings::default(),
            None,
            &vars(&[("LATCHKEY_MAX_BODY_BYTES", "lots")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("LATCHKEY_MAX_BODY_BYTES"), "{e}");
    }

    #[test]
    fn a_flag_turns_a_file_boolean_off() {
        let (_dir, path) = file("strict_policy_lint = true\n");
        let r = resolve(
            flags(&["--strict-policy-lint=false"]),
            Some(path.clone()),
            &HashMap::new(),
        )
        .unwrap();
        assert!(!r.config.strict_policy_lint);
        let r = resolve(flags(&["--strict-policy-lint"]), None, &HashMap::new()).unwrap();
        assert!(r.config.strict_policy_lint);
    }

    #[test]
    fn config_env_names_the_file_and_the_flag_overrides_it() {
        let (_dir, a) = file("region = \"from-a\"\n");
        let (_dir2, b) = file("region = \"from-b\"\n");
        let env = vars(&[(CONFIG_ENV, a.to_str().unwrap())]);
        let r = resolve(Settings::default(), None, &env).unwrap();
        assert_eq!(r.config.region, "from-a");
        let r = resolve(Settings::default(), Some(b), &env).unwrap();
        assert_eq!(r.config.region, "from-b");
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_in_a_world_readable_file_is_warned_about() {
        use std::os::unix::fs::PermissionsExt as _;
        let chmod = |path: &Path, mode| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        let (_dir, secret) = file("root_secret_access_key = \"s3cr3t\"\n");
        chmod(&secret, 0o644);
        let r = resolve(Settings::default(), Some(secret.clone()), &HashMap::new()).unwrap();
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(
            r.warnings[0].contains("sets root_secret_access_key"),
            "{:?}",
            r.warnings
        );
        assert!(!r.warnings[0].contains("s3cr3t"));
        assert!(r.render().contains("# WARNING: "));
        chmod(&secret, 0o640);
        let r = resolve(Settings::default(), Some(secret), &HashMap::new()).unwrap();
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);

        let (_dir, plain) = file("region = \"eu-west-1\"\n");
        chmod(&plain, 0o644);
        let r = resolve(Settings::default(), Some(plain.clone()), &HashMap::new()).unwrap();
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        chmod(&plain, 0o666);
        let r = resolve(Settings::default(), Some(plain), &HashMap::new()).unwrap();
        assert!(
            r.warnings[0].contains("writable by every user"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn render_masks_secrets_and_names_sources() {
        let env = vars(&[("LATCHKEY_ROOT_SECRET_ACCESS_KEY", "very/secret/value")]);
        let r = resolve(
            flags(&[
                "--master-key",
                "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            ]),
            None,
            &env,
        )
        .unwrap();
        let text = r.render();
        assert!(!text.contains("very/secret/value"), "{text}");
        assert!(!text.contains("00112233"), "{text}");
        assert!(
            text.contains("master_key = \"********\"  # flag --master-key"),
            "{text}"
        );
        assert!(
            text.contains(
                "root_secret_access_key = \"********\"  # env LATCHKEY_ROOT_SECRET_ACCESS_KEY"
            ),
            "{text}"
        );
        assert!(
            text.contains("bind = \"127.0.0.1:8300\"  # default"),
            "{text}"
        );
        assert!(!format!("{:?}", r.config).contains("very/secret/value"));
        // What `render` prints is itself a valid file.
        let reread: Settings = toml::from_str(&text).unwrap();
        assert_eq!(reread.bind.as_deref(), Some("127.0.0.1:8300"));
    }

    #[test]
    fn the_database_url_is_shown_without_its_password() {
        let env = vars(&[(
            "LATCHKEY_DATABASE_URL",
            "postgres://latchkey:pg-pass-123@db:5432/latchkey",
        )]);
        let r = resolve(flags(&[]), None, &env).unwrap();
        assert_eq!(
            r.config.database_url(),
            "postgres://latchkey:pg-pass-123@db:5432/latchkey"
        );
        let text = r.render();
        assert!(!text.contains("pg-pass-123"), "{text}");
        assert!(
            text.contains(
                "database_url = \"postgres://latchkey:********@db:5432/latchkey\"  # env LATCHKEY_DATABASE_URL"
            ),
            "{text}"
        );
        assert!(!format!("{:?}", r.config).contains("pg-pass-123"));
        // Unset: the SQLite file in the data directory, as before.
        let r = resolve(flags(&["--data-dir", "/srv/lk"]), None, &vars(&[])).unwrap();
        assert_eq!(r.config.database_url(), "sqlite:///srv/lk/latchkey.db");
    }
}
