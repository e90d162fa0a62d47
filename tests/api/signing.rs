//! Signs requests with `aws-sigv4`, AWS's own signer, as the AWS SDKs do.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;

use crate::helpers::Credentials;

/// How to sign.
pub struct Signing<'a> {
    pub creds: &'a Credentials,
    pub session_token: Option<&'a str>,
    pub service: &'a str,
    pub region: &'a str,
    pub time: SystemTime,
    pub presigned: bool,
}

impl<'a> Signing<'a> {
    pub fn now(creds: &'a Credentials) -> Self {
        Signing {
            creds,
            session_token: None,
            service: "iam",
            region: "us-east-1",
            time: SystemTime::now(),
            presigned: false,
        }
    }
}

/// A signed request: the URL (with query auth when presigned) and the
/// headers to send.
pub struct Signed {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// Signs `method url` with `headers` and `body`. `url` must be absolute and
/// its host:port is what the server sees as `host`.
pub fn sign_request(
    signing: &Signing<'_>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Signed {
    let identity = AwsCredentials::new(
        &signing.creds.access_key_id,
        &signing.creds.secret_access_key,
        signing.session_token.map(str::to_string),
        None,
        "tests",
    )
    .into();
    let mut settings = SigningSettings::default();
    if signing.presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(signing.region)
        .name(signing.service)
        .time(signing.time)
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let host = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("absolute url")
        .to_string();
    let mut all: Vec<(String, String)> = vec![("host".into(), host)];
    all.extend(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    let signable = SignableRequest::new(
        method,
        url,
        all.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _signature) = sign(signable, &params).expect("sign").into_parts();
    let mut url = url.to_string();
    for (i, (name, value)) in instructions.params().iter().enumerate() {
        let sep = if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        };
        url.push(sep);
        url.push_str(&urlencode(name));
        url.push('=');
        url.push_str(&urlencode(value));
    }
    all.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string())),
    );
    // reqwest sets Host itself.
    all.retain(|(n, _)| !n.eq_ignore_ascii_case("host"));
    Signed { url, headers: all }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends a signed request with reqwest.
pub async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    signed: &Signed,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = client.request(method, &signed.url);
    for (n, v) in &signed.headers {
        req = req.header(n, v);
    }
    req.body(body).send().await.expect("request")
}
