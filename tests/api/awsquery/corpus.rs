//! botocore's query-protocol output cases (../shared/corpora/botocore-query-protocol)
//! as a check of our XML envelopes: for each case within what latchkey
//! writes (structures, `<member>` lists, `entry` maps, strings, numbers,
//! booleans, ISO-8601 timestamps, and errors with a message), the case's
//! result is rendered with our writer and envelope and read back the way
//! botocore's QueryParser reads a reply; it must give the case's result.
//! The same reader is first tried on botocore's own body, so a case counts
//! only where the reader models botocore faithfully. The corpus is read at
//! test time and never copied here.

use std::path::Path;

use latchkey::awsquery::xml::{self, Xml, IAM_NAMESPACE};
use serde_json::{json, Map, Value};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpora/botocore-query-protocol"
);

/// botocore skips these itself (protocol-tests-ignore-list.json).
const IGNORED: &[&str] = &["QueryXmlLists", "QueryComplexError"];

type Check = Result<(), String>;

#[test]
fn our_envelopes_read_as_botocores_output_cases_expect() {
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        println!("skipped: the corpus {CORPUS} is not there");
        return;
    }
    let (mut checked, mut skipped) = (Vec::new(), Vec::new());
    for file in ["output_query.json", "legacy_output_query.json"] {
        let text = std::fs::read_to_string(dir.join(file)).expect("corpus file");
        let suites: Vec<Value> = serde_json::from_str(&text).expect("corpus JSON");
        for suite in &suites {
            for case in suite["cases"].as_array().expect("cases") {
                let id = format!(
                    "{file}: {} / {}",
                    suite["description"].as_str().unwrap_or("?"),
                    case["id"].as_str().unwrap_or("-")
                );
                match check_case(&suite["shapes"], case) {
                    Ok(()) => checked.push(id),
                    Err(reason) => skipped.push(format!("{id}: {reason}")),
                }
            }
        }
    }
    println!(
        "checked {} cases:\n  {}",
        checked.len(),
        checked.join("\n  ")
    );
    println!(
        "skipped {} cases:\n  {}",
        skipped.len(),
        skipped.join("\n  ")
    );
    assert!(checked.len() >= 15, "too few cases checked: {checked:?}");
}

fn check_case(shapes: &Value, case: &Value) -> Check {
    if IGNORED.contains(&case["id"].as_str().unwrap_or_default()) {
        return Err("on botocore's ignore list".into());
    }
    if case.get("error").is_some() {
        return check_error(case);
    }
    let op = case["given"]["name"].as_str().ok_or("no operation name")?;
    let output = &case["given"]["output"];
    if let Some(wrapper) = output["resultWrapper"].as_str() {
        if wrapper != format!("{op}Result") {
            return Err(format!("result wrapper {wrapper}"));
        }
    }
    let expected = &case["result"];
    let Some(shape_name) = output["shape"].as_str() else {
        // No output shape: only the metadata, which nothing reads.
        let ours = xml::success(IAM_NAMESPACE, op, "request-id", None);
        return read_reply(&ours, op, shapes, None).map(|_| ());
    };
    let shape = &shapes[shape_name];
    let body = case["response"]["body"].as_str().ok_or("no body")?;
    let theirs = read_reply(body, op, shapes, Some(shape))?;
    if &theirs != expected {
        return Err(format!(
            "reader differs from botocore: {theirs} vs {expected}"
        ));
    }
    let mut result = Xml::new();
    write_struct(&mut result, shapes, shape, expected)?;
    let ours = xml::success(IAM_NAMESPACE, op, "request-id", Some(&result));
    let read = read_reply(&ours, op, shapes, Some(shape))
        .unwrap_or_else(|e| panic!("our reply does not read: {e}\n{ours}"));
    assert_eq!(&read, expected, "our reply reads otherwise:\n{ours}");
    Ok(())
}

/// The error envelope: botocore takes `Code` and `Message` from `Error`.
fn check_error(case: &Value) -> Check {
    let extra = case["error"]
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k != "Message"));
    if extra {
        return Err("error members beyond Message".into());
    }
    let code = case["errorCode"].as_str().ok_or("no code")?;
    let message = case["errorMessage"].as_str().unwrap_or_default();
    let body = case["response"]["body"].as_str().ok_or("no body")?;
    if read_error(body)? != (code.to_string(), message.to_string()) {
        return Err("reader differs from botocore".into());
    }
    let ours = xml::error(IAM_NAMESPACE, true, code, message, "request-id");
    assert_eq!(
        read_error(&ours)?,
        (code.to_string(), message.to_string()),
        "{ours}"
    );
    let doc = roxmltree::Document::parse(&ours).map_err(|e| e.to_string())?;
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "ErrorResponse");
    assert!(child(root, "RequestId").is_some(), "{ours}");
    assert_eq!(
        child(child(root, "Error").unwrap(), "Type").and_then(|t| t.text()),
        Some("Sender")
    );
    Ok(())
}

fn read_error(body: &str) -> Result<(String, String), String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| e.to_string())?;
    let error = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Error")
        .ok_or("no Error element")?;
    let text = |name| {
        child(error, name)
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_string()
    };
    Ok((text("Code"), text("Message")))
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn shape_of<'a>(shapes: &'a Value, reference: &Value) -> Result<&'a Value, String> {
    let name = reference["shape"].as_str().ok_or("member without shape")?;
    shapes.get(name).ok_or(format!("unknown shape {name}"))
}

/// Refuses the XML features latchkey never writes.
fn supported(member: &Value, target: &Value) -> Check {
    for key in [
        "flattened",
        "xmlNamespace",
        "xmlAttribute",
        "timestampFormat",
    ] {
        if member.get(key).is_some() || target.get(key).is_some() {
            return Err(format!("uses {key}"));
        }
    }
    if target["member"].get("locationName").is_some() || target["key"].get("locationName").is_some()
    {
        return Err("renamed list or map members".into());
    }
    Ok(())
}

fn element_name<'a>(member_name: &'a str, member: &'a Value) -> &'a str {
    member["locationName"].as_str().unwrap_or(member_name)
}

fn write_struct(x: &mut Xml, shapes: &Value, shape: &Value, value: &Value) -> Check {
    let members = shape["members"]
        .as_object()
        .ok_or("structure without members")?;
    for (name, member) in members {
        let Some(v) = value.get(name) else { continue };
        let target = shape_of(shapes, member)?;
        supported(member, target)?;
        write_value(x, element_name(name, member), shapes, target, v)?;
    }
    Ok(())
}

fn write_value(x: &mut Xml, name: &str, shapes: &Value, shape: &Value, value: &Value) -> Check {
    let mut outcome = Ok(());
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => {
            x.node(name, |s| outcome = write_struct(s, shapes, shape, value));
        }
        "list" => {
            let item_shape = shape_of(shapes, &shape["member"])?;
            supported(&shape["member"], item_shape)?;
            let items = value.as_array().ok_or("list value")?;
            x.node(name, |l| {
                for item in items {
                    if outcome.is_ok() {
                        outcome = write_value(l, "member", shapes, item_shape, item);
                    }
                }
            });
        }
        "map" => {
            for part in ["key", "value"] {
                let s = shape_of(shapes, &shape[part])?;
                supported(&shape[part], s)?;
                if !is_scalar(s) {
                    return Err("map of non-scalars".into());
                }
            }
            let entries = value.as_object().ok_or("map value")?;
            let entries: Vec<(String, String)> = entries
                .iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        scalar_text(shape_of(shapes, &shape["value"])?, v)?,
                    ))
                })
                .collect::<Result<_, String>>()?;
            x.map(name, entries);
        }
        _ => {
            x.text(name, scalar_text(shape, value)?);
        }
    }
    outcome
}

fn is_scalar(shape: &Value) -> bool {
    matches!(
        shape["type"].as_str(),
        Some(
            "string"
                | "character"
                | "integer"
                | "long"
                | "boolean"
                | "float"
                | "double"
                | "timestamp"
        )
    )
}

/// A scalar as latchkey writes it; timestamps through the same formatter
/// the store uses for every date it returns.
fn scalar_text(shape: &Value, value: &Value) -> Result<String, String> {
    match (shape["type"].as_str().unwrap_or_default(), value) {
        ("string" | "character", Value::String(s)) => Ok(s.clone()),
        ("integer" | "long", Value::Number(n)) if n.is_i64() => Ok(n.to_string()),
        ("float" | "double", Value::Number(n)) => Ok(n.to_string()),
        ("boolean", Value::Bool(b)) => Ok(b.to_string()),
        ("timestamp", Value::Number(n)) if n.is_i64() => {
            let t = time::OffsetDateTime::from_unix_timestamp(n.as_i64().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            Ok(latchkey::domain::format_time(t))
        }
        (kind, v) => Err(format!("unsupported {kind} value {v}")),
    }
}

/// Reads a reply as botocore does: the `{Op}Result` element under the
/// root, each member by its element name, lists from `member` elements,
/// maps from `entry/key/value`.
fn read_reply(
    body: &str,
    op: &str,
    shapes: &Value,
    shape: Option<&Value>,
) -> Result<Value, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| e.to_string())?;
    let root = doc.root_element();
    if root.tag_name().name() != format!("{op}Response") {
        return Err(format!("root element {}", root.tag_name().name()));
    }
    let Some(shape) = shape else {
        return Ok(json!({}));
    };
    let result = child(root, &format!("{op}Result")).ok_or("no result element")?;
    read_struct(result, shapes, shape)
}

fn read_struct(
    node: roxmltree::Node<'_, '_>,
    shapes: &Value,
    shape: &Value,
) -> Result<Value, String> {
    let mut out = Map::new();
    for (name, member) in shape["members"]
        .as_object()
        .ok_or("structure without members")?
    {
        let target = shape_of(shapes, member)?;
        if let Some(el) = child(node, element_name(name, member)) {
            supported(member, target)?;
            out.insert(name.clone(), read_value(el, shapes, target)?);
        }
    }
    Ok(Value::Object(out))
}

fn read_value(
    node: roxmltree::Node<'_, '_>,
    shapes: &Value,
    shape: &Value,
) -> Result<Value, String> {
    let text = node.text().unwrap_or_default();
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => read_struct(node, shapes, shape),
        "list" => {
            let item = shape_of(shapes, &shape["member"])?;
            node.children()
                .filter(|c| c.is_element() && c.tag_name().name() == "member")
                .map(|c| read_value(c, shapes, item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        "map" => {
            let value_shape = shape_of(shapes, &shape["value"])?;
            let mut out = Map::new();
            for entry in node.children().filter(|c| c.tag_name().name() == "entry") {
                let key = child(entry, "key")
                    .and_then(|k| k.text())
                    .unwrap_or_default();
                let value = child(entry, "value").ok_or("entry without value")?;
                out.insert(key.to_string(), read_value(value, shapes, value_shape)?);
            }
            Ok(Value::Object(out))
        }
        "string" | "character" => Ok(json!(text)),
        "integer" | "long" => text
            .trim()
            .parse::<i64>()
            .map(|n| json!(n))
            .map_err(|e| e.to_string()),
        "float" | "double" => text
            .trim()
            .parse::<f64>()
            .map(|n| json!(n))
            .map_err(|e| e.to_string()),
        "boolean" => Ok(json!(text.trim() == "true")),
        "timestamp" => {
            let t = time::OffsetDateTime::parse(
                text.trim(),
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|e| format!("timestamp {text}: {e}"))?;
            Ok(json!(t.unix_timestamp()))
        }
        other => Err(format!("unsupported type {other}")),
    }
}
