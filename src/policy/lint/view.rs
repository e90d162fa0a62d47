//! A read-only view of an already *validated* document, built from the JSON
//! value rather than from [`crate::policy::PolicyDocument`]: lint needs the
//! JSON path of every item (was `Action` a string or a list?) and must
//! accept everything IAM accepts, such as a `null` among the resources
//! (moto `valid-041`), which the typed document does not represent.

use serde_json::Value;

use crate::policy::Effect;

pub(super) struct Doc<'a> {
    pub version: Option<&'a str>,
    pub statements: Vec<Stmt<'a>>,
}

pub(super) struct Stmt<'a> {
    pub index: usize,
    /// `Statement[2]`, or `Statement` when the element is a lone object.
    pub path: String,
    pub raw: &'a Value,
    pub sid: Option<&'a str>,
    pub effect: Effect,
    pub principal: Option<PrincipalView<'a>>,
    pub action: Option<List<'a>>,
    pub resource: Option<List<'a>>,
    /// `None` when the statement has no `Condition` element.
    pub condition: Option<Vec<OpView<'a>>>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`.
pub(super) struct List<'a> {
    pub negated: bool,
    pub element: &'static str,
    pub path: String,
    pub items: Vec<Item<'a>>,
}

pub(super) struct Item<'a> {
    pub text: &'a str,
    pub path: String,
}

pub(super) struct PrincipalView<'a> {
    pub negated: bool,
    pub path: String,
    pub raw: &'a Value,
    /// The bare string `"*"`.
    pub wildcard: bool,
    /// `AWS`, `Service`, `Federated`, `CanonicalUser` with their items, and
    /// whether the list was written as an empty array.
    pub kinds: Vec<(&'a str, Vec<Item<'a>>, bool)>,
}

impl<'a> PrincipalView<'a> {
    pub fn items_of<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = &'s Item<'a>> + 's {
        self.kinds
            .iter()
            .filter(move |(k, _, _)| *k == kind)
            .flat_map(|(_, items, _)| items)
    }

    /// `"*"` or `{"AWS": "*"}`: anyone.
    pub fn is_public(&self) -> bool {
        self.wildcard || self.items_of("AWS").any(|i| i.text == "*")
    }
}

/// One condition operator with its keys.
pub(super) struct OpView<'a> {
    pub name: &'a str,
    pub op: Operator<'a>,
    pub path: String,
    pub entries: Vec<Entry<'a>>,
}

pub(super) struct Entry<'a> {
    pub key: &'a str,
    pub path: String,
    pub values: Vec<CondValue>,
    /// Written as `[]`.
    pub empty_array: bool,
}

pub(super) struct CondValue {
    /// Strings as written; numbers and booleans in their JSON text.
    pub text: String,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Qualifier {
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// `[ForAllValues:|ForAnyValue:]Base[IfExists]`. `family` is `None` for an
/// unknown operator (IAM accepts one only with an empty body).
#[derive(Debug, Clone, Copy)]
pub(super) struct Operator<'a> {
    pub qualifier: Option<Qualifier>,
    pub base: &'a str,
    pub if_exists: bool,
    pub family: Option<Family>,
}

impl Operator<'_> {
    pub fn parse(name: &str) -> Operator<'_> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(Qualifier::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(Qualifier::ForAnyValue), r)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let family = match base {
            "StringEquals"
            | "StringNotEquals"
            | "StringEqualsIgnoreCase"
            | "StringNotEqualsIgnoreCase"
            | "StringLike"
            | "StringNotLike" => Some(Family::String),
            "NumericEquals"
            | "NumericNotEquals"
            | "NumericLessThan"
            | "NumericLessThanEquals"
            | "NumericGreaterThan"
            | "NumericGreaterThanEquals" => Some(Family::Numeric),
            "DateEquals"
            | "DateNotEquals"
            | "DateLessThan"
            | "DateLessThanEquals"
            | "DateGreaterThan"
            | "DateGreaterThanEquals" => Some(Family::Date),
            "Bool" => Some(Family::Bool),
            "BinaryEquals" => Some(Family::Binary),
            "IpAddress" | "NotIpAddress" => Some(Family::Ip),
            "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => Some(Family::Arn),
            "Null" => Some(Family::Null),
            _ => None,
        };
        Operator {
            qualifier,
            base,
            if_exists,
            family,
        }
    }

    /// `StringNotEquals`, `NotIpAddress`, `ArnNotLike`...: a missing key
    /// makes them true (§4.2).
    pub fn is_negated(&self) -> bool {
        self.base.contains("Not")
    }
}

impl<'a> Doc<'a> {
    /// `None` when the value is not a policy document; callers validate
    /// first, so that only happens for input the validator refused.
    pub fn build(root: &'a Value) -> Option<Doc<'a>> {
        let object = root.as_object()?;
        let version = object.get("Version").and_then(Value::as_str);
        let statements = match object.get("Statement")? {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, s)| Stmt::build(i, format!("Statement[{i}]"), s))
                .collect::<Option<Vec<_>>>()?,
            single @ Value::Object(_) => vec![Stmt::build(0, "Statement".into(), single)?],
            _ => return None,
        };
        Some(Doc {
            version,
            statements,
        })
    }

    /// Every string a variable may hide in, with its element name, path and
    /// statement: used by the variable checks.
    pub fn texts(&self) -> Vec<(&'static str, usize, &str, String)> {
        let mut out = Vec::new();
        for s in &self.statements {
            for list in [&s.action, &s.resource].into_iter().flatten() {
                for item in &list.items {
                    out.push((list.element, s.index, item.text, item.path.clone()));
                }
            }
            if let Some(p) = &s.principal {
                for (_, items, _) in &p.kinds {
                    for item in items {
                        out.push(("Principal", s.index, item.text, item.path.clone()));
                    }
                }
            }
        }
        out
    }
}

impl<'a> Stmt<'a> {
    fn build(index: usize, path: String, raw: &'a Value) -> Option<Stmt<'a>> {
        let object = raw.as_object()?;
        let effect = match object.get("Effect")?.as_str()? {
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            _ => return None,
        };
        let pair = |a: &'static str, b: &'static str| {
            if let Some(v) = object.get(a) {
                Some(list(false, a, format!("{path}.{a}"), v))
            } else {
                object
                    .get(b)
                    .map(|v| list(true, b, format!("{path}.{b}"), v))
            }
        };
        let principal = match (object.get("Principal"), object.get("NotPrincipal")) {
            (Some(v), _) => Some(principal(false, format!("{path}.Principal"), v)),
            (None, Some(v)) => Some(principal(true, format!("{path}.NotPrincipal"), v)),
            (None, None) => None,
        };
        let condition = object
            .get("Condition")
            .map(|c| conditions(&format!("{path}.Condition"), c));
        Some(Stmt {
            index,
            sid: object.get("Sid").and_then(Value::as_str),
            effect,
            principal,
            action: pair("Action", "NotAction"),
            resource: pair("Resource", "NotResource"),
            condition,
            raw,
            path,
        })
    }

    /// The condition keys the statement tests, lower-cased.
    pub fn condition_keys(&self) -> Vec<String> {
        self.ops()
            .flat_map(|op| op.entries.iter())
            .map(|e| e.key.to_ascii_lowercase())
            .collect()
    }

    pub fn has_condition_key(&self, key: &str) -> bool {
        self.condition_keys()
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
    }

    /// Whether any condition key is actually tested (an empty `{}` block
    /// restricts nothing).
    pub fn has_conditions(&self) -> bool {
        self.ops().any(|op| !op.entries.is_empty())
    }

    pub fn ops(&self) -> impl Iterator<Item = &OpView<'a>> {
        self.condition.iter().flatten()
    }
}

fn list<'a>(negated: bool, element: &'static str, path: String, value: &'a Value) -> List<'a> {
    let items = match value {
        Value::String(s) => vec![Item {
            text: s,
            path: path.clone(),
        }],
        Value::Array(values) => values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.as_str().map(|text| Item {
                    text,
                    path: format!("{path}[{i}]"),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    List {
        negated,
        element,
        path,
        items,
    }
}

fn principal(negated: bool, path: String, value: &Value) -> PrincipalView<'_> {
    let kinds = match value.as_object() {
        Some(map) => map
            .iter()
            .map(|(kind, v)| {
                let items = list(false, "Principal", format!("{path}.{kind}"), v).items;
                let empty = v.as_array().is_some_and(Vec::is_empty);
                (kind.as_str(), items, empty)
            })
            .collect(),
        None => Vec::new(),
    };
    PrincipalView {
        negated,
        wildcard: value.as_str() == Some("*"),
        path,
        raw: value,
        kinds,
    }
}

fn conditions<'a>(path: &str, value: &'a Value) -> Vec<OpView<'a>> {
    let Some(block) = value.as_object() else {
        return Vec::new();
    };
    block
        .iter()
        .map(|(name, body)| {
            let op_path = format!("{path}.{name}");
            let entries = body
                .as_object()
                .map(|keys| {
                    keys.iter()
                        .map(|(key, v)| entry(key, format!("{op_path}.{key}"), v))
                        .collect()
                })
                .unwrap_or_default();
            OpView {
                name,
                op: Operator::parse(name),
                path: op_path,
                entries,
            }
        })
        .collect()
}

fn entry<'a>(key: &'a str, path: String, value: &Value) -> Entry<'a> {
    let one = |v: &Value, path: String| CondValue {
        text: match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        path,
    };
    let (values, empty_array) = match value {
        Value::Array(items) => (
            items
                .iter()
                .enumerate()
                .map(|(i, v)| one(v, format!("{path}[{i}]")))
                .collect(),
            items.is_empty(),
        ),
        scalar => (vec![one(scalar, path.clone())], false),
    };
    Entry {
        key,
        path,
        values,
        empty_array,
    }
}
