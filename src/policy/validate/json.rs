//! JSON parsing that refuses duplicate keys.
//!
//! `serde_json::from_str::<Value>` keeps the last of two equal keys, but AWS
//! treats a repeated key (two `Effect`s in one statement) as a syntax error,
//! so the document is built through a visitor that checks every object.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// The start of the error a [`strict_document`] field gives for a repeated
/// key, which the server's JSON edge recognises and answers as
/// `MalformedPolicyDocument`, like the same document sent as a string.
pub const DUPLICATE_KEY: &str = "policy document repeats the key";

/// `deserialize_with` for a policy document given as a JSON value in a
/// request body: `serde_json::Value` keeps the last of two equal keys,
/// which would make the object form accept what the string form refuses.
pub fn strict_document<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    StrictValue.deserialize(deserializer)
}

/// [`strict_document`] for an optional field (use with `#[serde(default)]`).
pub fn strict_document_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    match StrictValue.deserialize(deserializer)? {
        Value::Null => Ok(None),
        value => Ok(Some(value)),
    }
}

/// [`strict_document`] for a list of documents.
pub fn strict_documents<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Value>, D::Error> {
    match StrictValue.deserialize(deserializer)? {
        Value::Array(items) => Ok(items),
        _ => Err(de::Error::custom("expected a list of policy documents")),
    }
}

/// Parses `text` as one JSON value, failing on malformed JSON, trailing
/// data, or any object that repeats a key.
pub(super) fn parse_strict(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = StrictValue.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Seed that deserializes any JSON value with the duplicate-key check.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("{DUPLICATE_KEY} {key:?}")));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_json_and_keeps_key_order() {
        let value = parse_strict(r#" {"b": [1, -2, 3.5, true, null], "a": {"x": "y"}} "#).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a"]);
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        assert!(parse_strict(r#"{"a": 1, "a": 2}"#).is_err());
        assert!(parse_strict(r#"{"s": [{"Effect": "Allow", "Effect": "Deny"}]}"#).is_err());
        assert!(parse_strict(r#"{"a": {"b": 1}, "c": {"b": 1}}"#).is_ok());
    }

    #[test]
    fn document_fields_refuse_duplicates_inside_a_larger_body() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(deserialize_with = "strict_document")]
            document: Value,
            #[serde(default, deserialize_with = "strict_document_opt")]
            other: Option<Value>,
            #[serde(default, deserialize_with = "strict_documents")]
            many: Vec<Value>,
        }
        let ok: Body =
            serde_json::from_str(r#"{"document": {"a": 1}, "many": [{"b": 2}], "other": null}"#)
                .unwrap();
        assert_eq!(ok.document["a"], 1);
        assert!(ok.other.is_none());
        assert_eq!(ok.many.len(), 1);
        for bad in [
            r#"{"document": {"a": 1, "a": 2}}"#,
            r#"{"document": {}, "other": {"s": [{"E": 1, "E": 1}]}}"#,
            r#"{"document": {}, "many": [{}, {"b": 1, "b": 1}]}"#,
        ] {
            let err = serde_json::from_str::<Body>(bad).err().unwrap();
            assert!(err.to_string().starts_with(DUPLICATE_KEY), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_trailing_data_and_garbage() {
        assert!(parse_strict(r#"{"a": 1} x"#).is_err());
        assert!(parse_strict("").is_err());
        assert!(parse_strict("{").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(parse_strict(&deep).is_err());
    }
}
