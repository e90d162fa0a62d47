//! Stage 1: the grammar. Turns the parsed JSON into a typed [`Document`],
//! or reports that it is not one ("Syntax errors in policy.").
//!
//! Only the *shape* is checked here: which keys exist, the JSON type of each
//! value, the mutually exclusive pairs, the Effect spelled in any case, the
//! Version value and the condition operator names. Everything about the
//! *content* of strings (case of Effect, ARNs, dates, action vendors,
//! principals) belongs to later stages, because AWS reports those with other
//! messages.

use super::condition::{self, Operator};
use serde_json::{Map, Value};

/// Marker for "the document does not follow the policy grammar".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SyntaxError;

type Syntax<T> = Result<T, SyntaxError>;

const TOP_LEVEL_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const KNOWN_VERSIONS: [&str; 2] = ["2008-10-17", "2012-10-17"];

pub(super) struct Document<'a> {
    pub version: Option<&'a str>,
    pub statements: Vec<Statement<'a>>,
}

pub(super) struct Statement<'a> {
    pub sid: Option<&'a str>,
    pub effect: &'a str,
    pub principal: Option<PrincipalElement<'a>>,
    pub action: Option<StringList<'a>>,
    pub resource: Option<StringList<'a>>,
    pub conditions: Vec<ConditionBlock<'a>>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: which of the pair was
/// used, and its values with a lone string promoted to a one-item list.
pub(super) struct StringList<'a> {
    pub element: &'static str,
    pub items: Vec<&'a str>,
}

/// `Principal` or `NotPrincipal`.
pub(super) struct PrincipalElement<'a> {
    pub element: &'static str,
    pub value: PrincipalValue<'a>,
}

pub(super) enum PrincipalValue<'a> {
    /// A bare string; only `"*"` is meaningful.
    Text(&'a str),
    /// `{kind: id | [id, ...]}` in document order.
    Map(Vec<(&'a str, Vec<&'a str>)>),
}

/// One `"Operator": {key: values}` entry of a Condition block whose operator
/// is known. Unknown operators with an empty body are accepted and dropped.
pub(super) struct ConditionBlock<'a> {
    pub operator: Operator,
    pub entries: Vec<(&'a str, Vec<&'a Value>)>,
}

pub(super) fn parse_document(root: &Value) -> Syntax<Document<'_>> {
    let top = root.as_object().ok_or(SyntaxError)?;
    require_known_keys(top, &TOP_LEVEL_KEYS)?;

    let version = match top.get("Version") {
        None => None,
        Some(Value::String(v)) if KNOWN_VERSIONS.contains(&v.as_str()) => Some(v.as_str()),
        Some(_) => return Err(SyntaxError),
    };
    if let Some(id) = top.get("Id") {
        id.as_str().ok_or(SyntaxError)?;
    }

    let raw_statements: Vec<&Value> = match top.get("Statement").ok_or(SyntaxError)? {
        one @ Value::Object(_) => vec![one],
        Value::Array(many) => many.iter().collect(),
        _ => return Err(SyntaxError),
    };
    if raw_statements.is_empty() {
        return Err(SyntaxError);
    }
    let statements = raw_statements
        .into_iter()
        .map(parse_statement)
        .collect::<Syntax<Vec<_>>>()?;
    Ok(Document {
        version,
        statements,
    })
}

fn require_known_keys(object: &Map<String, Value>, known: &[&str]) -> Syntax<()> {
    if object.keys().all(|k| known.contains(&k.as_str())) {
        Ok(())
    } else {
        Err(SyntaxError)
    }
}

fn parse_statement(value: &Value) -> Syntax<Statement<'_>> {
    let object = value.as_object().ok_or(SyntaxError)?;
    require_known_keys(object, &STATEMENT_KEYS)?;

    let sid = match object.get("Sid") {
        None => None,
        Some(v) => Some(v.as_str().ok_or(SyntaxError)?),
    };

    // The grammar accepts Effect in any case; "allow" is refused later, by
    // the legacy parser, with its own message.
    let effect = object
        .get("Effect")
        .and_then(Value::as_str)
        .ok_or(SyntaxError)?;
    if !effect.eq_ignore_ascii_case("Allow") && !effect.eq_ignore_ascii_case("Deny") {
        return Err(SyntaxError);
    }

    let principal = match exclusive_pair(object, "Principal", "NotPrincipal")? {
        None => None,
        Some((element, v)) => Some(PrincipalElement {
            element,
            value: parse_principal(v)?,
        }),
    };
    let action = string_list_pair(object, "Action", "NotAction")?;
    let resource = string_list_pair(object, "Resource", "NotResource")?;
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(v) => parse_condition(v)?,
    };

    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// Returns whichever of the two keys is present; both at once is a syntax error.
fn exclusive_pair<'a>(
    object: &'a Map<String, Value>,
    positive: &'static str,
    negative: &'static str,
) -> Syntax<Option<(&'static str, &'a Value)>> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(SyntaxError),
        (Some(v), None) => Ok(Some((positive, v))),
        (None, Some(v)) => Ok(Some((negative, v))),
        (None, None) => Ok(None),
    }
}

fn string_list_pair<'a>(
    object: &'a Map<String, Value>,
    positive: &'static str,
    negative: &'static str,
) -> Syntax<Option<StringList<'a>>> {
    let Some((element, value)) = exclusive_pair(object, positive, negative)? else {
        return Ok(None);
    };
    let items = match value {
        Value::String(s) => vec![s.as_str()],
        // A `null` inside the list is skipped rather than refused: the moto
        // corpus records IAM accepting `"Resource": ["arn:...", null]`.
        Value::Array(items) => items
            .iter()
            .filter(|item| !item.is_null())
            .map(|item| item.as_str().ok_or(SyntaxError))
            .collect::<Syntax<Vec<_>>>()?,
        _ => return Err(SyntaxError),
    };
    Ok(Some(StringList { element, items }))
}

fn parse_principal(value: &Value) -> Syntax<PrincipalValue<'_>> {
    match value {
        Value::String(s) => Ok(PrincipalValue::Text(s)),
        Value::Object(kinds) => kinds
            .iter()
            .map(|(kind, ids)| {
                let ids = match ids {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(items) => items
                        .iter()
                        .map(|item| item.as_str().ok_or(SyntaxError))
                        .collect::<Syntax<Vec<_>>>()?,
                    _ => return Err(SyntaxError),
                };
                Ok((kind.as_str(), ids))
            })
            .collect::<Syntax<Vec<_>>>()
            .map(PrincipalValue::Map),
        _ => Err(SyntaxError),
    }
}

fn parse_condition(value: &Value) -> Syntax<Vec<ConditionBlock<'_>>> {
    let operators = value.as_object().ok_or(SyntaxError)?;
    let mut blocks = Vec::with_capacity(operators.len());
    for (name, body) in operators {
        let body = body.as_object().ok_or(SyntaxError)?;
        let entries = body
            .iter()
            .map(|(key, values)| Ok((key.as_str(), condition_values(values)?)))
            .collect::<Syntax<Vec<_>>>()?;
        match condition::parse_operator(name) {
            Some(operator) => blocks.push(ConditionBlock { operator, entries }),
            // An unknown operator is tolerated only while it constrains nothing.
            None if entries.is_empty() => {}
            None => return Err(SyntaxError),
        }
    }
    Ok(blocks)
}

/// A condition value is a string, number or boolean, or a list of them.
fn condition_values(value: &Value) -> Syntax<Vec<&Value>> {
    fn scalar(value: &Value) -> Syntax<&Value> {
        match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(value),
            _ => Err(SyntaxError),
        }
    }
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}
