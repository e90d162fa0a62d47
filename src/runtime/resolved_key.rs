//! An access key resolved to its secret and caller, as the credential
//! cache keeps it: with the SigV4 signing key last derived from it and, for
//! a session key, what every request is checked against.

use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::caller::Caller;
use crate::auth::crypto::token_digest;
use crate::auth::sigv4::{
    derive_signing_key, verify_with_key, SigV4Error, SignatureClaim, SignedRequest, SigningKey,
};
use crate::domain::SecretAccessKey;

/// An access key resolved to its secret and owner.
pub struct ResolvedKey {
    pub secret: SecretAccessKey,
    /// The caller, with an empty origin; filled per request.
    pub caller: Caller,
    /// The signing key last derived from `secret`, with its scope (date,
    /// region, service). A client signs under one scope all day, so a
    /// cached key's SigV4 check is one HMAC instead of five.
    signing: Mutex<Option<(SigningScope, SigningKey)>>,
    /// Unix second of this key's last recorded use, as this entry saw it:
    /// within the minute, `record_use` needs no lookup at all.
    pub(crate) recorded_at: AtomicI64,
    /// A session key's token digest and expiry, checked on every request.
    pub(crate) session: Option<SessionCheck>,
}

#[derive(PartialEq, Eq)]
struct SigningScope {
    date: String,
    region: String,
    service: String,
}

impl ResolvedKey {
    pub fn new(secret: SecretAccessKey, caller: Caller) -> Self {
        ResolvedKey {
            secret,
            caller,
            signing: Mutex::new(None),
            recorded_at: AtomicI64::new(i64::MIN),
            session: None,
        }
    }

    /// A session key, to be checked against its token and the clock on
    /// every use.
    pub(crate) fn for_session(
        secret: SecretAccessKey,
        caller: Caller,
        check: SessionCheck,
    ) -> Self {
        ResolvedKey {
            session: Some(check),
            ..ResolvedKey::new(secret, caller)
        }
    }

    fn signing_key(&self, claim: &SignatureClaim) -> SigningKey {
        let same = |s: &SigningScope| {
            s.date == claim.date && s.region == claim.region && s.service == claim.service
        };
        // A poisoned lock only means another thread panicked while holding
        // a plain value: deriving again is always correct.
        if let Ok(cached) = self.signing.lock() {
            if let Some((_, key)) = cached.as_ref().filter(|(s, _)| same(s)) {
                return key.clone();
            }
        }
        let key = derive_signing_key(
            self.secret.expose(),
            &claim.date,
            &claim.region,
            &claim.service,
        );
        if let Ok(mut cached) = self.signing.lock() {
            let scope = SigningScope {
                date: claim.date.to_string(),
                region: claim.region.to_string(),
                service: claim.service.to_string(),
            };
            *cached = Some((scope, key.clone()));
        }
        key
    }

    /// Whether this key's last use was recorded in the minute before the
    /// unix second `now` (uses are recorded once a minute).
    pub(crate) fn use_recorded_since(&self, now: i64) -> bool {
        (0..60).contains(&now.saturating_sub(self.recorded_at.load(Ordering::Relaxed)))
    }

    /// Verifies a SigV4 request made with this key.
    pub fn verify(
        &self,
        req: &SignedRequest<'_>,
        claim: &SignatureClaim,
        now: time::OffsetDateTime,
    ) -> Result<(), SigV4Error> {
        verify_with_key(req, claim, &self.signing_key(claim), now)
    }
}

/// What a cached session key is checked against on every request.
pub struct SessionCheck {
    /// Hex SHA-256 of the session's token.
    pub(crate) token_sha256: String,
    pub(crate) expires_at: OffsetDateTime,
    /// Unix second of the last RoleLastUsed write for this session's role,
    /// as this entry saw it: within the minute, no lookup at all.
    pub(crate) role_use_recorded_at: AtomicI64,
}

impl SessionCheck {
    /// The token (already verified against the stored digest) and the
    /// stored expiry; None when the expiry does not parse, and the session
    /// is then not cached.
    pub(crate) fn new(token: &str, expires_at: &str) -> Option<Self> {
        Some(SessionCheck {
            token_sha256: token_digest(token),
            expires_at: OffsetDateTime::parse(expires_at, &Rfc3339).ok()?,
            role_use_recorded_at: AtomicI64::new(i64::MIN),
        })
    }
}
