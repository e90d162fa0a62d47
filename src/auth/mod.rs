//! Who is calling: Basic credentials (and, with the SigV4 module, signed
//! requests), secret encryption and password hashing.

pub mod authenticate;
pub mod basic;
pub mod caller;
pub mod crypto;
pub mod key_ring;
pub mod key_rotation;
pub mod password;
pub mod session_key;
pub mod sigv4;
pub mod totp;

pub use caller::{Caller, CallerKind};
