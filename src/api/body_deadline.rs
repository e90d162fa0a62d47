//! A deadline for the whole request body, on both front ends. actix times
//! out the request head (`client_request_timeout`) but not the body: a
//! client that sends its headers and then a byte every few seconds would
//! hold its connection, and the handler waiting for the body, forever.

use std::future::{ready, Future as _, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::HttpMessage as _;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::error::ApiError;

/// Middleware: the body of every request must have arrived within the
/// given time from when its head was read; after that, reading it fails
/// with [`BodyTimedOut`], which the extractors answer with 408.
pub struct BodyDeadline(pub Duration);

impl<S, B> Transform<S, ServiceRequest> for BodyDeadline
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = BodyDeadlineMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BodyDeadlineMiddleware {
            service,
            limit: self.0,
        }))
    }
}

pub struct BodyDeadlineMiddleware<S> {
    service: S,
    limit: Duration,
}

impl<S, B> Service<ServiceRequest> for BodyDeadlineMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let payload = req.take_payload();
        if !matches!(payload, Payload::None) {
            let timed: actix_http::BoxedPayloadStream = Box::pin(Deadlined {
                inner: payload,
                deadline: Instant::now() + self.limit,
                timer: None,
                limit: self.limit,
            });
            req.set_payload(Payload::from(timed));
        } else {
            req.set_payload(payload);
        }
        // When the deadline fires the body is left unread, and actix
        // closes the connection after the 408 (`Connection: close`).
        self.service.call(req)
    }
}

/// The payload, failing once the deadline has passed while it waits for
/// more bytes. The timer is only armed when the body is not already all
/// there, which for most requests it is.
struct Deadlined {
    inner: Payload,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    limit: Duration,
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                BodyTimedOut(this.limit),
            ))))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The payload error of a body that missed its deadline.
#[derive(Debug, thiserror::Error)]
#[error("The request body did not arrive within {} seconds.", .0.as_secs_f64())]
pub struct BodyTimedOut(Duration);

/// The 408 of a body that missed its deadline, if that is what `e` is.
pub fn timed_out(e: &PayloadError) -> Option<ApiError> {
    match e {
        PayloadError::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<BodyTimedOut>())
            .map(|t| ApiError::RequestTimeout(t.to_string())),
        _ => None,
    }
}
