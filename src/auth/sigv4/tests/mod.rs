//! Tests against AWS's own artefacts: the signing test suites and the
//! `aws-sigv4` signer as an oracle.

mod corpus;
mod oracle;
mod rules;

#[test]
fn the_empty_body_hash_is_sha256_of_nothing() {
    assert_eq!(
        super::EMPTY_BODY_SHA256,
        super::signing::sha256_hex(b"").as_str()
    );
}
