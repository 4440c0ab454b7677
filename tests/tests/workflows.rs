//! Ticket-based workflows through the API (F9): from a template, actions edited, added
//! and removed, bad definitions refused with the field named.

#![allow(clippy::unwrap_used)]

use baton_e2e::{Server, StatusCode, assert_error, id_of, scenarios};
use serde_json::{Value, json};

scenarios!(workflows_from_template_and_edited);

const TEMPLATE: &str = "reassign_tickets_for_customer_agent_handoff";

async fn workflows_from_template_and_edited(server: &Server) {
    let templates = server.get_ok("/api/v1/workflows/templates").await;
    assert_eq!(templates["templates"][0]["id"], TEMPLATE, "{templates}");

    let (status, created) = server
        .post(
            "/api/v1/workflows/from-template",
            json!({"template": TEMPLATE}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["object"], "ticket");
    assert_eq!(
        created["complete"], false,
        "the template's rotations are placeholders"
    );
    let arms = created["definition"]["actions"][0]["arms"]
        .as_array()
        .unwrap();
    let channels: Vec<&str> = arms
        .iter()
        .map(|arm| arm["condition"]["equals"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["chat", "email", "messaging"]);
    let id = id_of(&created);

    // fill the chat rotation in, add a priority action, remove the email branch
    let (ann, _) = server.agent("Ann", 3).await;
    let (ben, ben_token) = server.agent("Ben", 3).await;
    let mut definition: Value = created["definition"].clone();
    let branch = &mut definition["actions"][0];
    branch["arms"][0]["actions"][0]["user_ids"] = json!([ann, ben]);
    branch["arms"][2]["actions"][0]["user_ids"] = json!([ben]);
    branch["otherwise"][0]["user_ids"] = json!([ann]);
    branch["arms"].as_array_mut().unwrap().remove(1);
    definition["actions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "set_priority", "priority": "high"}));
    let (status, updated) = server
        .put(&format!("/api/v1/workflows/{id}"), definition.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["complete"], true);
    assert_eq!(
        updated["definition"]["actions"][0]["arms"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(updated["definition"]["actions"][1]["priority"], "high");
    assert_eq!(
        server.get_ok(&format!("/api/v1/workflows/{id}")).await["definition"],
        updated["definition"]
    );

    // refused, naming the field, and nothing changed
    let mut bad = definition.clone();
    bad["actions"][0]["arms"][0]["actions"][0]["user_ids"] = json!([ann, 999_999]);
    let refused = server.put(&format!("/api/v1/workflows/{id}"), bad).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("actions[0].arms[0].actions[0].user_ids[1]"),
    );
    assert_eq!(
        server.get_ok(&format!("/api/v1/workflows/{id}")).await["definition"],
        updated["definition"]
    );
    let unknown = server
        .post(
            "/api/v1/workflows/from-template",
            json!({"template": "nope"}),
        )
        .await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, Some("template"));
    let forbidden = server
        .post_as(
            &ben_token,
            "/api/v1/workflows/from-template",
            json!({"template": TEMPLATE}),
        )
        .await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, None);

    let listed = server.get_ok("/api/v1/workflows").await;
    assert_eq!(listed["workflows"].as_array().unwrap().len(), 1, "{listed}");
}
