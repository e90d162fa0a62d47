//! HTTPS on the one listener: rustls (ring), TLS 1.2 and 1.3 only, ALPN h2
//! and http/1.1 (actix adds both), and a certificate that is reloaded
//! without a restart so that short-lived certificates (ACME, an internal
//! CA) can be rotated under a running server.
//!
//! The resolver hands every new handshake the certificate loaded last;
//! a background task reloads it on SIGHUP and when the files' modification
//! time or length changes. A reload that fails keeps serving the previous
//! certificate and logs why; the process never starts without one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

/// Where the PEM certificate chain (leaf first) and private key live, and
/// how often their files are checked for a change (`None`: only on SIGHUP).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub reload_interval: Option<Duration>,
}

/// What identifies one version of the files: a rewrite in place changes
/// the modification time, a rename over them usually the length too.
type Stamp = Option<(SystemTime, u64, SystemTime, u64)>;

/// The certificate served to new connections, replaceable at run time.
#[derive(Debug)]
pub struct ReloadingCert {
    settings: TlsSettings,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    stamp: Mutex<Stamp>,
}

impl ReloadingCert {
    /// Loads the certificate once; a bad file at start is an error.
    pub fn load(settings: TlsSettings, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let stamp = stamp_of(&settings.cert, &settings.key);
        let certified = load_certified(&settings.cert, &settings.key, &provider)?;
        Ok(ReloadingCert {
            settings,
            provider,
            current: RwLock::new(Arc::new(certified)),
            stamp: Mutex::new(stamp),
        })
    }

    /// Reloads when the files changed since the last attempt (or always,
    /// when `force`). Each version of the files is tried once, so a broken
    /// file logs one error rather than one per poll.
    pub fn reload(&self, force: bool) {
        let stamp = stamp_of(&self.settings.cert, &self.settings.key);
        {
            let mut last = self.stamp.lock().unwrap_or_else(|e| e.into_inner());
            if !force && *last == stamp {
                return;
            }
            *last = stamp;
        }
        match load_certified(&self.settings.cert, &self.settings.key, &self.provider) {
            Ok(certified) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(certified);
                tracing::info!(cert = %self.settings.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => tracing::error!(
                cert = %self.settings.cert.display(),
                key = %self.settings.key.display(),
                error = format!("{e:#}"),
                "TLS certificate reload failed; still serving the previous certificate"
            ),
        }
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

fn stamp_of(cert: &Path, key: &Path) -> Stamp {
    let c = std::fs::metadata(cert).ok()?;
    let k = std::fs::metadata(key).ok()?;
    Some((c.modified().ok()?, c.len(), k.modified().ok()?, k.len()))
}

fn load_certified(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing the certificates in {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("no PEM certificate in {}", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading a PEM private key from {}", key.display()))?;
    // from_der also checks that the key belongs to the leaf certificate,
    // which catches a certificate renewed before its key was written.
    CertifiedKey::from_der(chain, key_der, provider)
        .with_context(|| format!("{} does not fit {}", key.display(), cert.display()))
}

/// The server configuration for the listener and the reloadable
/// certificate behind it (for the reload task).
pub fn server_config(settings: &TlsSettings) -> anyhow::Result<(ServerConfig, Arc<ReloadingCert>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let resolver = Arc::new(ReloadingCert::load(settings.clone(), provider.clone())?);
    // Spelled out although rustls has nothing older: never TLS 1.0/1.1.
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
    Ok((config, resolver))
}

/// Reloads on SIGHUP and, with an interval, when the files change. The
/// SIGHUP handler is installed before this returns, so a SIGHUP sent once
/// the server is up never falls back to the default action (terminate).
pub fn spawn_reload_task(resolver: Arc<ReloadingCert>) -> anyhow::Result<()> {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("installing the SIGHUP handler")?;
    let interval = resolver.settings.reload_interval;
    tokio::spawn(async move {
        let mut ticks = interval.map(tokio::time::interval);
        loop {
            let tick = async {
                match ticks.as_mut() {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(unix)]
            let force = tokio::select! {
                _ = tick => false,
                Some(()) = hangup.recv() => true,
            };
            #[cfg(not(unix))]
            let force = {
                tick.await;
                false
            };
            let resolver = resolver.clone();
            // File reads and parsing stay off the worker threads.
            let _ = tokio::task::spawn_blocking(move || resolver.reload(force)).await;
        }
    });
    Ok(())
}
