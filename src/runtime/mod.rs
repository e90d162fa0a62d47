//! The runtime floor: what `AppState` holds and the operations share at
//! run time (the cache generation, the compiled-policy cache, the action
//! catalog, the login throttle, the issued workload credentials, the
//! credential cache, the metrics registry). These modules import only the
//! layers below them (domain, policy, store, config, error, and
//! authentication's leaf types: the caller, SigV4, sealing); the operations
//! that fill and read them (`iam::authorize`, `sts::login`,
//! `sts::workload_credentials`, `iam::read_metrics`) import them downward.

pub mod cache;
pub mod catalog;
pub mod credential_cache;
pub mod issued_credentials;
pub mod login_throttle;
pub mod metrics;
pub mod policy_cache;
pub mod resolved_key;
