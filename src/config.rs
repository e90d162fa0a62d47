//! Settings: command-line flags > `LATCHKEY_*` environment > `--config`
//! file (TOML) > defaults.
//!
//! Every setting is declared once, as one entry of the `settings!` list
//! below. That entry is its flag (`--max-body-bytes`), its environment
//! variable (`LATCHKEY_MAX_BODY_BYTES`), its key in the file
//! (`max_body_bytes`), its default and its field of the resolved [`Config`],
//! so a new setting is one entry and the layers cannot disagree on names.
//! `config::resolve` merges the layers; `Config` is what
//! `Application::build` takes (tests build it from `Config::for_data_dir`).

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::telemetry::LogFormat;
use crate::tls::TlsSettings;

mod resolve;

pub use resolve::{annotate_help, env_var, process_env, resolve, ConfigError, Resolved, Source};

/// Declares the settings. `name: Type = default;` is a setting that always
/// has a value; `name: Type;` one that may be unset (`Option<Type>` in
/// `Config`). Attributes (doc comment, `#[arg(...)]`) go to the flag.
macro_rules! settings {
    ($(
        $(#[$attr:meta])*
        $name:ident: $ty:ty $(= $default:expr)?;
    )*) => {
        /// One layer of settings (the flags, the environment or the file),
        /// holding only what that layer sets.
        #[derive(Debug, Clone, Default, clap::Args, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Settings {
            $( $(#[$attr])* pub $name: Option<$ty>, )*
        }

        /// The resolved configuration: one field per setting.
        #[derive(Debug, Clone)]
        pub struct Config {
            $( pub $name: setting!(@type $ty $(, $default)?), )*
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $( $name: setting!(@default $($default)?), )* }
            }
        }

        impl Settings {
            /// Every setting's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Takes every value `over` sets; returns the names it took.
            pub fn overlay(&mut self, over: Settings) -> Vec<&'static str> {
                let mut taken = Vec::new();
                $(
                    if over.$name.is_some() {
                        self.$name = over.$name;
                        taken.push(stringify!($name));
                    }
                )*
                taken
            }

            /// Fills what no layer set from the defaults.
            pub fn into_config(self) -> Config {
                let defaults = Config::default();
                Config { $( $name: setting!(@value self.$name, defaults.$name $(, $default)?), )* }
            }
        }

        impl Config {
            /// Each setting as a TOML value (`None`: unset), secrets masked.
            pub fn entries(&self) -> Vec<(&'static str, Option<toml::Value>)> {
                vec![$( (stringify!($name), setting!(@show self.$name $(, $default)?)), )*]
            }
        }
    };
}

macro_rules! setting {
    (@type $ty:ty) => { Option<$ty> };
    (@type $ty:ty, $default:expr) => { $ty };
    (@default) => { None };
    (@default $default:expr) => { $default };
    (@value $layer:expr, $fallback:expr) => { $layer };
    (@value $layer:expr, $fallback:expr, $default:expr) => { $layer.unwrap_or($fallback) };
    (@show $value:expr) => { $value.as_ref().map(resolve::shown) };
    (@show $value:expr, $default:expr) => { Some(resolve::shown(&$value)) };
}

settings! {
    /// Address to listen on.
    #[arg(long)]
    bind: String = "127.0.0.1:8300".into();
    /// Directory for the SQLite database, the master key and the root
    /// credentials file.
    #[arg(long)]
    data_dir: PathBuf = PathBuf::from("./data");
    /// The database: `postgres://USER:PASSWORD@HOST:PORT/DB` (or
    /// `postgresql://`) for PostgreSQL; unset, the SQLite file
    /// `latchkey.db` in the data directory (`sqlite://PATH` names another).
    #[arg(long)]
    database_url: DatabaseUrl;
    /// Log format (`RUST_LOG` sets the level).
    #[arg(long, value_enum)]
    log_format: LogFormat = LogFormat::Text;
    /// Region reported in SigV4 scopes and `aws:RequestedRegion`.
    #[arg(long)]
    region: String = "us-east-1".into();
    /// Largest accepted request body, in bytes (413 beyond it).
    #[arg(long)]
    max_body_bytes: usize = 256 * 1024;
    /// Proxies whose X-Forwarded-For is believed (comma-separated IPs; a
    /// list in the file).
    #[arg(long, value_delimiter = ',')]
    trusted_proxies: Vec<IpAddr> = Vec::new();
    /// Hex-encoded 32-byte master key; otherwise `master.key` in the data dir.
    #[arg(long)]
    master_key: Secret;
    /// Hex-encoded previous master key, during a rotation; otherwise
    /// `master.key.previous` when the key comes from the data dir.
    #[arg(long)]
    previous_master_key: Secret;
    /// Presets the management account's root access key id on first start.
    #[arg(long)]
    root_access_key_id: String;
    /// Presets the management account's root secret on first start.
    #[arg(long)]
    root_secret_access_key: Secret;
    /// Hours an expired session is kept (listed nowhere, but in the
    /// database) before the background task deletes it.
    #[arg(long)]
    session_retention_hours: u64 = 24;
    /// Refuse policy writes (managed, inline, trust) whose lint has an ERROR
    /// or SECURITY_WARNING finding, on both front ends; REST callers may
    /// also ask for this per request with `?strict=true`.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    strict_policy_lint: bool = false;
    /// Which /v1/authorize decisions the audit trail keeps.
    #[arg(long, value_enum)]
    audit_authorize: AuditAuthorize = AuditAuthorize::Denies;
    /// Days audit events are kept before the background task deletes them
    /// (0: forever).
    #[arg(long)]
    audit_retention_days: u64 = 90;
    /// Events the audit queue holds before it drops (and counts) them.
    #[arg(long)]
    audit_queue_capacity: usize = 16384;
    /// Require credentials allowed `latchkey:ReadMetrics` for GET /metrics.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    metrics_require_auth: bool = false;
    /// Seconds a request body may take to arrive, counted from the end of
    /// the headers (408 beyond it).
    #[arg(long)]
    body_timeout_secs: u64 = DEFAULT_BODY_TIMEOUT_SECS;
    /// Password hashes computed at once (default: one per core).
    #[arg(long)]
    password_hash_concurrency: usize;
    /// Password hashes that may wait for a turn before further ones are
    /// refused with 503 (default: four per concurrent hash).
    #[arg(long)]
    password_hash_queue: usize;
    /// PEM certificate chain (leaf first) for HTTPS on --bind; with
    /// --tls-key. Reloaded on SIGHUP and when the file changes.
    #[arg(long)]
    tls_cert: PathBuf;
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long)]
    tls_key: PathBuf;
    /// Seconds between checks of the certificate and key files for a change
    /// (0: reload only on SIGHUP).
    #[arg(long)]
    tls_reload_secs: u64 = DEFAULT_TLS_RELOAD_SECS;
    /// Size in bytes past which the SQLite write-ahead log is checkpointed
    /// and truncated; it stays under four times this.
    #[arg(long)]
    wal_checkpoint_bytes: u64 = crate::store::wal::DEFAULT_CHECKPOINT_BYTES;
    /// Secrets an online master-key rotation re-seals per transaction.
    #[arg(long)]
    rotate_batch_size: i64 = 500;
    /// Milliseconds an online master-key rotation waits between batches,
    /// leaving the database to requests.
    #[arg(long)]
    rotate_batch_pause_ms: u64 = 0;
    /// Milliseconds between two looks at the database's change counter
    /// (1 to 1000): how long a write on another node (a deleted key, a
    /// detached policy) may stay unseen by this one's caches.
    #[arg(long)]
    coherence_poll_ms: u64 = DEFAULT_COHERENCE_POLL_MS;
}

/// A change on another node reaches this one's caches within a quarter of
/// a second, for one primary-key read per poll.
pub const DEFAULT_COHERENCE_POLL_MS: u64 = 250;

/// The longest poll period: a revocation anywhere holds everywhere within
/// a second.
pub const MAX_COHERENCE_POLL_MS: u64 = 1000;

/// Often enough that a renewed certificate is served within seconds; a
/// check is two `stat` calls.
pub const DEFAULT_TLS_RELOAD_SECS: u64 = 5;

/// Long enough for the largest body (256 KiB by default) over a slow link,
/// short enough that a stalled client lets go of its connection soon.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 20;

/// `latchkey serve` and `latchkey config check`: the settings given as
/// flags, and where the file is.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
Every setting can also come from the environment (LATCHKEY_ and the flag in \
upper snake case: LATCHKEY_MAX_BODY_BYTES) or from the --config file (the flag \
in snake case: max_body_bytes = 1048576). Flags win over the environment, \
which wins over the file, which wins over the defaults.")]
pub struct ServeArgs {
    /// TOML file of settings, keyed like the flags in snake case
    /// (`data_dir = "/var/lib/latchkey"`); unknown keys are refused.
    /// [env: LATCHKEY_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub settings: Settings,
}

impl ServeArgs {
    /// Merges these flags over `env` (the process's `LATCHKEY_*` variables,
    /// see [`process_env`]), the file and the defaults.
    pub fn resolve(
        self,
        env: &std::collections::HashMap<String, String>,
    ) -> Result<Resolved, ConfigError> {
        resolve(self.settings, self.config, env)
    }
}

/// Which `/v1/authorize` decisions are audited.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AuditAuthorize {
    /// Every decision.
    All,
    /// Only denials (explicit or implicit).
    #[default]
    Denies,
}

/// The database URL. Its `Debug` and `Serialize` mask the password it may
/// hold, so neither a logged `Config` nor `latchkey config check` shows it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for DatabaseUrl {
    fn from(value: String) -> Self {
        DatabaseUrl(value)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(value: &str) -> Self {
        DatabaseUrl(value.to_string())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", crate::store::masked_url(&self.0))
    }
}

impl serde::Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::store::masked_url(&self.0))
    }
}

/// A secret setting. Its `Debug` and `Serialize` print a mask, so neither
/// a logged `Config` nor `latchkey config check` can show it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub const MASK: &'static str = "********";

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", Self::MASK)
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::MASK)
    }
}

impl Config {
    /// Defaults for a data directory, on any free port; what tests start
    /// from.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("latchkey.db")
    }

    /// The database to open: `database_url`, or the SQLite file in the
    /// data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_string(),
            None => format!("sqlite://{}", self.database_path().display()),
        }
    }

    /// HTTPS on `bind`, when both files are set (`resolve` refuses one
    /// without the other).
    pub fn tls(&self) -> Option<TlsSettings> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsSettings {
                cert: cert.clone(),
                key: key.clone(),
                reload_interval: (self.tls_reload_secs > 0)
                    .then(|| Duration::from_secs(self.tls_reload_secs)),
            }),
            _ => None,
        }
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    /// The coherence poll period, within 1 ms to [`MAX_COHERENCE_POLL_MS`]
    /// (`resolve` refuses a value outside; a `Config` built in code is
    /// held to it here).
    pub fn coherence_poll(&self) -> Duration {
        Duration::from_millis(self.coherence_poll_ms.clamp(1, MAX_COHERENCE_POLL_MS))
    }
}
