//! latchkey: AWS-style IAM and STS in one binary, kept in SQLite.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod audit;
pub mod auth;
pub mod awsquery;
pub mod bootstrap;
pub mod cli;
pub mod coherence;
pub mod config;
pub mod domain;
pub mod error;
pub mod iam;
pub mod maintenance;
pub mod metrics;
pub mod policy;
pub mod runtime;
pub mod startup;
pub mod state;
pub mod store;
pub mod sts;
pub mod telemetry;
pub mod tls;
