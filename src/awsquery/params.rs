//! The parameters of a query-protocol request: form pairs from the query
//! string and the body, with the protocol's flattening (`Name.member.N`
//! for lists, `Name.member.N.Field` for lists of structures).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::domain::Tag;
use crate::error::{ApiError, ApiResult};
use crate::store::ListParams;

#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    /// Pairs of the query string, then of the form body; a name given in
    /// both takes the body's value.
    pub fn parse(query: &str, form_body: &[u8]) -> Self {
        let values = form_urlencoded::parse(query.as_bytes())
            .chain(form_urlencoded::parse(form_body))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params { values }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> ApiResult<&str> {
        self.get(name).ok_or_else(|| missing(name))
    }

    pub fn int(&self, name: &str) -> ApiResult<Option<i64>> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| invalid(name, v, "Member must be an integer"))
            })
            .transpose()
    }

    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        self.get(name)
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(invalid(name, v, "Member must be true or false")),
            })
            .transpose()
    }

    /// `Name.member.1`, `Name.member.2`, … in order. An empty list is sent
    /// as a bare `Name=`, which gives no members.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: BTreeMap<u32, &str> = BTreeMap::new();
        for (key, value) in &self.values {
            if let Some(n) = key.strip_prefix(&prefix).and_then(|n| n.parse().ok()) {
                items.insert(n, value);
            }
        }
        items.into_values().map(String::from).collect()
    }

    /// `Name.member.N.Field=…` as one `Params` per member, in order, whose
    /// own names are the fields (so members can nest lists of their own).
    pub fn structs(&self, name: &str) -> Vec<Params> {
        let prefix = format!("{name}.member.");
        let mut members: BTreeMap<u32, Params> = BTreeMap::new();
        for (key, value) in &self.values {
            let Some((n, field)) = key.strip_prefix(&prefix).and_then(|r| r.split_once('.')) else {
                continue;
            };
            if let Ok(n) = n.parse() {
                members
                    .entry(n)
                    .or_default()
                    .values
                    .insert(field.to_string(), value.clone());
            }
        }
        members.into_values().collect()
    }

    /// `Tags.member.N.Key` / `.Value`.
    pub fn tags(&self, name: &str) -> ApiResult<Vec<Tag>> {
        self.structs(name)
            .into_iter()
            .map(|m| {
                Ok(Tag {
                    key: m.required("Key")?.to_string(),
                    value: m.get("Value").unwrap_or_default().to_string(),
                })
            })
            .collect()
    }

    /// A policy document: JSON text, passed on as text so that it is
    /// validated and stored exactly as the caller wrote it.
    pub fn document(&self, name: &str) -> ApiResult<Value> {
        Ok(Value::String(self.required(name)?.to_string()))
    }

    /// `PathPrefix`, `Marker` and `MaxItems` of the List calls.
    pub fn list_params(&self) -> ApiResult<ListParams> {
        Ok(ListParams::from_request(
            self.get("PathPrefix"),
            self.get("Marker"),
            self.int("MaxItems")?,
        )?)
    }
}

pub fn missing(name: &str) -> ApiError {
    ApiError::BadRequest {
        code: "MissingParameter",
        message: format!("The request must contain the parameter {name}."),
    }
}

fn invalid(name: &str, value: &str, constraint: &str) -> ApiError {
    ApiError::ValidationError(format!(
        "1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: {constraint}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_lists_and_structures() {
        let p = Params::parse(
            "Action=TagRole",
            b"Tags.member.2.Key=b&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.10.Key=c\
              &TagKeys.member.2=y&TagKeys.member.1=x&Empty=",
        );
        let tags = p.tags("Tags").unwrap();
        let keys: Vec<_> = tags.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(tags[0].value, "1");
        assert_eq!(tags[1].value, "");
        assert_eq!(p.list("TagKeys"), ["x", "y"]);
        assert!(p.list("Empty").is_empty());
        assert_eq!(p.get("Action"), Some("TagRole"));
    }

    #[test]
    fn documents_arrive_decoded_and_bad_scalars_are_validation_errors() {
        let p = Params::parse("", b"Doc=%7B%22a%22%3A+1%7D&N=x&B=yes");
        assert_eq!(
            p.document("Doc").unwrap(),
            Value::String("{\"a\": 1}".into())
        );
        assert_eq!(p.int("N").unwrap_err().code(), "ValidationError");
        assert_eq!(p.bool("B").unwrap_err().code(), "ValidationError");
        assert_eq!(p.required("Nope").unwrap_err().code(), "MissingParameter");
    }
}
