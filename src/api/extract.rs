//! Request extractors: the authenticated caller, and the error mapping of
//! actix's own JSON, path and query errors into the one error type.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::authenticate::{authenticate, Origin};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The client's address: the peer, or the first X-Forwarded-For hop when
/// the peer is a configured trusted proxy.
pub fn origin_of(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Origin {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = peer
        .filter(|p| trusted_proxies.contains(p))
        .and_then(|_| req.headers().get("x-forwarded-for"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok());
    Origin {
        source_ip: forwarded.or(peer),
        secure_transport: req.connection_info().scheme() == "https",
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let authorization = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let security_token = req
            .headers()
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let origin = state
            .as_ref()
            .map(|s| origin_of(req, &s.config.trusted_proxies))
            .unwrap_or_default();
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ApiError::Unexpected(anyhow::anyhow!("application state missing"))
            })?;
            authenticate(
                &state,
                authorization.as_deref(),
                security_token.as_deref(),
                origin,
            )
            .await
        })
    }
}

pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge(limit).into()
        }
        JsonPayloadError::ContentType => ApiError::ValidationError(
            "The request body must be JSON (Content-Type: application/json).".into(),
        )
        .into(),
        other => ApiError::ValidationError(format!("Invalid request body: {other}")).into(),
    }
}

pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::ValidationError(format!("Invalid path: {err}")).into()
}

pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::ValidationError(format!("Invalid query string: {err}")).into()
}
