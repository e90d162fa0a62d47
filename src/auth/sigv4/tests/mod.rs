//! Tests against AWS's own artefacts: the signing test suites and the
//! `aws-sigv4` signer as an oracle.

mod corpus;
mod oracle;
mod rules;
