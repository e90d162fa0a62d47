//! Who is calling: request signatures and, later, other credentials.

pub mod sigv4;
