//! Request extractors: the authenticated caller, and the error mapping of
//! actix's own JSON, path and query errors into the one error type.

use std::future::{ready, Future, Ready};
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::header::AUTHORIZATION;
use actix_web::web::Bytes;
use actix_web::{web, FromRequest, HttpMessage as _, HttpRequest};
use futures_util::future::Either;

use crate::api::body_deadline::timed_out;
use crate::auth::authenticate::{authenticate_request, cached_basic_caller, Origin, RequestParts};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The client's address: the peer, or the first X-Forwarded-For hop when
/// the peer is a configured trusted proxy. Likewise TLS: the server's own
/// listener, or `X-Forwarded-Proto: https` from a trusted proxy only, so a
/// client cannot make itself `aws:SecureTransport` by sending the header.
/// (actix's `connection_info()` believes forwarding headers from anyone,
/// and formats the peer address into a string on every request.)
pub fn origin_of(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Origin {
    let peer = req.peer_addr().map(|a| a.ip());
    let via_proxy = peer.is_some_and(|p| trusted_proxies.contains(&p));
    let first_hop = |name: &str| {
        via_proxy
            .then(|| req.headers().get(name))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let forwarded = first_hop("x-forwarded-for").and_then(|first| first.parse::<IpAddr>().ok());
    let forwarded_tls =
        first_hop("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
    Origin {
        source_ip: forwarded.or(peer),
        secure_transport: req.app_config().secure() || forwarded_tls,
    }
}

/// The application state, borrowed from the request.
pub fn app_state(req: &HttpRequest) -> Result<&AppState, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .map(|data| data.get_ref())
        .ok_or_else(missing_state)
}

fn missing_state() -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("application state missing"))
}

/// The body of a SigV4-signed request, read once by [`SignedBody`] so that
/// authentication can hash it and the handler can still parse it.
#[derive(Clone)]
pub struct RawBody(pub Bytes);

/// An owned copy of what authentication reads, so it can outlive the
/// borrowed request inside the extractor's future.
pub struct OwnedParts {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl OwnedParts {
    pub fn of(req: &HttpRequest) -> Self {
        // SignedBody kept the body of every SigV4 request; those need every
        // header for the canonical request. Basic needs only two.
        let raw_body = req.extensions().get::<RawBody>().map(|b| b.0.clone());
        let headers = req
            .headers()
            .iter()
            .filter(|(n, _)| {
                raw_body.is_some() || *n == AUTHORIZATION || n.as_str() == "x-amz-security-token"
            })
            .filter_map(|(n, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (n.as_str().to_string(), v.to_string()))
            })
            .collect();
        OwnedParts {
            method: req.method().as_str().to_string(),
            path: req.uri().path().to_string(),
            query: req.uri().query().unwrap_or("").to_string(),
            headers,
            body: raw_body.unwrap_or_default(),
        }
    }

    pub fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body: &self.body,
        }
    }
}

const SECURITY_TOKEN: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("x-amz-security-token");

/// A future that is either ready at once or boxed: the common case of an
/// extractor or middleware costs no allocation.
type ReadyOrBoxed<R, B> = Either<R, Pin<Box<dyn Future<Output = B>>>>;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = ReadyOrBoxed<Ready<Result<Caller, ApiError>>, Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Borrowed: the fast path needs no clone of the shared state (whose
        // count every request on every worker thread would bump).
        let state = req.app_data::<web::Data<AppState>>();
        let origin = state
            .map(|s| origin_of(req, &s.config.trusted_proxies))
            .unwrap_or_default();
        // The common case needs no I/O and no copy of the request: Basic
        // credentials of a key in memory. Anything else, failures
        // included, takes the full path below, which answers and audits it.
        // A query that may carry a presigned SigV4 (even percent-encoded)
        // or a session token goes there too: those decide the caller.
        let query = req.query_string();
        let plain = !query.contains('%')
            && !query.contains("X-Amz-")
            && !req.headers().contains_key(SECURITY_TOKEN);
        let basic = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .filter(|_| plain);
        if let (Some(state), Some(authorization)) = (state, basic) {
            if let Some(caller) = cached_basic_caller(state, authorization, &origin) {
                return Either::Left(ready(Ok(caller)));
            }
        }
        let state = state.cloned();
        let owned = OwnedParts::of(req);
        Either::Right(Box::pin(async move {
            let state = state.ok_or_else(missing_state)?;
            authenticate_request(&state, &owned.parts(), origin).await
        }))
    }
}

/// Middleware: for SigV4-signed requests, reads the body (within the
/// configured limit), keeps a copy for authentication and puts it back for
/// the handler. Other requests stream untouched.
pub struct SignedBody;

impl<S, B> Transform<S, ServiceRequest> for SignedBody
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = SignedBodyMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SignedBodyMiddleware {
            service: Rc::new(service),
        }))
    }
}

pub struct SignedBodyMiddleware<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for SignedBodyMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = ReadyOrBoxed<S::Future, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let signed = RequestParts::is_sigv4(
            req.headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
            req.query_string(),
        );
        if !signed {
            return Either::Left(self.service.call(req));
        }
        let service = self.service.clone();
        Either::Right(Box::pin(async move {
            let limit = body_limit(req.request());
            let body = req
                .extract::<Bytes>()
                .await
                .map_err(|e| body_error(e, limit))?;
            req.extensions_mut().insert(RawBody(body.clone()));
            req.set_payload(bytes_payload(body));
            service.call(req).await
        }))
    }
}

/// The configured body size limit (`PayloadConfig` enforces it).
fn body_limit(req: &HttpRequest) -> usize {
    req.app_data::<web::Data<AppState>>()
        .map(|s| s.config.max_body_bytes)
        .unwrap_or(0)
}

/// A body that could not be read: too large, too slow, or broken off.
pub fn body_error(e: actix_web::Error, limit: usize) -> ApiError {
    if let Some(timeout) = e.as_error::<PayloadError>().and_then(timed_out) {
        return timeout;
    }
    if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(limit)
    } else {
        ApiError::ValidationError(format!("Cannot read the request body: {e}"))
    }
}

fn bytes_payload(body: Bytes) -> Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    Payload::from(payload)
}

/// A JSON body kept as bytes, for request types that borrow their strings
/// from it (`serde(borrow)`) instead of allocating each one: the hot
/// decision endpoints. Same checks and errors as `web::Json`: the content
/// type, and the configured size limit.
pub struct JsonBytes(Bytes);

impl JsonBytes {
    pub fn parse<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, ApiError> {
        let invalid = |e: &dyn std::fmt::Display| {
            ApiError::ValidationError(format!("Invalid request body: {e}"))
        };
        // One UTF-8 check of the whole body (ASCII runs a word at a time)
        // instead of serde_json checking each borrowed string on its own.
        let text = std::str::from_utf8(&self.0).map_err(|e| invalid(&e))?;
        serde_json::from_str(text).map_err(|e| invalid(&e))
    }
}

impl FromRequest for JsonBytes {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<JsonBytes, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .is_some_and(|m| {
                m.eq_ignore_ascii_case("application/json")
                    || (m.len() > 5 && m[m.len() - 5..].eq_ignore_ascii_case("+json"))
            });
        let limit = body_limit(req);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::ValidationError(
                    "The request body must be JSON (Content-Type: application/json).".into(),
                ));
            }
            body.await.map(JsonBytes).map_err(|e| body_error(e, limit))
        })
    }
}

/// A body read whole, for handlers whose body is optional; its read
/// errors are answered as [`body_error`] says.
pub struct BodyBytes(pub Bytes);

impl FromRequest for BodyBytes {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<BodyBytes, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = body_limit(req);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move { body.await.map(BodyBytes).map_err(|e| body_error(e, limit)) })
    }
}

pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    if let Some(timeout) = match &err {
        JsonPayloadError::Payload(e) => timed_out(e),
        _ => None,
    } {
        return timeout.into();
    }
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
