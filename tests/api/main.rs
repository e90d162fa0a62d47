//! One integration-test binary (each extra binary is another slow link on
//! two cores). Every test starts the real server on 127.0.0.1:0 with a
//! fresh SQLite database in its own temporary directory.

mod helpers;

mod openapi;
mod smoke;
mod sts;
