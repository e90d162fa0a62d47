//! OpenID Connect identity providers as the store keeps them (issue 17).
//! AWS identifies a provider by its issuer URL without the scheme; the ARN
//! ends with it and the condition keys of its tokens start with it.

use serde::Serialize;
use utoipa::ToSchema;

/// Where a provider's signing keys come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// `https://URL/.well-known/openid-configuration`, then its `jwks_uri`.
    Discovery,
    /// The JWKS at an explicit `jwks_uri` (no discovery document).
    JwksUri,
    /// A JWKS uploaded with the provider; nothing is ever fetched.
    Static,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Discovery => "discovery",
            KeySource::JwksUri => "jwks_uri",
            KeySource::Static => "static",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "discovery" => Some(KeySource::Discovery),
            "jwks_uri" => Some(KeySource::JwksUri),
            "static" => Some(KeySource::Static),
            _ => None,
        }
    }
}

/// One provider row. The list columns are JSON arrays of strings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OidcProvider {
    pub id: String,
    pub account_id: String,
    /// Host and path, no scheme, no trailing slash.
    pub url: String,
    pub client_ids: String,
    pub thumbprints: String,
    pub key_source: String,
    pub jwks_uri: Option<String>,
    pub jwks_json: Option<String>,
    pub ca_bundle_pem: Option<String>,
    pub extra_claims: String,
    pub created_at: String,
}

fn list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl OidcProvider {
    /// `arn:aws:iam::ACCT:oidc-provider/HOST/PATH`.
    pub fn arn(&self) -> String {
        provider_arn(&self.account_id, &self.url)
    }

    pub fn client_id_list(&self) -> Vec<String> {
        list(&self.client_ids)
    }

    pub fn thumbprint_list(&self) -> Vec<String> {
        list(&self.thumbprints)
    }

    pub fn extra_claim_list(&self) -> Vec<String> {
        list(&self.extra_claims)
    }

    pub fn source(&self) -> KeySource {
        KeySource::parse(&self.key_source).unwrap_or(KeySource::Discovery)
    }

    /// The issuer as tokens carry it in `iss`.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.url)
    }
}

pub fn provider_arn(account_id: &str, url: &str) -> String {
    format!("arn:aws:iam::{account_id}:oidc-provider/{url}")
}

/// The provider URL as AWS keeps it: scheme dropped (only https is
/// accepted), no trailing slash, host lower-cased. None when it is not an
/// https URL with a host, or has a query, fragment or user info.
pub fn normalize_url(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| {
        url.get(..8)
            .filter(|p| p.eq_ignore_ascii_case("https://"))
            .map(|_| &url[8..])
    })?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains(['?', '#', '@', ' ']) || rest.contains("//") {
        return None;
    }
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !host_ok {
        return None;
    }
    let host = host.to_ascii_lowercase();
    Some(match path {
        Some(p) => format!("{host}/{p}"),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_host_and_path_without_scheme_or_trailing_slash() {
        assert_eq!(
            normalize_url("https://token.actions.githubusercontent.com").as_deref(),
            Some("token.actions.githubusercontent.com")
        );
        assert_eq!(
            normalize_url("https://GitLab.example.com/group/").as_deref(),
            Some("gitlab.example.com/group")
        );
        assert_eq!(
            normalize_url("https://127.0.0.1:8443/").as_deref(),
            Some("127.0.0.1:8443")
        );
        assert_eq!(normalize_url("http://example.com"), None);
        assert_eq!(normalize_url("https://"), None);
        assert_eq!(normalize_url("https://a.example?x=1"), None);
        assert_eq!(normalize_url("https://u@a.example"), None);
    }
}
