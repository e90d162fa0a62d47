//! The request middleware of the metrics: counts and times every request
//! by route pattern and, for the audit trail, makes the request's user
//! agent and peer address known to the operations (`audit::REQUEST_META`).
//! The registry is `runtime::metrics`.

use std::future::{ready, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};

use crate::audit::{RequestMeta, REQUEST_META};
use crate::runtime::metrics::{Metrics, RequestLabels, RouteLabels};

pub use crate::runtime::metrics::GAUGE_MAX_AGE;

/// The `method` label: the standard methods by name, every other token as
/// `other`, so that the label has a fixed set of values.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or("other")
}

/// Middleware: counts and times every request by route pattern, and sets
/// the request's audit metadata.
pub struct Observe(pub Arc<Metrics>);

impl<S, B> Transform<S, ServiceRequest> for Observe
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = ObserveMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ObserveMiddleware {
            service,
            metrics: self.0.clone(),
        }))
    }
}

pub struct ObserveMiddleware<S> {
    service: S,
    metrics: Arc<Metrics>,
}

type LocalBoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for ObserveMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let meta = RequestMeta {
            user_agent: req
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            peer_ip: req.peer_addr().map(|a| a.ip()),
        };
        let method = method_label(req.method());
        let metrics = self.metrics.clone();
        let fut = self.service.call(req);
        Box::pin(REQUEST_META.scope(meta, async move {
            let res = fut.await?;
            // The pattern is one of the registered routes; a path that
            // matched none counts as `unmatched`, never as itself.
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_string());
            metrics
                .requests
                .get_or_create(&RequestLabels {
                    method,
                    route: route.clone(),
                    status: res.status().as_u16(),
                })
                .inc();
            metrics
                .latency
                .get_or_create(&RouteLabels { route })
                .observe(started.elapsed().as_secs_f64());
            Ok(res)
        }))
    }
}
