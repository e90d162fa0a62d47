//! Settings: command-line flags > `LATCHKEY_*` environment > defaults.
//! clap resolves the first two; this is the resolved configuration that
//! `Application::build` takes (tests build it directly).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::telemetry::LogFormat;
use crate::tls::TlsSettings;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_BIND", default_value = "127.0.0.1:8300")]
    pub bind: String,
    /// Directory for the SQLite database, the master key and the root
    /// credentials file.
    #[arg(long, env = "LATCHKEY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Log format.
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Region reported in SigV4 scopes and `aws:RequestedRegion`.
    #[arg(long, env = "LATCHKEY_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Largest accepted request body, in bytes (413 beyond it).
    #[arg(long, env = "LATCHKEY_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// Proxies whose X-Forwarded-For is believed (comma-separated IPs).
    #[arg(long, env = "LATCHKEY_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// Hex-encoded 32-byte master key; otherwise `master.key` in the data dir.
    #[arg(long, env = "LATCHKEY_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Hex-encoded previous master key, during a rotation; otherwise
    /// `master.key.previous` when the key comes from the data dir.
    #[arg(long, env = "LATCHKEY_PREVIOUS_MASTER_KEY", hide_env_values = true)]
    pub previous_master_key: Option<String>,
    /// Presets the management account's root access key id on first start.
    #[arg(long, env = "LATCHKEY_ROOT_ACCESS_KEY_ID")]
    pub root_access_key_id: Option<String>,
    /// Presets the management account's root secret on first start.
    #[arg(long, env = "LATCHKEY_ROOT_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub root_secret_access_key: Option<String>,
    /// Hours an expired session is kept (listed nowhere, but in the
    /// database) before the background task deletes it.
    #[arg(long, env = "LATCHKEY_SESSION_RETENTION_HOURS", default_value_t = 24)]
    pub session_retention_hours: u64,
    /// Refuse policy writes (managed, inline, trust) whose lint has an ERROR
    /// or SECURITY_WARNING finding, on both front ends; REST callers may
    /// also ask for this per request with `?strict=true`.
    #[arg(long, env = "LATCHKEY_STRICT_POLICY_LINT", default_value_t = false)]
    pub strict_policy_lint: bool,
    /// Which /v1/authorize decisions the audit trail keeps.
    #[arg(
        long,
        env = "LATCHKEY_AUDIT_AUTHORIZE",
        value_enum,
        default_value = "denies"
    )]
    pub audit_authorize: AuditAuthorize,
    /// Days audit events are kept before the background task deletes them
    /// (0: forever).
    #[arg(long, env = "LATCHKEY_AUDIT_RETENTION_DAYS", default_value_t = 90)]
    pub audit_retention_days: u64,
    /// Events the audit queue holds before it drops (and counts) them.
    #[arg(long, env = "LATCHKEY_AUDIT_QUEUE_CAPACITY", default_value_t = 16384)]
    pub audit_queue_capacity: usize,
    /// Require credentials allowed `latchkey:ReadMetrics` for GET /metrics.
    #[arg(long, env = "LATCHKEY_METRICS_REQUIRE_AUTH", default_value_t = false)]
    pub metrics_require_auth: bool,
    /// Seconds a request body may take to arrive, counted from the end of
    /// the headers (408 beyond it).
    #[arg(long, env = "LATCHKEY_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_TIMEOUT_SECS)]
    pub body_timeout_secs: u64,
    /// Password hashes computed at once (default: one per core).
    #[arg(long, env = "LATCHKEY_PASSWORD_HASH_CONCURRENCY")]
    pub password_hash_concurrency: Option<usize>,
    /// Password hashes that may wait for a turn before further ones are
    /// refused with 503 (default: four per concurrent hash).
    #[arg(long, env = "LATCHKEY_PASSWORD_HASH_QUEUE")]
    pub password_hash_queue: Option<usize>,
    /// PEM certificate chain (leaf first) for HTTPS on --bind; with
    /// --tls-key. Reloaded on SIGHUP and when the file changes.
    #[arg(long, env = "LATCHKEY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "LATCHKEY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Seconds between checks of the certificate and key files for a change
    /// (0: reload only on SIGHUP).
    #[arg(long, env = "LATCHKEY_TLS_RELOAD_SECS", default_value_t = DEFAULT_TLS_RELOAD_SECS)]
    pub tls_reload_secs: u64,
    /// Size in bytes past which the SQLite write-ahead log is checkpointed
    /// and truncated; it stays under four times this.
    #[arg(long, env = "LATCHKEY_WAL_CHECKPOINT_BYTES", default_value_t = crate::store::wal::DEFAULT_CHECKPOINT_BYTES)]
    pub wal_checkpoint_bytes: u64,
}

/// Often enough that a renewed certificate is served within seconds; a
/// check is two `stat` calls.
pub const DEFAULT_TLS_RELOAD_SECS: u64 = 5;

/// Long enough for the largest body (256 KiB by default) over a slow link,
/// short enough that a stalled client lets go of its connection soon.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 20;

/// Which `/v1/authorize` decisions are audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuditAuthorize {
    /// Every decision.
    All,
    /// Only denials (explicit or implicit).
    #[default]
    Denies,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub region: String,
    pub max_body_bytes: usize,
    pub trusted_proxies: Vec<IpAddr>,
    pub master_key_hex: Option<String>,
    pub previous_master_key_hex: Option<String>,
    pub root_access_key_id: Option<String>,
    pub root_secret_access_key: Option<String>,
    pub session_retention_hours: u64,
    pub strict_policy_lint: bool,
    pub audit_authorize: AuditAuthorize,
    pub audit_retention_days: u64,
    pub audit_queue_capacity: usize,
    pub metrics_require_auth: bool,
    pub body_timeout: Duration,
    pub password_hash_concurrency: Option<usize>,
    pub password_hash_queue: Option<usize>,
    /// HTTPS instead of plain HTTP on `bind`.
    pub tls: Option<TlsSettings>,
    pub wal_checkpoint_bytes: u64,
}

impl From<ServeArgs> for Config {
    fn from(a: ServeArgs) -> Self {
        Config {
            bind: a.bind,
            data_dir: a.data_dir,
            log_format: a.log_format,
            region: a.region,
            max_body_bytes: a.max_body_bytes,
            trusted_proxies: a.trusted_proxies,
            master_key_hex: a.master_key,
            previous_master_key_hex: a.previous_master_key,
            root_access_key_id: a.root_access_key_id,
            root_secret_access_key: a.root_secret_access_key,
            session_retention_hours: a.session_retention_hours,
            strict_policy_lint: a.strict_policy_lint,
            audit_authorize: a.audit_authorize,
            audit_retention_days: a.audit_retention_days,
            audit_queue_capacity: a.audit_queue_capacity,
            metrics_require_auth: a.metrics_require_auth,
            body_timeout: Duration::from_secs(a.body_timeout_secs),
            password_hash_concurrency: a.password_hash_concurrency,
            password_hash_queue: a.password_hash_queue,
            // clap's `requires` makes these come in pairs.
            tls: match (a.tls_cert, a.tls_key) {
                (Some(cert), Some(key)) => Some(TlsSettings {
                    cert,
                    key,
                    reload_interval: (a.tls_reload_secs > 0)
                        .then(|| Duration::from_secs(a.tls_reload_secs)),
                }),
                _ => None,
            },
            wal_checkpoint_bytes: a.wal_checkpoint_bytes,
        }
    }
}

impl Config {
    /// Defaults for a data directory; what tests start from.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            bind: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            log_format: LogFormat::Text,
            region: "us-east-1".into(),
            max_body_bytes: 256 * 1024,
            trusted_proxies: Vec::new(),
            master_key_hex: None,
            previous_master_key_hex: None,
            root_access_key_id: None,
            root_secret_access_key: None,
            session_retention_hours: 24,
            strict_policy_lint: false,
            audit_authorize: AuditAuthorize::Denies,
            audit_retention_days: 90,
            audit_queue_capacity: 16384,
            metrics_require_auth: false,
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
            password_hash_concurrency: None,
            password_hash_queue: None,
            tls: None,
            wal_checkpoint_bytes: crate::store::wal::DEFAULT_CHECKPOINT_BYTES,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("latchkey.db")
    }
}
