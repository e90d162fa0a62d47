//! The AWS query protocol (form in, XML out) for IAM (2010-05-08) and STS
//! (2011-06-15): `POST /` with a form body, or `GET /?Action=…`. A second
//! thin front end over the same iam/ and sts/ operations as /v1: each action
//! parses its parameters, calls one operation (which authorizes itself) and
//! renders IAM's XML. No rule of IAM lives here.

mod action;
mod iam_absent;
mod iam_access;
mod iam_account;
mod iam_account_details;
mod iam_instance_profiles;
mod iam_mfa;
mod iam_oidc;
mod iam_policies;
mod iam_principals;
mod iam_reports;
mod iam_roles;
mod iam_simulate;
pub mod params;
mod render;
mod sts_actions;
pub mod xml;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::error_response;
use crate::api::extract::{body_error, origin_of, OwnedParts, SignedBody};
use crate::auth::authenticate::authenticate_request;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use action::{Ctx, Handler};
use params::Params;
use xml::Xml;

/// The two services spoken here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Iam,
    Sts,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::Iam, Service::Sts];

    pub fn namespace(self) -> &'static str {
        match self {
            Service::Iam => xml::IAM_NAMESPACE,
            Service::Sts => xml::STS_NAMESPACE,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            Service::Iam => "2010-05-08",
            Service::Sts => "2011-06-15",
        }
    }

    /// The SigV4 signing name, as in a credential scope.
    fn signing_name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }

    /// Every action of the service with its handler.
    fn actions(self) -> impl Iterator<Item = &'static (&'static str, Handler)> {
        let tables: &'static [&'static [(&'static str, Handler)]] = match self {
            Service::Iam => IAM_TABLES,
            Service::Sts => STS_TABLES,
        };
        tables.iter().flat_map(|t| t.iter())
    }

    pub fn handler(self, action: &str) -> Option<Handler> {
        self.actions()
            .find(|(name, _)| *name == action)
            .map(|(_, h)| *h)
    }

    /// Every action this service answers.
    pub fn action_names(self) -> impl Iterator<Item = &'static str> {
        self.actions().map(|(name, _)| *name)
    }
}

const IAM_TABLES: &[&[(&str, Handler)]] = &[
    iam_principals::ACTIONS,
    iam_access::ACTIONS,
    iam_roles::ACTIONS,
    iam_policies::ACTIONS,
    iam_simulate::ACTIONS,
    iam_instance_profiles::ACTIONS,
    iam_account_details::ACTIONS,
    iam_reports::ACTIONS,
    iam_oidc::ACTIONS,
    iam_absent::ACTIONS,
    iam_account::ACTIONS,
    iam_mfa::ACTIONS,
];
const STS_TABLES: &[&[(&str, Handler)]] = &[sts_actions::ACTIONS];

/// Registers `POST /` and `GET /`. SigV4 covers the body, so it is read
/// before authentication ([`SignedBody`]), as on /v1.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .wrap(SignedBody)
            .route(web::post().to(handle))
            .route(web::get().to(handle)),
    );
}

async fn handle(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> HttpResponse {
    let request_id = crate::telemetry::current_request_id();
    let (service, outcome) = serve(&req, &state, body).await;
    let (mut response, text) = match outcome {
        Ok((action, result)) => (
            HttpResponse::Ok(),
            xml::success(service.namespace(), action, &request_id, result.as_ref()),
        ),
        Err(e) => {
            let status = error_response::query_status(&e);
            let text = xml::error(
                service.namespace(),
                !status.is_server_error(),
                e.code(),
                &e.to_string(),
                &request_id,
            );
            (error_response::start_response(&e, status), text)
        }
    };
    response
        .content_type("text/xml")
        .insert_header(("x-amzn-RequestId", request_id))
        .body(text)
}

/// Parses, authenticates and runs one request. The service is known as
/// soon as `Version` is read, so that even errors carry its namespace.
async fn serve(
    req: &HttpRequest,
    state: &AppState,
    body: Result<web::Bytes, actix_web::Error>,
) -> (Service, ApiResult<(&'static str, Option<Xml>)>) {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return (
                Service::Iam,
                Err(body_error(e, state.config.max_body_bytes)),
            )
        }
    };
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/x-www-form-urlencoded"));
    let params = Params::parse(req.query_string(), if is_form { &body } else { &[] });
    let version = params.get("Version");
    let service = Service::ALL
        .into_iter()
        .find(|s| Some(s.version()) == version)
        .unwrap_or(Service::Iam);
    // AssumeRoleWithWebIdentity is the one action taken without a
    // signature: the token is its credential. Only when the router would
    // send the request to exactly that STS action; any other action,
    // signed or not, goes through authentication below.
    if let Ok((Service::Sts, sts_actions::WEB_IDENTITY, _)) = route(req, &params) {
        return (
            Service::Sts,
            sts_actions::assume_role_with_web_identity(state, &params)
                .await
                .map(|x| (sts_actions::WEB_IDENTITY, x)),
        );
    }
    let caller = match authenticate_request(
        state,
        &OwnedParts::of(req).parts(),
        origin_of(req, &state.config.trusted_proxies),
    )
    .await
    {
        Ok(caller) => caller,
        Err(e) => return (service, Err(e)),
    };
    let (service, action, handler) = match route(req, &params) {
        Ok(found) => found,
        Err(e) => return (service, Err(e)),
    };
    let ctx = Ctx {
        state,
        caller: &caller,
        params: &params,
    };
    (service, handler(&ctx).await.map(|result| (action, result)))
}

/// Finds the action: by `Version` when given; otherwise the one service
/// that has it, or, when both do, the service of the credential scope.
fn route(req: &HttpRequest, params: &Params) -> ApiResult<(Service, &'static str, Handler)> {
    let action = params.get("Action").ok_or_else(|| ApiError::BadRequest {
        code: "MissingAction",
        message: "Could not find operation: the request has no Action parameter.".into(),
    })?;
    let version = params.get("Version");
    let candidates: Vec<Service> = match version {
        Some(v) => Service::ALL
            .into_iter()
            .filter(|s| s.version() == v)
            .collect(),
        None => Service::ALL.into_iter().collect(),
    };
    let mut found: Vec<(Service, &'static str, Handler)> = candidates
        .into_iter()
        .filter_map(|s| {
            s.actions()
                .find(|(name, _)| *name == action)
                .map(|(name, h)| (s, *name, *h))
        })
        .collect();
    if found.len() > 1 {
        let scope = scope_service(req, params);
        found.retain(|(s, _, _)| Some(s.signing_name()) == scope.as_deref());
    }
    match found.as_slice() {
        [one] => Ok(*one),
        _ => Err(invalid_action(action, version)),
    }
}

fn invalid_action(action: &str, version: Option<&str>) -> ApiError {
    ApiError::BadRequest {
        code: "InvalidAction",
        message: match version {
            Some(v) => format!("Could not find operation {action} for version {v}"),
            None => format!("Could not find operation {action}"),
        },
    }
}

/// The service named in the SigV4 credential scope
/// (`AKID/date/region/service/aws4_request`), header or presigned.
fn scope_service(req: &HttpRequest, params: &Params) -> Option<String> {
    let from_header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .map(|rest| {
            rest.split([',', ' '])
                .next()
                .unwrap_or_default()
                .to_string()
        });
    let credential = from_header.or_else(|| params.get("X-Amz-Credential").map(String::from))?;
    credential.split('/').nth(3).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_per_service() {
        for service in Service::ALL {
            let mut names: Vec<_> = service.action_names().collect();
            let total = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), total, "{service:?} lists an action twice");
            assert!(!names.contains(&""));
        }
    }
}
