//! Request extractors: the authenticated caller, and the error mapping of
//! actix's own JSON, path and query errors into the one error type.

use std::future::{ready, Future, Ready};
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::header::{AUTHORIZATION, HOST};
use actix_web::web::Bytes;
use actix_web::{web, FromRequest, HttpMessage as _, HttpRequest};
use futures_util::future::Either;

use crate::api::body_deadline::timed_out;
use crate::auth::authenticate::{authenticate_request, cached_basic_caller, Origin, RequestParts};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::policy::validate::{DUPLICATE_KEY, SYNTAX_ERROR};
use crate::state::AppState;

/// The client's address: the peer, or, when the peer is a configured
/// trusted proxy, the client that [`forwarded_client`] finds in
/// X-Forwarded-For. Likewise TLS: the server's own listener, or
/// X-Forwarded-Proto from a trusted proxy, read at the client's hop (see
/// [`forwarded_client`]), so a client cannot make itself
/// `aws:SecureTransport` by sending the header.
/// (actix's `connection_info()` believes forwarding headers from anyone,
/// and formats the peer address into a string on every request.)
pub fn origin_of(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Origin {
    let peer = req.peer_addr().map(|a| a.ip());
    let via_proxy = peer.filter(|p| trusted_proxies.contains(p));
    // Several header lines are one list, in order (RFC 7230 §3.2.2).
    let list = |name: &str| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect()
    };
    let forwarded =
        via_proxy.map(|peer| forwarded_client(peer, &list("x-forwarded-for"), trusted_proxies));
    let forwarded_tls = forwarded.is_some_and(|client| {
        let protos = list("x-forwarded-proto");
        protos
            .len()
            .checked_sub(client.from_right + 1)
            .and_then(|i| protos.get(i))
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    });
    Origin {
        source_ip: forwarded.map(|c| c.address).or(peer),
        secure_transport: req.app_config().secure() || forwarded_tls,
    }
}

/// The client that trusted proxies forwarded a request for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardedClient {
    pub address: IpAddr,
    /// Its entry's place in X-Forwarded-For counted from the right (0: the
    /// last entry, or no entry). A proxy that appends to X-Forwarded-For
    /// appends to X-Forwarded-Proto too, so the protocol the client used is
    /// the entry at the same place there; anything further left was
    /// written by the client.
    pub from_right: usize,
}

/// The client behind trusted proxies, from the X-Forwarded-For `hops` of a
/// request whose peer is the trusted proxy `peer`. Proxies append the
/// address they received from, so only the right end of the list is
/// written by proxies we trust; whatever the client sent comes first.
/// Walking from the right, trusted proxies are skipped and the first
/// untrusted hop is the client (every hop trusted: the leftmost). An entry
/// that is not an address stops the walk: nothing to its left can be
/// believed, so the client is the last address walked (the peer, when the
/// garbage is the last entry).
pub fn forwarded_client(
    peer: IpAddr,
    hops: &[&str],
    trusted_proxies: &[IpAddr],
) -> ForwardedClient {
    let mut client = ForwardedClient {
        address: peer,
        from_right: 0,
    };
    for (from_right, hop) in hops.iter().rev().enumerate() {
        let Some(address) = hop_address(hop.trim()) else {
            break;
        };
        client = ForwardedClient {
            address,
            from_right,
        };
        if !trusted_proxies.contains(&address) {
            break;
        }
    }
    client
}

/// One X-Forwarded-For entry: an address, perhaps with a port
/// (`198.51.100.7:4711`, `[2001:db8::1]:443`), as some proxies write it.
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
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
        let mut headers: Vec<(String, String)> = req
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
        // HTTP/2 (ALPN h2 over TLS) has no Host header: clients sign
        // `host` with the `:authority` pseudo-header's value, which actix
        // keeps in the URI.
        if raw_body.is_some() && req.headers().get(HOST).is_none() {
            if let Some(authority) = req.uri().authority() {
                headers.push(("host".to_string(), authority.as_str().to_string()));
            }
        }
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
        serde_json::from_str(text).map_err(|e| body_error_of(&e))
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

/// A JSON body that did not deserialize. A policy document field that
/// repeats a key (see `strict_document`) is answered as the same document
/// sent as a string is: `MalformedPolicyDocument`.
fn body_error_of(e: &serde_json::Error) -> ApiError {
    let text = e.to_string();
    if e.is_data() && text.starts_with(DUPLICATE_KEY) {
        ApiError::MalformedPolicyDocument(SYNTAX_ERROR.into())
    } else {
        ApiError::ValidationError(format!("Invalid request body: {text}"))
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
        JsonPayloadError::Deserialize(e) => body_error_of(&e).into(),
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

#[cfg(test)]
mod tests {
    use super::forwarded_client;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// The client `forwarded_client` finds behind peer 10.0.0.1, with
    /// 10.0.0.1 and 10.0.0.2 trusted.
    fn client(hops: &[&str]) -> IpAddr {
        forwarded_client(ip("10.0.0.1"), hops, &[ip("10.0.0.1"), ip("10.0.0.2")]).address
    }

    #[test]
    fn the_client_entry_is_counted_from_the_right() {
        let at = |hops: &[&str]| {
            forwarded_client(ip("10.0.0.1"), hops, &[ip("10.0.0.1"), ip("10.0.0.2")]).from_right
        };
        assert_eq!(at(&[]), 0);
        assert_eq!(at(&["198.51.100.7"]), 0);
        assert_eq!(at(&["198.51.100.7", "10.0.0.2"]), 1);
        assert_eq!(at(&["10.0.0.2", "10.0.0.2"]), 1);
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        assert_eq!(client(&["198.51.100.7"]), ip("198.51.100.7"));
        // A client-written first hop is skipped over: the proxy appended
        // the real address after it.
        assert_eq!(client(&["198.51.100.7", "203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            client(&["198.51.100.7", " 203.0.113.9", " 10.0.0.2"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn every_hop_trusted_gives_the_leftmost() {
        assert_eq!(client(&["10.0.0.2", "10.0.0.1"]), ip("10.0.0.2"));
        assert_eq!(client(&[]), ip("10.0.0.1"));
    }

    #[test]
    fn garbage_stops_the_walk() {
        assert_eq!(client(&["unknown"]), ip("10.0.0.1"));
        assert_eq!(client(&["198.51.100.7", "not-an-ip"]), ip("10.0.0.1"));
        assert_eq!(
            client(&["198.51.100.7", "", "10.0.0.2"]),
            ip("10.0.0.2"),
            "an empty entry is not an address"
        );
        assert_eq!(client(&["junk", "203.0.113.9"]), ip("203.0.113.9"));
    }

    #[test]
    fn ports_and_ipv6_are_read() {
        assert_eq!(client(&["198.51.100.7:4711"]), ip("198.51.100.7"));
        assert_eq!(client(&["[2001:db8::1]:443"]), ip("2001:db8::1"));
        assert_eq!(client(&["2001:db8::1"]), ip("2001:db8::1"));
    }
}
