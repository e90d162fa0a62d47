//! The typed policy document (§3.1): what the grammar can express, nothing
//! more. Whether a document is *acceptable* for a policy type (AWS's
//! MalformedPolicyDocument messages) is the validator's business; `parse`
//! only refuses what cannot be represented.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::{Effect, PolicyError, PolicyVersion};

const SYNTAX: &str = "Syntax errors in policy.";

fn syntax() -> PolicyError {
    PolicyError::malformed(SYNTAX)
}

/// A whole policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `None` when the element is absent (2008-10-17 semantics).
    pub version: Option<PolicyVersion>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// One statement. Mutually exclusive pairs (Action/NotAction, ...) are
/// enums, so a statement holding both cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalElement>,
    pub action: Option<ActionElement>,
    pub resource: Option<ResourceElement>,
    /// Operator name (as written) -> condition key (as written) -> values.
    /// Kept in document order; the operator is parsed at compile time so
    /// that re-serializing gives back exactly what was written.
    pub condition: ConditionBlock,
}

/// `[(operator, [(key, values)])]`, in document order.
pub type ConditionBlock = Vec<(String, Vec<(String, Vec<ConditionValue>)>)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalElement {
    Principal(Principals),
    NotPrincipal(Principals),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionElement {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceElement {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

/// `"*"` or a map of principal kinds (§3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// The bare string `"*"`.
    Wildcard,
    Map {
        aws: Option<Vec<String>>,
        service: Option<Vec<String>>,
        federated: Option<Vec<String>>,
        canonical_user: Option<Vec<String>>,
    },
}

/// A condition value keeps its JSON type so that serialization is faithful;
/// every operator compares its text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionValue {
    String(String),
    Number(Number),
    Bool(bool),
}

impl ConditionValue {
    pub fn as_text(&self) -> String {
        match self {
            ConditionValue::String(s) => s.clone(),
            ConditionValue::Number(n) => n.to_string(),
            ConditionValue::Bool(b) => b.to_string(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            ConditionValue::String(s) => Value::String(s.clone()),
            ConditionValue::Number(n) => Value::Number(n.clone()),
            ConditionValue::Bool(b) => Value::Bool(*b),
        }
    }
}

impl PolicyDocument {
    /// Parses JSON text. Duplicate keys in an object are refused (§3.1), which
    /// is why this does not go through `serde_json::Value` (it keeps the last).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let raw: Raw = serde_json::from_str(text).map_err(|_| syntax())?;
        Self::from_raw(raw)
    }

    /// Builds a document from an already-parsed JSON value (REST bodies carry
    /// documents as objects). Duplicate keys were already merged by serde_json.
    pub fn from_value(value: &Value) -> Result<Self, PolicyError> {
        Self::from_raw(Raw::from_value(value))
    }

    fn from_raw(raw: Raw) -> Result<Self, PolicyError> {
        let mut version = None;
        let mut id = None;
        let mut statements = None;
        for (key, value) in object(raw)? {
            match key.as_str() {
                "Version" => {
                    let v = match string(value)?.as_str() {
                        "2012-10-17" => PolicyVersion::V2012_10_17,
                        "2008-10-17" => PolicyVersion::V2008_10_17,
                        _ => return Err(syntax()),
                    };
                    set_once(&mut version, v)?;
                }
                "Id" => set_once(&mut id, string(value)?)?,
                "Statement" => {
                    let list = match value {
                        Raw::Array(items) if !items.is_empty() => items
                            .into_iter()
                            .map(Statement::from_raw)
                            .collect::<Result<Vec<_>, _>>()?,
                        obj @ Raw::Object(_) => vec![Statement::from_raw(obj)?],
                        _ => return Err(syntax()),
                    };
                    set_once(&mut statements, list)?;
                }
                _ => return Err(syntax()),
            }
        }
        Ok(PolicyDocument {
            version,
            id,
            statements: statements.ok_or_else(syntax)?,
        })
    }

    /// The effective version: a missing element means 2008-10-17.
    /// A document with no Resource/NotResource anywhere reads as a role
    /// trust policy (which must always allow, §6.5), not a resource policy.
    pub fn is_trust_shaped(&self) -> bool {
        self.statements.iter().all(|s| s.resource.is_none())
    }

    pub fn effective_version(&self) -> PolicyVersion {
        self.version.unwrap_or_default()
    }

    pub fn to_json_value(&self) -> Value {
        let mut map = Map::new();
        if let Some(v) = self.version {
            let text = match v {
                PolicyVersion::V2012_10_17 => "2012-10-17",
                PolicyVersion::V2008_10_17 => "2008-10-17",
            };
            map.insert("Version".into(), Value::String(text.into()));
        }
        if let Some(id) = &self.id {
            map.insert("Id".into(), Value::String(id.clone()));
        }
        let statements = self.statements.iter().map(Statement::to_json_value);
        map.insert("Statement".into(), Value::Array(statements.collect()));
        Value::Object(map)
    }

    pub fn to_json_string(&self) -> String {
        self.to_json_value().to_string()
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json_value().serialize(serializer)
    }
}

impl Statement {
    fn from_raw(raw: Raw) -> Result<Self, PolicyError> {
        let mut sid = None;
        let mut effect = None;
        let mut principal = None;
        let mut action = None;
        let mut resource = None;
        let mut condition = None;
        for (key, value) in object(raw)? {
            match key.as_str() {
                "Sid" => set_once(&mut sid, string(value)?)?,
                "Effect" => {
                    let e = match string(value)?.as_str() {
                        "Allow" => Effect::Allow,
                        "Deny" => Effect::Deny,
                        _ => return Err(syntax()),
                    };
                    set_once(&mut effect, e)?;
                }
                "Principal" => set_once(
                    &mut principal,
                    PrincipalElement::Principal(Principals::from_raw(value)?),
                )?,
                "NotPrincipal" => set_once(
                    &mut principal,
                    PrincipalElement::NotPrincipal(Principals::from_raw(value)?),
                )?,
                "Action" => set_once(&mut action, ActionElement::Action(strings(value)?))?,
                "NotAction" => set_once(&mut action, ActionElement::NotAction(strings(value)?))?,
                "Resource" => set_once(&mut resource, ResourceElement::Resource(strings(value)?))?,
                "NotResource" => {
                    set_once(&mut resource, ResourceElement::NotResource(strings(value)?))?
                }
                "Condition" => set_once(&mut condition, condition_block(value)?)?,
                _ => return Err(syntax()),
            }
        }
        Ok(Statement {
            sid,
            effect: effect.ok_or_else(syntax)?,
            principal,
            action,
            resource,
            condition: condition.unwrap_or_default(),
        })
    }

    pub fn to_json_value(&self) -> Value {
        let mut map = Map::new();
        if let Some(sid) = &self.sid {
            map.insert("Sid".into(), Value::String(sid.clone()));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        map.insert("Effect".into(), Value::String(effect.into()));
        match &self.principal {
            Some(PrincipalElement::Principal(p)) => {
                map.insert("Principal".into(), p.to_json_value());
            }
            Some(PrincipalElement::NotPrincipal(p)) => {
                map.insert("NotPrincipal".into(), p.to_json_value());
            }
            None => {}
        }
        match &self.action {
            Some(ActionElement::Action(a)) => {
                map.insert("Action".into(), one_or_many(a));
            }
            Some(ActionElement::NotAction(a)) => {
                map.insert("NotAction".into(), one_or_many(a));
            }
            None => {}
        }
        match &self.resource {
            Some(ResourceElement::Resource(r)) => {
                map.insert("Resource".into(), one_or_many(r));
            }
            Some(ResourceElement::NotResource(r)) => {
                map.insert("NotResource".into(), one_or_many(r));
            }
            None => {}
        }
        if !self.condition.is_empty() {
            let mut block = Map::new();
            for (op, keys) in &self.condition {
                let mut inner = Map::new();
                for (key, values) in keys {
                    let v = match values.as_slice() {
                        [single] => single.to_json(),
                        many => Value::Array(many.iter().map(ConditionValue::to_json).collect()),
                    };
                    inner.insert(key.clone(), v);
                }
                block.insert(op.clone(), Value::Object(inner));
            }
            map.insert("Condition".into(), Value::Object(block));
        }
        Value::Object(map)
    }
}

impl Principals {
    fn from_raw(raw: Raw) -> Result<Self, PolicyError> {
        match raw {
            Raw::String(s) if s == "*" => Ok(Principals::Wildcard),
            obj @ Raw::Object(_) => {
                let (mut aws, mut service, mut federated, mut canonical_user) =
                    (None, None, None, None);
                for (key, value) in object(obj)? {
                    let slot = match key.as_str() {
                        "AWS" => &mut aws,
                        "Service" => &mut service,
                        "Federated" => &mut federated,
                        "CanonicalUser" => &mut canonical_user,
                        _ => return Err(syntax()),
                    };
                    set_once(slot, strings(value)?)?;
                }
                Ok(Principals::Map {
                    aws,
                    service,
                    federated,
                    canonical_user,
                })
            }
            _ => Err(syntax()),
        }
    }

    fn to_json_value(&self) -> Value {
        match self {
            Principals::Wildcard => Value::String("*".into()),
            Principals::Map {
                aws,
                service,
                federated,
                canonical_user,
            } => {
                let mut map = Map::new();
                for (name, list) in [
                    ("AWS", aws),
                    ("Service", service),
                    ("Federated", federated),
                    ("CanonicalUser", canonical_user),
                ] {
                    if let Some(list) = list {
                        map.insert(name.into(), one_or_many(list));
                    }
                }
                Value::Object(map)
            }
        }
    }
}

fn one_or_many(list: &[String]) -> Value {
    match list {
        [single] => Value::String(single.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), PolicyError> {
    if slot.is_some() {
        return Err(syntax());
    }
    *slot = Some(value);
    Ok(())
}

fn object(raw: Raw) -> Result<Vec<(String, Raw)>, PolicyError> {
    match raw {
        Raw::Object(entries) => Ok(entries),
        _ => Err(syntax()),
    }
}

fn string(raw: Raw) -> Result<String, PolicyError> {
    match raw {
        Raw::String(s) => Ok(s),
        _ => Err(syntax()),
    }
}

fn strings(raw: Raw) -> Result<Vec<String>, PolicyError> {
    match raw {
        Raw::String(s) => Ok(vec![s]),
        Raw::Array(items) => items.into_iter().map(string).collect(),
        _ => Err(syntax()),
    }
}

fn condition_value(raw: Raw) -> Result<ConditionValue, PolicyError> {
    match raw {
        Raw::String(s) => Ok(ConditionValue::String(s)),
        Raw::Number(n) => Ok(ConditionValue::Number(n)),
        Raw::Bool(b) => Ok(ConditionValue::Bool(b)),
        _ => Err(syntax()),
    }
}

fn condition_block(raw: Raw) -> Result<ConditionBlock, PolicyError> {
    let mut block: ConditionBlock = Vec::new();
    for (op, body) in object(raw)? {
        if block.iter().any(|(o, _)| *o == op) {
            return Err(syntax());
        }
        let mut keys: Vec<(String, Vec<ConditionValue>)> = Vec::new();
        for (key, value) in object(body)? {
            if keys.iter().any(|(k, _)| *k == key) {
                return Err(syntax());
            }
            let values = match value {
                Raw::Array(items) => items
                    .into_iter()
                    .map(condition_value)
                    .collect::<Result<Vec<_>, _>>()?,
                scalar => vec![condition_value(scalar)?],
            };
            keys.push((key, values));
        }
        block.push((op, keys));
    }
    Ok(block)
}

/// JSON as written, keeping duplicate object keys so they can be refused.
enum Raw {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Raw>),
    Object(Vec<(String, Raw)>),
}

impl Raw {
    fn from_value(value: &Value) -> Raw {
        match value {
            Value::Null => Raw::Null,
            Value::Bool(b) => Raw::Bool(*b),
            Value::Number(n) => Raw::Number(n.clone()),
            Value::String(s) => Raw::String(s.clone()),
            Value::Array(a) => Raw::Array(a.iter().map(Raw::from_value).collect()),
            Value::Object(o) => Raw::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Raw::from_value(v)))
                    .collect(),
            ),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Number::from_f64(v)
            .map(Raw::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Raw>()? {
            items.push(item);
        }
        Ok(Raw::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries: Vec<(String, Raw)> = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Raw>()? {
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom("duplicate key"));
            }
            entries.push((key, value));
        }
        Ok(Raw::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_aws_shape() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"Allow",
            "Principal":{"AWS":["123456789012","arn:aws:iam::1:root"],"Service":"ec2.amazonaws.com"},
            "NotAction":"iam:*","Resource":["*"],
            "Condition":{"NumericLessThan":{"k":5},"Bool":{"b":true},"StringEquals":{"s":["a","b"]}}}}"#,
        )
        .unwrap();
        assert_eq!(doc.statements.len(), 1);
        let st = &doc.statements[0];
        assert!(matches!(st.action, Some(ActionElement::NotAction(ref a)) if a == &["iam:*"]));
        assert_eq!(
            st.condition[0].1[0].1,
            vec![ConditionValue::Number(5.into())]
        );
        assert_eq!(st.condition[1].1[0].1, vec![ConditionValue::Bool(true)]);
        let again = PolicyDocument::parse(&doc.to_json_string()).unwrap();
        assert_eq!(again, doc);
    }

    #[test]
    fn principal_star_and_missing_version() {
        let doc = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(doc.version, None);
        assert_eq!(doc.effective_version(), PolicyVersion::V2008_10_17);
        assert!(matches!(
            doc.statements[0].principal,
            Some(PrincipalElement::Principal(Principals::Wildcard))
        ));
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        for text in [
            "not json",
            "[]",
            r#"{"Statement":[]}"#,
            r#"{"Version":"2013-01-01","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}"#,
            r#"{"Statement":{"Effect":"allow","Action":"a:b","Resource":"*"}}"#,
            r#"{"Statement":{"effect":"Allow","Action":"a:b","Resource":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"a:b","Resource":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"Null":{"k":null}}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":{"Group":"x"},"Action":"a:b"}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"me","Action":"a:b"}}"#,
        ] {
            let err = PolicyDocument::parse(text).unwrap_err();
            assert_eq!(err, PolicyError::Malformed(SYNTAX.into()), "{text}");
        }
    }
}
