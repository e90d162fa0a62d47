//! The edge of the operations' error: [`ApiError`] becomes an HTTP
//! response here and nowhere else. /v1 answers a JSON body (the
//! `ResponseError` below); the query protocol builds its XML body with the
//! same status, `Retry-After` and logging (`awsquery/mod.rs`).

use actix_web::http::header::RETRY_AFTER;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::error::{ApiError, ErrorBody, ErrorResponse};

/// The /v1 status of an error.
pub fn status(e: &ApiError) -> StatusCode {
    http_status(e.status_code())
}

/// The query protocol's status of an error (see
/// [`ApiError::query_status_code`]).
pub fn query_status(e: &ApiError) -> StatusCode {
    http_status(e.query_status_code())
}

fn http_status(code: u16) -> StatusCode {
    // Every code ApiError gives is a valid status; a mistake there must
    // still answer, as the opaque 500 it would be.
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Starts the response of an error: its status, `Retry-After` when the
/// client should wait, and the cause of an unexpected error logged (the
/// client sees only an opaque message).
pub fn start_response(e: &ApiError, status: StatusCode) -> HttpResponseBuilder {
    if let ApiError::Unexpected(cause) = e {
        tracing::error!(error = format!("{cause:#}"), "request failed");
    }
    let mut response = HttpResponse::build(status);
    if let Some(seconds) = e.retry_after() {
        response.insert_header((RETRY_AFTER, seconds));
    }
    response
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status(self)
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorResponse {
            error: ErrorBody {
                code: self.code().to_string(),
                message: self.to_string(),
                request_id: crate::telemetry::current_request_id(),
            },
        };
        start_response(self, status(self)).json(body)
    }
}
