//! Feeds arbitrary bytes to the policy validator under every policy type.
//! Any panic, overflow or timeout is a bug: validation must only ever answer
//! Ok or a MalformedPolicyDocument message.
#![no_main]

use latchkey::policy::validate::{policy_size, validate};
use latchkey::policy::PolicyType;
use libfuzzer_sys::fuzz_target;

const ALL_TYPES: [PolicyType; 5] = [
    PolicyType::Identity,
    PolicyType::Resource,
    PolicyType::Trust,
    PolicyType::Boundary,
    PolicyType::Session,
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for policy_type in ALL_TYPES {
        if let Err(error) = validate(&text, policy_type) {
            assert!(!error.message().is_empty());
        }
    }
    assert!(policy_size(&text) <= text.chars().count());
});
