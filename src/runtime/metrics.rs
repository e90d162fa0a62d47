//! Prometheus metrics, served as text at `GET /metrics`: requests by route
//! pattern and status, request latency, `/v1/authorize` decisions,
//! authentication failures by reason, access denials, the audit queue, and
//! at scrape time the active sessions and the database pool.
//!
//! A scrape costs the same at any data size and cannot starve the API
//! (issue 20: at 1M sessions a scrape counted every one, 1.9 s, and eight
//! scrapers pushed the API's p99 to seconds): the active-session count is
//! read from per-minute counts (`Store::count_active_sessions`), and at most
//! one scrape reads the database at a time; the others show what it read
//! if it is younger than [`GAUGE_MAX_AGE`] and no write committed since
//! (so that a scrape after a write sees it).
//!
//! This is the registry only, with no web framework: the middleware that
//! counts requests is `crate::metrics::Observe`, and the scrape, which
//! authorizes, is the operation `iam::read_metrics::scrape`.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// One of the methods of [`method_label`]: a client can send any token
    /// as a method, and each one would otherwise be a new series.
    pub method: &'static str,
    /// The matched route pattern (`/v1/users/{user}`), never the raw path,
    /// so that names do not become label values.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// `allowed`, `explicit_deny` or `implicit_deny`.
    pub decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `unknown_key`, `bad_signature`, `expired`, `revoked`, `missing`, ...
    pub reason: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// How long the database-read gauges (active sessions) are reused.
pub const GAUGE_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(1);

/// The labels of `web_identity_refusals`, each shown from the start: what
/// `sts::web_identity::refusal::Refusal::label` returns. Kept here, below
/// the operations, so that the registry imports nothing above it.
pub const WEB_IDENTITY_REFUSALS: [&str; 13] = [
    "malformed",
    "alg_not_allowed",
    "issuer_unknown",
    "discovery_issuer_mismatch",
    "kid_unknown_after_refresh",
    "signature_invalid",
    "expired",
    "not_yet_valid",
    "aud_mismatch",
    "idp_unreachable",
    "role_unknown",
    "condition_failed",
    "trust_denied",
];

pub struct Metrics {
    registry: Registry,
    /// When a scrape last read the gauges from the database, and the
    /// store's commit count then. Held while a scrape reads them, so that
    /// concurrent scrapes wait and reuse them.
    pub(crate) gauges_read_at: tokio::sync::Mutex<Option<(Instant, u64)>>,
    /// How many scrapes read the database.
    pub scrape_store_reads: Counter,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: LatencyFamily,
    pub decisions: Family<DecisionLabels, Counter>,
    /// The three decision counters of `decisions`, looked up once: counting
    /// a decision is then one atomic add, and all three show from the start.
    decision_counters: [(&'static str, Counter); 3],
    pub auth_failures: Family<ReasonLabels, Counter>,
    pub access_denied: Counter,
    /// AssumeRoleWithWebIdentity refusals by the step that failed.
    pub web_identity_refusals: Family<ReasonLabels, Counter>,
    pub audit_written: Counter,
    pub audit_dropped: Counter,
    pub audit_queue_depth: Gauge,
    pub active_sessions: Gauge,
    pub db_pool_size: Gauge,
    pub db_pool_idle: Gauge,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~1.6 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("latchkey");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let decisions = Family::<DecisionLabels, Counter>::default();
        let auth_failures = Family::<ReasonLabels, Counter>::default();
        let access_denied = Counter::default();
        let web_identity_refusals = Family::<ReasonLabels, Counter>::default();
        for reason in WEB_IDENTITY_REFUSALS {
            let _ = web_identity_refusals.get_or_create(&ReasonLabels { reason });
        }
        registry.register(
            "web_identity_refusals",
            "AssumeRoleWithWebIdentity refusals by failing step",
            web_identity_refusals.clone(),
        );
        let audit_written = Counter::default();
        let audit_dropped = Counter::default();
        let audit_queue_depth = Gauge::default();
        let active_sessions = Gauge::default();
        let db_pool_size = Gauge::default();
        let db_pool_idle = Gauge::default();
        let scrape_store_reads = Counter::default();
        registry.register(
            "metrics_scrape_store_reads",
            "Scrapes of /metrics that read the database (at most one a second)",
            scrape_store_reads.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route pattern and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route pattern",
            latency.clone(),
        );
        registry.register(
            "authorize_decisions",
            "Decisions of /v1/authorize by outcome",
            decisions.clone(),
        );
        registry.register(
            "authentication_failures",
            "Refused credentials by reason",
            auth_failures.clone(),
        );
        registry.register(
            "access_denied",
            "Operations refused with AccessDenied",
            access_denied.clone(),
        );
        registry.register(
            "audit_events_written",
            "Audit events written from the queue",
            audit_written.clone(),
        );
        registry.register(
            "audit_events_dropped",
            "Audit events dropped: queue full or closed, or a failed batch write",
            audit_dropped.clone(),
        );
        registry.register(
            "audit_queue_depth",
            "Audit events waiting to be written",
            audit_queue_depth.clone(),
        );
        registry.register(
            "active_sessions",
            "Temporary credentials neither expired nor revoked",
            active_sessions.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            db_pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            db_pool_idle.clone(),
        );
        let decision_counters = ["allowed", "explicit_deny", "implicit_deny"].map(|decision| {
            (
                decision,
                decisions
                    .get_or_create(&DecisionLabels { decision })
                    .clone(),
            )
        });
        Metrics {
            registry,
            gauges_read_at: tokio::sync::Mutex::new(None),
            scrape_store_reads,
            requests,
            latency,
            decisions,
            decision_counters,
            auth_failures,
            access_denied,
            web_identity_refusals,
            audit_written,
            audit_dropped,
            audit_queue_depth,
            active_sessions,
            db_pool_size,
            db_pool_idle,
        }
    }

    /// Counts one `/v1/authorize` decision.
    pub fn decision(&self, decision: &'static str) {
        match self.decision_counters.iter().find(|(d, _)| *d == decision) {
            Some((_, counter)) => counter.inc(),
            None => self
                .decisions
                .get_or_create(&DecisionLabels { decision })
                .inc(),
        };
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }

    /// Counts a refused credential; the reason is one the code names, never
    /// one taken from the request.
    pub fn auth_failure(&self, reason: &'static str) {
        self.auth_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }
}
