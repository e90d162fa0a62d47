//! /v1/users: create, get, list, rename and move, delete; names and paths;
//! pagination of every list.

use serde_json::{json, Value};

use crate::helpers::{
    assert_error, assert_error_message, json_with_status, names, policy, spawn_app,
};

#[tokio::test]
async fn user_create_get_list_update_delete() {
    let app = spawn_app().await;
    let created = json_with_status(
        app.post(
            "/v1/users",
            &json!({"name": "alice", "path": "/eng/", "tags": [{"key": "team", "value": "blue"}]}),
        )
        .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("AIDA") && id.len() == 21, "{id}");
    assert_eq!(created["name"], "alice");
    assert_eq!(created["path"], "/eng/");
    assert_eq!(
        created["arn"],
        format!("arn:aws:iam::{}:user/eng/alice", app.account_id)
    );
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created["tags"], json!([{"key": "team", "value": "blue"}]));

    let got = json_with_status(app.get("/v1/users/alice").await, 200).await;
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["tags"][0]["key"], "team");

    let list = json_with_status(app.get("/v1/users").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["name"], "alice");
    assert!(
        list["items"][0].get("tags").is_none(),
        "lists omit tags: {list}"
    );

    // Rename and move: the unique id stays.
    let updated = json_with_status(
        app.patch(
            "/v1/users/alice",
            &json!({"new_name": "alicia", "new_path": "/ops/"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["name"], "alicia");
    assert_eq!(
        updated["arn"],
        format!("arn:aws:iam::{}:user/ops/alicia", app.account_id)
    );
    assert_error_message(
        app.get("/v1/users/alice").await,
        404,
        "NoSuchEntity",
        "The user with name alice cannot be found.",
    )
    .await;
    let got = json_with_status(app.get("/v1/users/alicia").await, 200).await;
    assert_eq!(got["path"], "/ops/");

    json_with_status(app.delete("/v1/users/alicia").await, 204).await;
    assert_error(app.get("/v1/users/alicia").await, 404, "NoSuchEntity").await;
    assert_error(app.delete("/v1/users/alicia").await, 404, "NoSuchEntity").await;
    assert_error(
        app.patch("/v1/users/alicia", &json!({"new_name": "x"}))
            .await,
        404,
        "NoSuchEntity",
    )
    .await;
}

#[tokio::test]
async fn user_names_are_unique_ignoring_case_and_keep_their_case() {
    let app = spawn_app().await;
    app.create_user("Bob").await;
    assert_error_message(
        app.post("/v1/users", &json!({"name": "bob"})).await,
        409,
        "EntityAlreadyExists",
        "User with name bob already exists.",
    )
    .await;
    let got = json_with_status(app.get("/v1/users/BOB").await, 200).await;
    assert_eq!(got["name"], "Bob");
    assert!(got["arn"].as_str().unwrap().ends_with(":user/Bob"));

    // A rename onto another user's name (in any case) clashes too.
    app.create_user("carol").await;
    assert_error(
        app.patch("/v1/users/carol", &json!({"new_name": "BOB"}))
            .await,
        409,
        "EntityAlreadyExists",
    )
    .await;
    // Renaming a user to a different case of its own name is fine.
    let renamed = json_with_status(
        app.patch("/v1/users/carol", &json!({"new_name": "Carol"}))
            .await,
        200,
    )
    .await;
    assert_eq!(renamed["name"], "Carol");
}

#[tokio::test]
async fn bad_user_names_paths_and_bodies_are_400() {
    let app = spawn_app().await;
    for name in ["al/ice", "ali*ce", "a b", "", &"x".repeat(65), "bé"] {
        let body = assert_error(
            app.post("/v1/users", &json!({"name": name})).await,
            400,
            "ValidationError",
        )
        .await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("userName"),
            "{body}"
        );
    }
    // 64 characters is the longest name.
    app.create_user(&"x".repeat(64)).await;
    for path in ["eng", "/eng", "eng/", "/a b/", ""] {
        assert_error(
            app.post("/v1/users", &json!({"name": "pathy", "path": path}))
                .await,
            400,
            "ValidationError",
        )
        .await;
    }
    // An unknown field, a missing name, a body that is not JSON.
    assert_error(
        app.post("/v1/users", &json!({"name": "u", "colour": "red"}))
            .await,
        400,
        "ValidationError",
    )
    .await;
    assert_error(
        app.post("/v1/users", &json!({})).await,
        400,
        "ValidationError",
    )
    .await;
    let r = app
        .request(reqwest::Method::POST, "/v1/users")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "ValidationError").await;
    // Updates validate too.
    app.create_user("dave").await;
    assert_error(
        app.patch("/v1/users/dave", &json!({"new_name": "da ve"}))
            .await,
        400,
        "ValidationError",
    )
    .await;
    assert_error(
        app.patch("/v1/users/dave", &json!({"new_path": "nope"}))
            .await,
        400,
        "ValidationError",
    )
    .await;
    // Nothing was created by the refused requests.
    let list = json_with_status(app.get("/v1/users").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test]
async fn user_with_missing_boundary_policy_is_404() {
    let app = spawn_app().await;
    let arn = format!("arn:aws:iam::{}:policy/missing", app.account_id);
    assert_error_message(
        app.post(
            "/v1/users",
            &json!({"name": "erin", "permissions_boundary": arn}),
        )
        .await,
        404,
        "NoSuchEntity",
        &format!("Policy {arn} does not exist or is not attachable."),
    )
    .await;
    assert_error(app.get("/v1/users/erin").await, 404, "NoSuchEntity").await;
    let ok = json_with_status(
        app.post(
            "/v1/users",
            &json!({"name": "erin", "permissions_boundary": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        ok["permissions_boundary"],
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    );
}

#[tokio::test]
async fn user_list_pages_in_name_order_and_filters_by_path() {
    let app = spawn_app().await;
    // Created out of order and in mixed case; listed by name ignoring case.
    for name in ["g", "B", "e", "a", "F", "c", "d"] {
        app.create_user(name).await;
    }
    for name in ["t1", "t2"] {
        json_with_status(
            app.post("/v1/users", &json!({"name": name, "path": "/team/x/"}))
                .await,
            201,
        )
        .await;
    }
    let first = json_with_status(app.get("/v1/users?max_items=3").await, 200).await;
    assert_eq!(names(first["items"].as_array().unwrap()), ["a", "B", "c"]);
    assert_eq!(first["is_truncated"], true);
    assert!(first["marker"].is_string());

    let (items, pages) = app.list_all("/v1/users", 3).await;
    assert_eq!(pages, 3);
    assert_eq!(
        names(&items),
        ["a", "B", "c", "d", "e", "F", "g", "t1", "t2"]
    );

    let (items, pages) = app.list_all("/v1/users?path_prefix=/team/", 1).await;
    assert_eq!(names(&items), ["t1", "t2"]);
    assert_eq!(pages, 2);
    let list = json_with_status(app.get("/v1/users?path_prefix=/nobody/").await, 200).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(list["is_truncated"], false);

    // Exactly max_items left: not truncated.
    let list = json_with_status(app.get("/v1/users?max_items=9").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 9);
    assert_eq!(list["is_truncated"], false);
    let list = json_with_status(app.get("/v1/users?max_items=1000").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 9);
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let app = spawn_app().await;
    for query in ["max_items=0", "max_items=1001", "max_items=-1"] {
        assert_error(
            app.get(&format!("/v1/users?{query}")).await,
            400,
            "ValidationError",
        )
        .await;
    }
    assert_error(
        app.get("/v1/users?max_items=lots").await,
        400,
        "ValidationError",
    )
    .await;
    assert_error(
        app.get("/v1/users?path_prefix=team").await,
        400,
        "ValidationError",
    )
    .await;
    for list in ["/v1/users", "/v1/groups", "/v1/roles", "/v1/policies"] {
        assert_error(
            app.get(&format!("{list}?marker=%21%21not-a-marker%21%21"))
                .await,
            400,
            "InvalidInput",
        )
        .await;
    }
    assert_error(
        app.get("/v1/policies?scope=Everything").await,
        400,
        "ValidationError",
    )
    .await;
}

#[tokio::test]
async fn groups_roles_and_policies_paginate_too() {
    let app = spawn_app().await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let mut expected = Vec::new();
    for i in 0..5 {
        let name = format!("n{i}");
        json_with_status(app.post("/v1/groups", &json!({"name": name})).await, 201).await;
        json_with_status(
            app.post("/v1/roles", &json!({"name": name, "trust_policy": trust}))
                .await,
            201,
        )
        .await;
        app.create_policy(&name, policy("Allow", "iam:GetUser", "*"))
            .await;
        expected.push(name);
    }
    for list in ["/v1/groups", "/v1/roles", "/v1/policies?scope=Local"] {
        let (items, pages) = app.list_all(list, 2).await;
        assert_eq!(names(&items), expected, "{list}");
        assert_eq!(pages, 3, "{list}");
    }
    // All policies: the built-in ones and the account's, each once.
    let (items, _) = app.list_all("/v1/policies", 3).await;
    let all: Vec<Value> = items;
    assert_eq!(all.len(), 5 + 4, "{all:?}");
    let mut arns: Vec<&str> = all.iter().map(|p| p["arn"].as_str().unwrap()).collect();
    arns.dedup();
    assert_eq!(arns.len(), 9);
}
