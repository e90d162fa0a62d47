//! Who is calling, and how a Principal element names them (§3.3).
//!
//! The *way* a resource policy names the caller matters (§6.3): naming the
//! user or session is a direct grant, naming the role lets the session's
//! boundary and session policies still cap it, naming the account only
//! delegates to the account's own identity policies.

use serde::{Deserialize, Serialize};

use super::document::Principals;

/// What kind of caller this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// The account's root user (`arn:aws:iam::ACCT:root`).
    Root,
    User,
    /// A role session. `role_arn` is the role's ARN with its path, and
    /// `role_unique_id` its AROA id (trust policies pin principals to ids).
    AssumedRole {
        role_arn: String,
        role_unique_id: String,
    },
    /// A GetFederationToken session (`arn:aws:sts::ACCT:federated-user/N`),
    /// issued to the IAM user `user_arn`.
    FederatedUser {
        user_arn: String,
    },
    /// An AWS service acting as itself; `Principal::arn` holds the service
    /// principal name, e.g. `ec2.amazonaws.com`.
    Service,
    /// A SAML/OIDC identity (AssumeRoleWithSAML/WebIdentity); `arn` holds the
    /// provider ARN or well-known host, e.g. `accounts.google.com`.
    Federated,
    Anonymous,
}

/// The caller, for Principal matching and the same-account rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub arn: String,
    /// 12-digit account id; empty for callers outside any account.
    pub account: String,
    /// AIDA… for users, `AROA…:session` for role sessions.
    pub unique_id: String,
    pub kind: PrincipalKind,
}

impl Principal {
    /// Builds a principal from an ARN, guessing unique ids (for simulation).
    /// Returns `None` for text that is not a principal ARN.
    pub fn from_arn(arn: &str) -> Option<Principal> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, partition, service, _, account, resource] = parts.as_slice() else {
            return None;
        };
        let account = (*account).to_string();
        let kind = match (*service, *resource) {
            ("iam", "root") => PrincipalKind::Root,
            ("iam", r) if r.starts_with("user/") => PrincipalKind::User,
            ("sts", r) if r.starts_with("assumed-role/") => {
                let mut it = r["assumed-role/".len()..].splitn(2, '/');
                let role = it.next().filter(|s| !s.is_empty())?;
                it.next().filter(|s| !s.is_empty())?;
                PrincipalKind::AssumedRole {
                    role_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
                    role_unique_id: String::new(),
                }
            }
            ("sts", r) if r.starts_with("federated-user/") => PrincipalKind::FederatedUser {
                user_arn: format!(
                    "arn:{partition}:iam::{account}:user/{}",
                    &r["federated-user/".len()..]
                ),
            },
            _ => return None,
        };
        Some(Principal {
            arn: arn.to_string(),
            account,
            unique_id: String::new(),
            kind,
        })
    }

    /// Callers that live in an account (and so have an identity side).
    pub(crate) fn is_account_member(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::Root
                | PrincipalKind::User
                | PrincipalKind::AssumedRole { .. }
                | PrincipalKind::FederatedUser { .. }
        )
    }
}

/// How a matched Principal entry named the caller. Ordered by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grant {
    /// The account (12 digits or `:root`): delegation only.
    Account,
    /// The role ARN for one of its sessions, or the user ARN for one of its
    /// federated sessions: still capped by boundary and session policies.
    Capped,
    /// The user, the session, `*`, a service or an identity provider.
    Direct,
}

#[derive(Debug, Clone)]
enum Entry {
    Any,
    Account(Box<str>),
    Arn(Box<str>),
    UniqueId(Box<str>),
    Service(Box<str>),
    Federated(Box<str>),
    /// S3 canonical ids never name an IAM caller here.
    CanonicalUser,
}

#[derive(Debug, Clone)]
pub(crate) struct PrincipalMatcher {
    entries: Vec<Entry>,
}

fn account_of_root(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let acct = rest.strip_prefix("iam::")?.strip_suffix(":root")?;
    Some(acct)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl PrincipalMatcher {
    pub(crate) fn compile(p: &Principals) -> PrincipalMatcher {
        let mut entries = Vec::new();
        match p {
            Principals::Wildcard => entries.push(Entry::Any),
            Principals::Map {
                aws,
                service,
                federated,
                canonical_user,
            } => {
                for v in aws.iter().flatten() {
                    entries.push(if v == "*" {
                        Entry::Any
                    } else if is_account_id(v) {
                        Entry::Account(Box::<str>::from(&v[..]))
                    } else if let Some(acct) = account_of_root(v) {
                        Entry::Account(acct.into())
                    } else if v.starts_with("arn:") {
                        Entry::Arn(Box::<str>::from(&v[..]))
                    } else {
                        Entry::UniqueId(Box::<str>::from(&v[..]))
                    });
                }
                for v in service.iter().flatten() {
                    entries.push(Entry::Service(v.to_ascii_lowercase().into()));
                }
                for v in federated.iter().flatten() {
                    entries.push(Entry::Federated(Box::<str>::from(&v[..])));
                }
                if canonical_user.is_some() {
                    entries.push(Entry::CanonicalUser);
                }
            }
        }
        PrincipalMatcher { entries }
    }

    /// The strongest way any entry names the caller.
    pub(crate) fn grant(&self, who: &Principal) -> Option<Grant> {
        self.entries
            .iter()
            .filter_map(|e| entry_grant(e, who))
            .max()
    }
}

fn entry_grant(e: &Entry, who: &Principal) -> Option<Grant> {
    let member = who.is_account_member();
    match e {
        Entry::Any => Some(Grant::Direct),
        Entry::Account(a) => (member && *who.account == **a).then_some(Grant::Account),
        Entry::Arn(a) => {
            if member && *who.arn == **a {
                return Some(Grant::Direct);
            }
            match &who.kind {
                PrincipalKind::AssumedRole { role_arn, .. } if *role_arn == **a => {
                    Some(Grant::Capped)
                }
                PrincipalKind::FederatedUser { user_arn } if *user_arn == **a => {
                    Some(Grant::Capped)
                }
                _ => None,
            }
        }
        Entry::UniqueId(id) => match &who.kind {
            PrincipalKind::User if *who.unique_id == **id => Some(Grant::Direct),
            PrincipalKind::AssumedRole { role_unique_id, .. }
                if !role_unique_id.is_empty() && *role_unique_id == **id =>
            {
                Some(Grant::Capped)
            }
            _ => None,
        },
        Entry::Service(s) => (who.kind == PrincipalKind::Service
            && who.arn.eq_ignore_ascii_case(s))
        .then_some(Grant::Direct),
        Entry::Federated(f) => {
            (who.kind == PrincipalKind::Federated && *who.arn == **f).then_some(Grant::Direct)
        }
        Entry::CanonicalUser => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(aws: &[&str]) -> PrincipalMatcher {
        PrincipalMatcher::compile(&Principals::Map {
            aws: Some(aws.iter().map(|s| s.to_string()).collect()),
            service: None,
            federated: None,
            canonical_user: None,
        })
    }

    fn user() -> Principal {
        Principal {
            arn: "arn:aws:iam::111122223333:user/alice".into(),
            account: "111122223333".into(),
            unique_id: "AIDAALICE".into(),
            kind: PrincipalKind::User,
        }
    }

    fn session() -> Principal {
        Principal {
            arn: "arn:aws:sts::111122223333:assumed-role/R/s1".into(),
            account: "111122223333".into(),
            unique_id: "AROAR:s1".into(),
            kind: PrincipalKind::AssumedRole {
                role_arn: "arn:aws:iam::111122223333:role/path/R".into(),
                role_unique_id: "AROAR".into(),
            },
        }
    }

    #[test]
    fn how_each_form_names_the_caller() {
        assert_eq!(matcher(&["*"]).grant(&user()), Some(Grant::Direct));
        assert_eq!(
            matcher(&["111122223333"]).grant(&user()),
            Some(Grant::Account)
        );
        assert_eq!(
            matcher(&["arn:aws:iam::111122223333:root"]).grant(&user()),
            Some(Grant::Account)
        );
        assert_eq!(matcher(&["999999999999"]).grant(&user()), None);
        assert_eq!(
            matcher(&["arn:aws:iam::111122223333:user/alice"]).grant(&user()),
            Some(Grant::Direct)
        );
        assert_eq!(
            matcher(&["arn:aws:iam::111122223333:user/Alice"]).grant(&user()),
            None,
            "principal ARNs are case-sensitive"
        );
        assert_eq!(matcher(&["AIDAALICE"]).grant(&user()), Some(Grant::Direct));
        assert_eq!(
            matcher(&["arn:aws:iam::111122223333:role/path/R"]).grant(&session()),
            Some(Grant::Capped)
        );
        assert_eq!(matcher(&["AROAR"]).grant(&session()), Some(Grant::Capped));
        assert_eq!(
            matcher(&["arn:aws:sts::111122223333:assumed-role/R/s1"]).grant(&session()),
            Some(Grant::Direct)
        );
        assert_eq!(
            matcher(&[
                "111122223333",
                "arn:aws:sts::111122223333:assumed-role/R/s1"
            ])
            .grant(&session()),
            Some(Grant::Direct),
            "the strongest entry wins"
        );
        // A wildcard inside a principal ARN is not a wildcard.
        assert_eq!(
            matcher(&["arn:aws:iam::111122223333:user/*"]).grant(&user()),
            None
        );
    }

    #[test]
    fn services_and_providers() {
        let ec2 = Principal {
            arn: "ec2.amazonaws.com".into(),
            account: String::new(),
            unique_id: String::new(),
            kind: PrincipalKind::Service,
        };
        let m = PrincipalMatcher::compile(&Principals::Map {
            aws: None,
            service: Some(vec!["ec2.amazonaws.com".into()]),
            federated: None,
            canonical_user: None,
        });
        assert_eq!(m.grant(&ec2), Some(Grant::Direct));
        assert_eq!(m.grant(&user()), None);
        assert_eq!(matcher(&["ec2.amazonaws.com"]).grant(&ec2), None);
    }

    #[test]
    fn from_arn_shapes() {
        let p = Principal::from_arn("arn:aws:sts::1:assumed-role/R/s").unwrap();
        assert!(
            matches!(p.kind, PrincipalKind::AssumedRole { ref role_arn, .. } if role_arn == "arn:aws:iam::1:role/R")
        );
        assert_eq!(
            Principal::from_arn("arn:aws:iam::1:root").unwrap().kind,
            PrincipalKind::Root
        );
        assert!(Principal::from_arn("arn:aws:iam::1:group/g").is_none());
    }
}
