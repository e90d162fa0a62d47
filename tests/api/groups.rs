//! /v1/groups: groups and membership.

use serde_json::json;

use crate::helpers::{assert_error, assert_error_message, json_with_status, names, spawn_app};

#[tokio::test]
async fn group_create_get_list_delete() {
    let app = spawn_app().await;
    let created = json_with_status(
        app.post("/v1/groups", &json!({"name": "Admins", "path": "/ops/"}))
            .await,
        201,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("AGPA") && id.len() == 21, "{id}");
    assert_eq!(
        created["arn"],
        format!("arn:aws:iam::{}:group/ops/Admins", app.account_id)
    );
    assert_error_message(
        app.post("/v1/groups", &json!({"name": "admins"})).await,
        409,
        "EntityAlreadyExists",
        "Group with name admins already exists.",
    )
    .await;
    for bad in [
        json!({"name": "ad mins"}),
        json!({"name": "x", "path": "ops"}),
    ] {
        assert_error(app.post("/v1/groups", &bad).await, 400, "ValidationError").await;
    }
    // Group names may be 128 characters, user names only 64.
    json_with_status(
        app.post("/v1/groups", &json!({"name": "g".repeat(128)}))
            .await,
        201,
    )
    .await;
    assert_error(
        app.post("/v1/groups", &json!({"name": "g".repeat(129)}))
            .await,
        400,
        "ValidationError",
    )
    .await;

    let got = json_with_status(app.get("/v1/groups/ADMINS").await, 200).await;
    assert_eq!(got["name"], "Admins");
    assert_eq!(got["members"], json!([]));
    let list = json_with_status(app.get("/v1/groups?path_prefix=/ops/").await, 200).await;
    assert_eq!(names(list["items"].as_array().unwrap()), ["Admins"]);

    json_with_status(app.delete("/v1/groups/Admins").await, 204).await;
    assert_error_message(
        app.get("/v1/groups/Admins").await,
        404,
        "NoSuchEntity",
        "The group with name Admins cannot be found.",
    )
    .await;
    assert_error(app.delete("/v1/groups/Admins").await, 404, "NoSuchEntity").await;
}

#[tokio::test]
async fn membership_add_is_idempotent_and_remove_works() {
    let app = spawn_app().await;
    app.create_user("uma").await;
    app.create_user("vic").await;
    for g in ["devs", "ops"] {
        json_with_status(app.post("/v1/groups", &json!({"name": g})).await, 201).await;
    }
    json_with_status(
        app.put("/v1/groups/devs/members/uma", &json!({})).await,
        204,
    )
    .await;
    // Adding again changes nothing.
    json_with_status(
        app.put("/v1/groups/devs/members/UMA", &json!({})).await,
        204,
    )
    .await;
    json_with_status(
        app.put("/v1/groups/devs/members/vic", &json!({})).await,
        204,
    )
    .await;
    json_with_status(app.put("/v1/groups/ops/members/uma", &json!({})).await, 204).await;

    let devs = json_with_status(app.get("/v1/groups/devs").await, 200).await;
    assert_eq!(names(devs["members"].as_array().unwrap()), ["uma", "vic"]);
    let of_uma = json_with_status(app.get("/v1/users/uma/groups").await, 200).await;
    assert_eq!(names(of_uma["items"].as_array().unwrap()), ["devs", "ops"]);

    json_with_status(app.delete("/v1/groups/devs/members/uma").await, 204).await;
    assert_error_message(
        app.delete("/v1/groups/devs/members/uma").await,
        404,
        "NoSuchEntity",
        "The user with name uma is not a member of group devs.",
    )
    .await;
    let of_uma = json_with_status(app.get("/v1/users/uma/groups").await, 200).await;
    assert_eq!(names(of_uma["items"].as_array().unwrap()), ["ops"]);
    let devs = json_with_status(app.get("/v1/groups/devs").await, 200).await;
    assert_eq!(names(devs["members"].as_array().unwrap()), ["vic"]);

    // Missing groups and users.
    assert_error(
        app.put("/v1/groups/nope/members/uma", &json!({})).await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.put("/v1/groups/devs/members/nobody", &json!({})).await,
        404,
        "NoSuchEntity",
    )
    .await;
    assert_error(
        app.get("/v1/users/nobody/groups").await,
        404,
        "NoSuchEntity",
    )
    .await;
}

#[tokio::test]
async fn a_user_belongs_to_at_most_ten_groups() {
    let app = spawn_app().await;
    app.create_user("joiner").await;
    for i in 0..11 {
        json_with_status(
            app.post("/v1/groups", &json!({"name": format!("g{i}")}))
                .await,
            201,
        )
        .await;
    }
    for i in 0..10 {
        json_with_status(
            app.put(&format!("/v1/groups/g{i}/members/joiner"), &json!({}))
                .await,
            204,
        )
        .await;
    }
    assert_error_message(
        app.put("/v1/groups/g10/members/joiner", &json!({})).await,
        409,
        "LimitExceeded",
        "Cannot exceed quota for GroupsPerUser: 10",
    )
    .await;
    // Re-adding to a group it is in is still fine at the limit.
    json_with_status(
        app.put("/v1/groups/g3/members/joiner", &json!({})).await,
        204,
    )
    .await;
}
