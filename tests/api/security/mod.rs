//! Tenant-proofing (issue 15): each module proves one group of the
//! attacker-found faults fixed, over the real server.

mod bounded_work;
mod config_file;
mod iam_keys;
mod isolation;
mod scale;
mod server_limits;
mod signatures;
