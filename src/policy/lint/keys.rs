//! What lint knows about condition keys: AWS's global `aws:` keys (§5.1)
//! and the keys of catalog services, with their type and whether they are
//! multivalued (§4.4).

use super::catalog::{Catalog, KeyType};
use super::view::Family;

/// Global keys, lower-cased. Names ending in `/` are tag-style prefixes.
const GLOBAL_KEYS: &[(&str, KeyType)] = &[
    ("aws:calledvia", KeyType::ArrayOfString),
    ("aws:calledviafirst", KeyType::String),
    ("aws:calledvialast", KeyType::String),
    ("aws:currenttime", KeyType::Date),
    ("aws:ec2instancesourceprivateipv4", KeyType::IpAddress),
    ("aws:ec2instancesourcevpc", KeyType::String),
    ("aws:epochtime", KeyType::Date),
    ("aws:federatedprovider", KeyType::String),
    ("aws:multifactorauthage", KeyType::Numeric),
    ("aws:multifactorauthpresent", KeyType::Bool),
    ("aws:principalaccount", KeyType::String),
    ("aws:principalarn", KeyType::Arn),
    ("aws:principalisawsservice", KeyType::Bool),
    ("aws:principalorgid", KeyType::String),
    ("aws:principalorgpaths", KeyType::ArrayOfString),
    ("aws:principalservicename", KeyType::String),
    ("aws:principalservicenameslist", KeyType::ArrayOfString),
    ("aws:principaltag/", KeyType::String),
    ("aws:principaltype", KeyType::String),
    ("aws:referer", KeyType::String),
    ("aws:requestedregion", KeyType::String),
    ("aws:requesttag/", KeyType::String),
    ("aws:resourceaccount", KeyType::String),
    ("aws:resourceorgid", KeyType::String),
    ("aws:resourceorgpaths", KeyType::ArrayOfString),
    ("aws:resourcetag/", KeyType::String),
    ("aws:securetransport", KeyType::Bool),
    ("aws:sourceaccount", KeyType::String),
    ("aws:sourcearn", KeyType::Arn),
    ("aws:sourceidentity", KeyType::String),
    ("aws:sourceip", KeyType::IpAddress),
    ("aws:sourceorgid", KeyType::String),
    ("aws:sourceorgpaths", KeyType::ArrayOfString),
    ("aws:sourcevpc", KeyType::String),
    ("aws:sourcevpcarn", KeyType::Arn),
    ("aws:sourcevpce", KeyType::String),
    ("aws:tagkeys", KeyType::ArrayOfString),
    ("aws:tokenissuetime", KeyType::Date),
    ("aws:useragent", KeyType::String),
    ("aws:userid", KeyType::String),
    ("aws:username", KeyType::String),
    ("aws:viaawsservice", KeyType::Bool),
    ("aws:vpceaccount", KeyType::String),
    ("aws:vpceorgid", KeyType::String),
    ("aws:vpceorgpaths", KeyType::ArrayOfString),
    ("aws:vpcsourceip", KeyType::IpAddress),
    // Deprecated, still evaluated: see DEPRECATED_KEYS.
    ("aws:arn", KeyType::Arn),
];

/// Deprecated global keys and their replacement.
pub(super) const DEPRECATED_KEYS: &[(&str, &str)] = &[("aws:arn", "aws:PrincipalArn")];

/// A known key's type. `None` for keys lint knows nothing about.
pub(super) fn key_type(catalog: &Catalog, key: &str) -> Option<KeyType> {
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("aws:") {
        return GLOBAL_KEYS
            .iter()
            .find(|(name, _)| match name.strip_suffix('/') {
                Some(_) => lower.starts_with(name) && lower.len() > name.len(),
                None => lower == *name,
            })
            .map(|&(_, t)| t);
    }
    catalog.condition_key(key).map(|k| k.key_type)
}

/// Whether lint can call `key` unknown: it belongs to `aws:` or to a
/// catalog service that lists condition keys, and is not among them.
pub(super) fn is_unknown(catalog: &Catalog, key: &str) -> bool {
    let Some((prefix, _)) = key.split_once(':') else {
        return false;
    };
    let judged = prefix.eq_ignore_ascii_case("aws")
        || catalog
            .service(prefix)
            .is_some_and(|s| !s.condition_keys.is_empty());
    judged && key_type(catalog, key).is_none()
}

/// Whether an operator family can compare values of a key type. String
/// operators work on ARN keys too (AWS documents both for
/// `aws:PrincipalArn`); `aws:EpochTime` takes Date and Numeric operators.
pub(super) fn family_fits(family: Family, key_type: KeyType, key: &str) -> bool {
    use KeyType as K;
    match family {
        Family::Null => true,
        Family::String => matches!(
            key_type,
            K::String | K::ArrayOfString | K::Arn | K::ArrayOfArn
        ),
        Family::Arn => matches!(key_type, K::Arn | K::ArrayOfArn),
        Family::Numeric => {
            matches!(key_type, K::Numeric | K::ArrayOfNumeric)
                || key.eq_ignore_ascii_case("aws:EpochTime")
        }
        Family::Date => key_type == K::Date,
        Family::Bool => key_type == K::Bool,
        Family::Ip => key_type == K::IpAddress,
        Family::Binary => key_type == K::Binary,
    }
}

/// The operators a key type takes, for messages.
pub(super) fn operators_for(key_type: KeyType) -> &'static str {
    use KeyType as K;
    match key_type {
        K::String | K::ArrayOfString => "String operators (StringEquals, StringLike...)",
        K::Arn | K::ArrayOfArn => "ARN operators (ArnLike...) or String operators",
        K::Numeric | K::ArrayOfNumeric => "Numeric operators",
        K::Date => "Date operators",
        K::Bool => "Bool",
        K::IpAddress => "IpAddress / NotIpAddress",
        K::Binary => "BinaryEquals",
    }
}
