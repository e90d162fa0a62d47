//! openapi/openapi.json is committed and must match what the code
//! generates. `UPDATE_OPENAPI=1 cargo test` rewrites it.

use crate::helpers::{json_with_status, spawn_app};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn committed_openapi_document_is_current() {
    let generated = latchkey::api::openapi()
        .to_pretty_json()
        .expect("serializes")
        + "\n";
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(COMMITTED, &generated).expect("write openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
}

#[tokio::test]
async fn served_document_and_swagger_ui() {
    let app = spawn_app().await;
    let doc = json_with_status(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/users"]["post"].is_object());
    assert!(doc["paths"]["/v1/roles/{role}/trust-policy"]["put"].is_object());
    assert!(doc["components"]["securitySchemes"]["basic"].is_object());
    assert!(doc["components"]["securitySchemes"]["sigv4"].is_object());
    let ui = app
        .client
        .get(app.url("/swagger-ui/"))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger"));
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .get(app.url("/swagger-ui"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
}

/// Every `$ref` in `value`, with where it was found.
fn references<'a>(value: &'a serde_json::Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", serde_json::Value::String(target)) => {
                        out.push((at.to_string(), target.as_str()))
                    }
                    _ => references(inner, &format!("{at}/{key}"), out),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                references(inner, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The published document is what generators, validators and fuzzers
/// read: it must parse as OpenAPI 3.1, every operation's parameters, body
/// and responses must resolve, and no `$ref` may point at nothing (twelve
/// operations once referenced path-parameter enums that were never
/// declared).
#[test]
fn document_is_valid_openapi_3_1_and_every_reference_resolves() {
    let text = latchkey::api::openapi().to_json().expect("serializes");
    let spec = oas3::from_json(&text).expect("parses as OpenAPI 3.1");
    assert_eq!(spec.validate_version().expect("version").minor, 1);
    let mut operations = 0;
    for (path, method, operation) in spec.operations() {
        operations += 1;
        operation
            .parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: parameters: {e}"));
        operation
            .request_body(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: request body: {e}"));
        let responses = operation.responses(&spec);
        let declared = operation.responses.as_ref().map_or(0, |r| r.len());
        assert_eq!(
            responses.len(),
            declared,
            "{method} {path}: a response does not resolve"
        );
    }
    assert!(operations > 80, "only {operations} operations");

    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut refs = Vec::new();
    references(&doc, "", &mut refs);
    assert!(!refs.is_empty());
    let dangling: Vec<_> = refs
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .collect();
    assert!(dangling.is_empty(), "dangling references: {dangling:?}");
}

/// Any operation that takes a path parameter, query or body can be refused
/// by its extractors with 400 before the handler runs, any that takes a
/// body with 413 and 408, and any write with 503 while the disk is full:
/// each documents them.
#[test]
fn extractor_refusals_are_documented() {
    let doc: serde_json::Value =
        serde_json::from_str(&latchkey::api::openapi().to_json().expect("serializes"))
            .expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/v1/")) {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = &operation["responses"];
            let has_input = operation.get("requestBody").is_some()
                || operation["parameters"]
                    .as_array()
                    .is_some_and(|p| !p.is_empty());
            if has_input {
                checked += 1;
                assert!(responses["400"].is_object(), "{method} {path}: no 400");
            }
            if operation.get("requestBody").is_some() {
                assert!(responses["413"].is_object(), "{method} {path}: no 413");
                assert!(responses["408"].is_object(), "{method} {path}: no 408");
            }
            if ["put", "post", "delete", "patch"].contains(&method.as_str()) {
                assert!(responses["503"].is_object(), "{method} {path}: no 503");
            }
        }
    }
    assert!(checked > 50, "only {checked} operations take input");
    let attach = &paths["/v1/{kind}/{name}/attached-policies"]["get"]["responses"];
    assert!(attach["400"].is_object());
}
