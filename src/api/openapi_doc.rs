//! What every /v1 operation can answer whatever its handler does, added to
//! the collected document in one place: actix's extractors refuse a
//! malformed path parameter, query or body with 400, and a body that is too
//! large or too slow with 413 or 408; a write finds the disk full with 503.
//! Declaring these per handler was forgotten on a dozen operations; here no
//! operation can miss them.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, Ref, RefOr, Response};

/// The error body's schema, as every handler references it.
const ERROR_RESPONSE: &str = "#/components/schemas/ErrorResponse";

fn error_response(description: &str) -> RefOr<Response> {
    let content = utoipa::openapi::content::ContentBuilder::new()
        .schema(Some(Ref::new(ERROR_RESPONSE)))
        .build();
    RefOr::T(
        utoipa::openapi::ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}

fn add_if_missing(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| error_response(description));
}

fn takes_input(operation: &Operation) -> bool {
    operation.request_body.is_some() || operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
}

/// Documents the extractor-level answers on every /v1 operation.
pub(crate) fn document_transport_errors(api: &mut OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
            (&mut item.head, false),
            (&mut item.options, false),
            (&mut item.trace, false),
        ];
        for (operation, writes) in operations {
            let Some(operation) = operation else {
                continue;
            };
            if writes {
                add_if_missing(
                    operation,
                    "503",
                    "ServiceUnavailable: the database refuses writes for now (disk full); retry",
                );
            }
            if takes_input(operation) {
                add_if_missing(
                    operation,
                    "400",
                    "ValidationError: a malformed path parameter, query or body",
                );
            }
            if operation.request_body.is_some() {
                add_if_missing(
                    operation,
                    "413",
                    "PayloadTooLarge: the body is over the configured limit",
                );
                add_if_missing(
                    operation,
                    "408",
                    "RequestTimeout: the body did not arrive within the body deadline",
                );
            }
        }
    }
}
