//! Builds the application from a configuration: the store, the master key,
//! first-start bootstrap, and an HTTP server on an already bound listener,
//! so tests get exactly the production wiring on port 0.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context as _;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::api::body_deadline::BodyDeadline;
use crate::api::extract::{json_error, path_error, query_error, SignedBody};
use crate::auth::key_ring::{KeyRing, KeySource};
use crate::config::Config;
use crate::error::ApiError;
use crate::maintenance;
use crate::state::AppState;
use crate::store::Store;
use crate::telemetry::RequestId;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    /// Held while serving: the offline commands refuse to run under it.
    _data_dir_lock: std::fs::File,
    stop_signals: StopSignals,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        maintenance::create_data_dir(&config.data_dir)?;
        let data_dir_lock = maintenance::lock_data_dir(&config.data_dir, false)?;
        let store = Store::open_url(&config.database_url(), config.wal_checkpoint_bytes).await?;
        let keys = maintenance::KeyArgs {
            master_key: config.master_key.as_ref().map(|k| k.expose().to_string()),
            previous_master_key: config
                .previous_master_key
                .as_ref()
                .map(|k| k.expose().to_string()),
        };
        let master_key = maintenance::resolve_keys(&config.data_dir, &keys, true)?;
        maintenance::verify_master_key(&store, &master_key).await?;
        let source = if keys.master_key.is_none() && keys.previous_master_key.is_none() {
            KeySource::DataDir(config.data_dir.clone())
        } else {
            KeySource::Given
        };
        let state = AppState::new(store, KeyRing::new(master_key, source), config.clone());
        let first_start = state.store.start_guard().await?;
        crate::bootstrap::bootstrap(&state, &config).await?;
        first_start.release().await;
        crate::iam::master_key::resume_at_start(&state).await?;
        // Reads the change counter before the first request (and so loads
        // the action catalog): from here on the poller drops the caches
        // for every write another node makes.
        state.poll_coherence().await.map_err(|e| {
            anyhow::anyhow!("reading the change counter and the action catalog: {e}")
        })?;
        // Drops this node's caches whenever another node's write advanced
        // the change counter.
        crate::state::spawn_coherence_poller(state.clone(), config.coherence_poll());
        let listening = state.clone();
        tokio::spawn(async move {
            listening
                .store
                .follow_change_notifications(|| listening.coherence.wake())
                .await
        });
        crate::sts::purge::spawn_purge_task(
            state.clone(),
            std::time::Duration::from_secs(config.session_retention_hours.saturating_mul(3600)),
        );
        crate::store::wal::spawn_wal_checkpointer(state.store.clone(), config.wal_checkpoint_bytes);
        crate::audit::retention::spawn_retention_task(
            state.store.clone(),
            config.audit_retention_days,
        );

        // Before the listener exists: from the first request served, a
        // SIGTERM drains instead of killing the process.
        let stop_signals = StopSignals::install()?;
        let listener =
            TcpListener::bind(&config.bind).with_context(|| format!("binding {}", config.bind))?;
        let local = listener.local_addr()?;
        let port = local.port();
        let tls = match config.tls() {
            Some(settings) => {
                let (server_config, resolver) = crate::tls::server_config(&settings)?;
                crate::tls::spawn_reload_task(resolver)?;
                Some(server_config)
            }
            None => None,
        };
        if tls.is_none() && !local.ip().is_loopback() {
            // Secrets, session tokens and passwords would cross the network
            // in clear, and AWS SDKs refuse a plain-http credentials URL
            // that is not loopback.
            tracing::warn!(
                address = %local,
                "listening on a non-loopback address without TLS; set --tls-cert and --tls-key"
            );
        }
        let openapi = api::openapi();
        let data = web::Data::new(state.clone());
        let max_body = config.max_body_bytes;
        let body_timeout = config.body_timeout();
        let metrics = state.metrics.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(RequestId)
                .wrap(crate::metrics::Observe(metrics.clone()))
                .wrap(BodyDeadline(body_timeout))
                .app_data(data.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(max_body)
                        .error_handler(json_error),
                )
                .app_data(web::PayloadConfig::new(max_body))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .service(
                    web::scope("/v1")
                        .wrap(SignedBody)
                        .configure(|c| api::configure(&mut ServiceConfig::new(c))),
                )
                .configure(crate::awsquery::configure)
                .service(api::health::healthz)
                .service(api::health::readyz)
                .service(api::metrics::metrics)
                .service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/openapi.json", openapi.clone()))
                .route("/swagger-ui", web::get().to(redirect_to_swagger))
                .default_service(web::to(not_found))
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = match tls {
            Some(server_config) => server.listen_rustls_0_23(listener, server_config)?,
            None => server.listen(listener)?,
        }
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        // actix-web would listen for signals only once the server is first
        // polled, after the workers already serve requests; and it stops
        // at once on SIGINT. `stop_signals` covers both, from the start.
        .disable_signals()
        .run();
        tracing::info!(
            address = %config.bind,
            port,
            scheme,
            data_dir = %config.data_dir.display(),
            database = %crate::store::masked_url(&config.database_url()),
            "latchkey listening"
        );
        Ok(Application {
            port,
            server,
            state,
            _data_dir_lock: data_dir_lock,
            stop_signals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops the server like SIGTERM does, from a test or an embedder.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests (for
    /// up to [`SHUTDOWN_TIMEOUT_SECS`]) and writes the audit events still
    /// queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut signals = self.stop_signals;
        let stopper = tokio::spawn(async move {
            let name = signals.recv().await;
            tracing::info!(signal = name, "stopping: draining requests in flight");
            tokio::select! {
                () = handle.stop(true) => {}
                name = signals.recv() => {
                    tracing::warn!(signal = name, "second stop signal: closing connections now");
                    handle.stop(false).await;
                }
            }
        });
        let served = self.server.await;
        stopper.abort();
        self.state.master_key.stop_rotation();
        self.state.audit.shutdown().await;
        served
    }
}

/// Seconds a graceful stop waits for requests in flight before it closes
/// their connections; a service manager's stop timeout should exceed it.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// SIGTERM and SIGINT (Ctrl-C), both a graceful stop.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
                interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Waits for the first stop signal; returns its name.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

async fn redirect_to_swagger() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header(("Location", "/swagger-ui/"))
        .finish()
}

async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "No route for {} {}",
        req.method(),
        req.path()
    )))
}
