//! Parsed ARNs (AWS-IAM-NOTES §1.1).

use std::fmt;
use std::str::FromStr;

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. The resource part keeps
/// any further colons.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl Arn {
    /// An IAM ARN such as `arn:aws:iam::123456789012:user/path/name`.
    /// `path` is `/` or `/a/b/`.
    pub fn iam(account: &str, kind: &str, path: &str, name: &str) -> Self {
        Arn {
            partition: "aws".into(),
            service: "iam".into(),
            region: String::new(),
            account: account.into(),
            resource: format!("{kind}{path}{name}"),
        }
    }

    pub fn root(account: &str) -> Self {
        Arn {
            partition: "aws".into(),
            service: "iam".into(),
            region: String::new(),
            account: account.into(),
            resource: "root".into(),
        }
    }

    /// The resource type: the resource part up to the first `/`.
    pub fn resource_type(&self) -> &str {
        self.resource.split('/').next().unwrap_or("")
    }

    /// The last `/`-separated segment of the resource part: an entity's name.
    pub fn resource_name(&self) -> &str {
        self.resource.rsplit('/').next().unwrap_or("")
    }

    /// For `user/a/b/name`: the path `/a/b/`.
    pub fn resource_path(&self) -> String {
        let parts: Vec<&str> = self.resource.split('/').collect();
        if parts.len() <= 2 {
            "/".to_string()
        } else {
            format!("/{}/", parts[1..parts.len() - 1].join("/"))
        }
    }
}

impl FromStr for Arn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(6, ':');
        let mut next = || parts.next();
        match (next(), next(), next(), next(), next(), next()) {
            (
                Some("arn"),
                Some(partition),
                Some(service),
                Some(region),
                Some(account),
                Some(resource),
            ) if !partition.is_empty() && !service.is_empty() && !resource.is_empty() => Ok(Arn {
                partition: partition.into(),
                service: service.into(),
                region: region.into(),
                account: account.into(),
                resource: resource.into(),
            }),
            _ => Err(format!("ARN {s} is not valid.")),
        }
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_parts() {
        let arn: Arn = "arn:aws:iam::123456789012:user/div/team/Jane"
            .parse()
            .unwrap();
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource_type(), "user");
        assert_eq!(arn.resource_name(), "Jane");
        assert_eq!(arn.resource_path(), "/div/team/");
        assert_eq!(
            arn.to_string(),
            "arn:aws:iam::123456789012:user/div/team/Jane"
        );
        let s3: Arn = "arn:aws:s3:::bucket/a:b".parse().unwrap();
        assert_eq!(s3.resource, "bucket/a:b");
        assert!("arn:aws:iam::123".parse::<Arn>().is_err());
        assert!("not-an-arn".parse::<Arn>().is_err());
        assert_eq!(Arn::iam("1", "role", "/", "R").resource_path(), "/");
    }
}
