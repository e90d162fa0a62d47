//! One integration-test binary (each extra binary is another slow link on
//! two cores). Every test starts the real server on 127.0.0.1:0 with a
//! fresh SQLite database in its own temporary directory, or, with
//! `LATCHKEY_TEST_DATABASE_URL` set (`scripts/with-postgres.sh`), a fresh
//! database of its own on that PostgreSQL cluster.

mod helpers;
mod signing;

mod access_analysis;
mod access_keys;
mod accounts;
mod audit;
mod authorize;
mod authz;
mod awsquery;
mod backends;
mod backup;
mod coherence;
mod conflicts;
mod disk_full;
mod durability;
mod evaluate;
mod groups;
mod lint_cli;
mod lint_writes;
mod master_key;
mod metrics;
mod mfa;
mod multinode;
mod oidc;
mod openapi;
mod policies;
mod principal_policies;
mod roles;
mod secrets;
mod security;
mod services;
mod sigv4;
mod smoke;
mod source_ip;
mod store_copy;
mod sts;
mod tls;
mod users;
mod workloads;
