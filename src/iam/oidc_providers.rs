//! OpenID Connect identity providers (issue 17), with AWS's API and
//! limits: at most 100 per account, 100 client ids, 5 thumbprints of 40
//! hex digits, 50 tags. A provider is named by its ARN
//! (`arn:aws:iam::ACCT:oidc-provider/HOST/PATH`) or, on /v1, by its URL.
//!
//! latchkey's additions: where the keys come from (discovery, an explicit
//! `jwks_uri`, or a static JWKS for an issuer the server cannot reach), a
//! CA bundle for a private issuer's TLS, and the extra claims exposed as
//! condition keys. Thumbprints are kept as AWS keeps them (Terraform sets
//! them); the CA bundle is what pins a private issuer here.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{all_of, authorize_found, authorize_with, ActionContext};
use crate::audit::{audited, AuditEvent};
use crate::auth::Caller;
use crate::domain::oidc::{normalize_url, provider_arn, KeySource, OidcProvider};
use crate::domain::tags::{validate_tags, MAX_TAGS};
use crate::domain::{now, Tag};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const MAX_PER_ACCOUNT: i64 = 100;
pub const MAX_CLIENT_IDS: usize = 100;
pub const MAX_THUMBPRINTS: usize = 5;
pub const MAX_EXTRA_CLAIMS: usize = 20;
/// Static JWKS and CA bundles are stored in the row: bounded.
pub const MAX_DOCUMENT_CHARS: usize = 64 * 1024;

/// What creating a provider takes (both front ends).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProvider {
    /// The issuer, `https://HOST[/PATH]`, exactly as tokens carry it in
    /// `iss` (a trailing slash is ignored).
    #[schema(example = "https://token.actions.githubusercontent.com")]
    pub url: String,
    /// Audiences accepted (`aud`, or `azp`), up to 100.
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// SHA-1 thumbprints (40 hex digits), up to 5; optional, as in AWS.
    #[serde(default)]
    pub thumbprints: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// `discovery` (default), `jwks_uri` or `static`.
    pub key_source: Option<KeySource>,
    /// The JWKS URL (https) when `key_source` is `jwks_uri`.
    pub jwks_uri: Option<String>,
    /// The JWKS document (JSON text) when `key_source` is `static`.
    pub jwks: Option<String>,
    /// PEM certificates trusted, besides the system's, for the issuer's TLS.
    pub ca_bundle_pem: Option<String>,
    /// Claims exposed as `HOST/PATH:CLAIM` condition keys, besides aud,
    /// sub, amr, oaud and email.
    #[serde(default)]
    pub extra_claims: Vec<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::InvalidInput(message.into())
}

fn no_such(arn: &str) -> ApiError {
    ApiError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

fn check_client_id(id: &str) -> ApiResult<()> {
    if id.is_empty() || id.chars().count() > 255 {
        return Err(crate::sts::model_error(
            id,
            "clientIDList.member",
            "Member must have length between 1 and 255",
        ));
    }
    Ok(())
}

fn check_thumbprints(list: &[String]) -> ApiResult<()> {
    if list.len() > MAX_THUMBPRINTS {
        return Err(ApiError::LimitExceeded(format!(
            "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}"
        )));
    }
    for t in list {
        if t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(crate::sts::model_error(
                t,
                "thumbprintList.member",
                "Member must have length 40 and be hexadecimal",
            ));
        }
    }
    Ok(())
}

fn check_extra_claims(claims: &[String]) -> ApiResult<()> {
    if claims.len() > MAX_EXTRA_CLAIMS {
        return Err(invalid(format!(
            "At most {MAX_EXTRA_CLAIMS} extra claims can be exposed."
        )));
    }
    for c in claims {
        let ok = (1..=128).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b));
        if !ok {
            return Err(invalid(format!(
                "The extra claim {c:?} is not a claim name (1 to 128 of A-Z a-z 0-9 _ - . : /)."
            )));
        }
    }
    Ok(())
}

fn dedup(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// The URL a reference names: an oidc-provider ARN of the caller's account
/// or, on /v1, the issuer URL (with or without `https://`).
fn url_of(caller: &Caller, reference: &str) -> ApiResult<String> {
    if let Some(rest) = reference.strip_prefix("arn:aws:iam::") {
        let (account, url) = rest
            .split_once(":oidc-provider/")
            .ok_or_else(|| invalid(format!("{reference} is not an OpenIDConnect provider ARN.")))?;
        if account != caller.account_id {
            return Err(no_such(reference));
        }
        return normalize_url(&format!("https://{url}")).ok_or_else(|| no_such(reference));
    }
    let with_scheme = if reference.starts_with("https://") {
        reference.to_string()
    } else {
        format!("https://{reference}")
    };
    normalize_url(&with_scheme)
        .ok_or_else(|| invalid(format!("{reference} is not a provider URL.")))
}

/// Finds a provider and authorizes `cx.action` on it (with its tags as
/// resource tags); 403 before 404, as IAM decides.
async fn find_authorized(
    state: &AppState,
    caller: &Caller,
    reference: &str,
    cx: ActionContext<'_>,
) -> ApiResult<OidcProvider> {
    let url = url_of(caller, reference)?;
    let arn = provider_arn(&caller.account_id, &url);
    let found = state
        .store
        .get_oidc_provider(&caller.account_id, &url)
        .await?
        .ok_or_else(|| no_such(&arn));
    authorize_found(
        state,
        caller,
        cx,
        found,
        |p, cx| {
            cx.target(&p.id, None);
            p.arn()
        },
        || arn.clone(),
    )
    .await
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    req: CreateProvider,
) -> ApiResult<(OidcProvider, Vec<Tag>)> {
    let url = normalize_url(&req.url).ok_or_else(|| {
        invalid("The provider URL must be https://HOST[/PATH], without query or fragment.")
    })?;
    if url.len() > 255 {
        return Err(invalid("The provider URL is longer than 255 characters."));
    }
    if req.client_ids.len() > MAX_CLIENT_IDS {
        return Err(ApiError::LimitExceeded(format!(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )));
    }
    req.client_ids.iter().try_for_each(|c| check_client_id(c))?;
    check_thumbprints(&req.thumbprints)?;
    validate_tags(&req.tags).map_err(ApiError::ValidationError)?;
    check_extra_claims(&req.extra_claims)?;
    let source = req.key_source.unwrap_or(if req.jwks.is_some() {
        KeySource::Static
    } else if req.jwks_uri.is_some() {
        KeySource::JwksUri
    } else {
        KeySource::Discovery
    });
    match source {
        KeySource::Discovery if req.jwks_uri.is_some() || req.jwks.is_some() => {
            return Err(invalid(
                "key_source discovery takes neither jwks_uri nor jwks.",
            ))
        }
        KeySource::JwksUri => {
            let uri = req.jwks_uri.as_deref().unwrap_or_default();
            if !uri.starts_with("https://") || uri.len() > 2048 {
                return Err(invalid("key_source jwks_uri needs an https jwks_uri."));
            }
        }
        KeySource::Static => {
            let text = req.jwks.as_deref().unwrap_or_default();
            if text.len() > MAX_DOCUMENT_CHARS {
                return Err(invalid("The JWKS is larger than 64 KiB."));
            }
            crate::sts::web_identity::jwt::parse_jwks(text.as_bytes())
                .map_err(|e| invalid(format!("key_source static needs a JWKS: {e}.")))?;
        }
        _ => {}
    }
    if let Some(pem) = &req.ca_bundle_pem {
        if pem.len() > MAX_DOCUMENT_CHARS {
            return Err(invalid("The CA bundle is larger than 64 KiB."));
        }
        crate::sts::web_identity::keys::check_ca_bundle(pem).map_err(invalid)?;
    }
    let arn = provider_arn(&caller.account_id, &url);
    let cx = ActionContext::new("iam:CreateOpenIDConnectProvider").request_tags(&req.tags);
    authorize_with(state, caller, &arn, cx).await?;
    if state.store.count_oidc_providers(&caller.account_id).await? >= MAX_PER_ACCOUNT {
        return Err(ApiError::LimitExceeded(format!(
            "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PER_ACCOUNT}"
        )));
    }
    let to_json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let provider = OidcProvider {
        id: format!("oidc-{}", uuid::Uuid::new_v4().simple()),
        account_id: caller.account_id.clone(),
        url,
        client_ids: to_json(&dedup(&req.client_ids)),
        thumbprints: to_json(&dedup(&req.thumbprints)),
        key_source: source.as_str().to_string(),
        jwks_uri: req
            .jwks_uri
            .clone()
            .filter(|_| source == KeySource::JwksUri),
        jwks_json: req.jwks.clone().filter(|_| source == KeySource::Static),
        ca_bundle_pem: req.ca_bundle_pem.clone(),
        extra_claims: to_json(&dedup(&req.extra_claims)),
        created_at: now(),
    };
    let event = AuditEvent::by(caller, "iam:CreateOpenIDConnectProvider", arn).params(json!({
        "url": provider.url,
        "client_ids": provider.client_id_list(),
        "thumbprints": provider.thumbprint_list(),
        "key_source": provider.key_source,
        "jwks_uri": provider.jwks_uri,
        "ca_bundle": provider.ca_bundle_pem.is_some(),
        "extra_claims": provider.extra_claim_list(),
        "tags": req.tags,
    }));
    audited(state, event, async |tx| {
        tx.insert_oidc_provider(&provider).await?;
        tx.replace_tags_in(&provider.id, &req.tags).await
    })
    .await?;
    let tags = state.store.list_tags(&provider.id).await?;
    Ok((provider, tags))
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    reference: &str,
) -> ApiResult<(OidcProvider, Vec<Tag>)> {
    let p = find_authorized(
        state,
        caller,
        reference,
        ActionContext::new("iam:GetOpenIDConnectProvider"),
    )
    .await?;
    let tags = state.store.list_tags(&p.id).await?;
    Ok((p, tags))
}

pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<OidcProvider>> {
    super::authorize(
        state,
        caller,
        "iam:ListOpenIDConnectProviders",
        &all_of(caller, "oidc-provider"),
    )
    .await?;
    Ok(state.store.list_oidc_providers(&caller.account_id).await?)
}

pub async fn delete(state: &AppState, caller: &Caller, reference: &str) -> ApiResult<()> {
    let p = find_authorized(
        state,
        caller,
        reference,
        ActionContext::new("iam:DeleteOpenIDConnectProvider"),
    )
    .await?;
    let arn = p.arn();
    let event = AuditEvent::by(caller, "iam:DeleteOpenIDConnectProvider", arn.clone());
    audited(state, event, async |tx| {
        match tx.delete_oidc_provider(&p.id).await? {
            true => Ok(()),
            false => Err(no_such(&arn)),
        }
    })
    .await?;
    tracing::info!(provider = %arn, by = %caller.arn, "OIDC provider deleted");
    Ok(())
}

/// What a list edit does.
enum Edit<'a> {
    AddClientId(&'a str),
    RemoveClientId(&'a str),
    SetThumbprints(&'a [String]),
}

async fn edit(state: &AppState, caller: &Caller, reference: &str, edit: Edit<'_>) -> ApiResult<()> {
    let action = match edit {
        Edit::AddClientId(_) => "iam:AddClientIDToOpenIDConnectProvider",
        Edit::RemoveClientId(_) => "iam:RemoveClientIDFromOpenIDConnectProvider",
        Edit::SetThumbprints(_) => "iam:UpdateOpenIDConnectProviderThumbprint",
    };
    match edit {
        Edit::AddClientId(id) | Edit::RemoveClientId(id) => check_client_id(id)?,
        Edit::SetThumbprints(list) => check_thumbprints(list)?,
    }
    let p = find_authorized(state, caller, reference, ActionContext::new(action)).await?;
    let mut clients = p.client_id_list();
    let mut thumbprints = p.thumbprint_list();
    let params = match edit {
        Edit::AddClientId(id) => {
            // Adding a listed id changes nothing, as in AWS.
            if !clients.iter().any(|c| c == id) {
                if clients.len() >= MAX_CLIENT_IDS {
                    return Err(ApiError::LimitExceeded(format!(
                        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
                    )));
                }
                clients.push(id.to_string());
            }
            json!({ "client_id": id })
        }
        // Removing an id that is not listed is not an error either.
        Edit::RemoveClientId(id) => {
            clients.retain(|c| c != id);
            json!({ "client_id": id })
        }
        Edit::SetThumbprints(list) => {
            thumbprints = dedup(list);
            json!({ "thumbprints": thumbprints })
        }
    };
    let to_json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let (new_clients, new_thumbprints) = (to_json(&clients), to_json(&thumbprints));
    let event = AuditEvent::by(caller, action, p.arn()).params(params);
    audited(state, event, async |tx| {
        match tx
            .update_oidc_provider_lists(
                &p.id,
                &p.client_ids,
                &new_clients,
                &p.thumbprints,
                &new_thumbprints,
            )
            .await?
        {
            true => Ok(()),
            false => Err(ApiError::conflict(
                "ConcurrentModification",
                "The provider changed during the request; try again.",
            )),
        }
    })
    .await
}

pub async fn add_client_id(state: &AppState, caller: &Caller, r: &str, id: &str) -> ApiResult<()> {
    edit(state, caller, r, Edit::AddClientId(id)).await
}

pub async fn remove_client_id(
    state: &AppState,
    caller: &Caller,
    r: &str,
    id: &str,
) -> ApiResult<()> {
    edit(state, caller, r, Edit::RemoveClientId(id)).await
}

pub async fn update_thumbprints(
    state: &AppState,
    caller: &Caller,
    r: &str,
    list: &[String],
) -> ApiResult<()> {
    edit(state, caller, r, Edit::SetThumbprints(list)).await
}

pub async fn tag(state: &AppState, caller: &Caller, r: &str, tags: &[Tag]) -> ApiResult<()> {
    let action = "iam:TagOpenIDConnectProvider";
    let cx = ActionContext::new(action).request_tags(tags);
    let p = find_authorized(state, caller, r, cx).await?;
    validate_tags(tags).map_err(ApiError::ValidationError)?;
    let event = AuditEvent::by(caller, action, p.arn()).params(json!({ "tags": tags }));
    audited(state, event, async |tx| {
        if tx.tag_entity(&p.id, tags, MAX_TAGS).await? {
            Ok(())
        } else {
            Err(ApiError::LimitExceeded(format!(
                "The number of tags has reached the maximum limit of {MAX_TAGS}."
            )))
        }
    })
    .await
}

pub async fn untag(state: &AppState, caller: &Caller, r: &str, keys: &[String]) -> ApiResult<()> {
    let action = "iam:UntagOpenIDConnectProvider";
    let cx = ActionContext::new(action).removed_tag_keys(keys);
    let p = find_authorized(state, caller, r, cx).await?;
    let event = AuditEvent::by(caller, action, p.arn()).params(json!({ "tag_keys": keys }));
    audited(state, event, async |tx| tx.untag_entity(&p.id, keys).await).await
}

pub async fn list_tags(state: &AppState, caller: &Caller, r: &str) -> ApiResult<Vec<Tag>> {
    let cx = ActionContext::new("iam:ListOpenIDConnectProviderTags");
    let p = find_authorized(state, caller, r, cx).await?;
    Ok(state.store.list_tags(&p.id).await?)
}
