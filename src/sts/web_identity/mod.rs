//! AssumeRoleWithWebIdentity (issue 17): OIDC tokens of CI systems and
//! clusters exchanged for role sessions. `jwt` holds the pure checks,
//! `keys` the only outbound traffic (the providers' keys), `context` what
//! a token tells the trust policy, `assume` the operation and the trust
//! test.

pub mod assume;
pub mod context;
pub mod jwt;
pub mod keys;
pub mod refusal;

pub use assume::{
    assume_role_with_web_identity, trust_test, TrustTestRequest, TrustTestResponse,
    WebIdentityRequest, WebIdentityResponse,
};
pub use keys::KeyCache;
