//! A handoff to a help desk makes a ticket (F5); to a plain inbox it does not.

#![allow(clippy::unwrap_used)]

use baton_e2e::{Server, StatusCode, assert_error, id_of, scenarios};
use serde_json::{Value, json};

scenarios!(help_desk_handoffs_make_tickets);

/// What the visitor is told when staff reopen a conversation (`baton_engine::REOPEN_MESSAGE`).
const REOPEN_MESSAGE: &str = "Our team reopened this conversation. You can write here again.";

async fn help_desk_handoffs_make_tickets(server: &Server) {
    let (ann, ann_token) = server.agent("Ann", 3).await;
    // route_to uses a plain inbox: no ticket
    server.route_to("live", &[ann], &["refund"]).await;
    let plain = server.visitor().await;
    plain.say_expect_handoff("refund please").await;
    assert_eq!(
        plain.conversation().await["ticket_id"],
        serde_json::Value::Null
    );

    let (status, desk) = server
        .post(
            "/api/v1/inboxes",
            json!({"name": "Help desk", "kind": "help_desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{desk}");
    let mut settings = server.settings().await;
    settings["destination"]["inbox_id"] = json!(id_of(&desk));
    server.put_settings(settings).await;

    let visitor = server.visitor().await;
    visitor.say_expect_handoff("I want a refund").await;
    let conversation = visitor.conversation().await;
    let ticket_id = conversation["ticket_id"].as_i64().expect("a ticket");
    let ticket = server.get_ok(&format!("/api/v1/tickets/{ticket_id}")).await;
    assert_eq!(ticket["conversation_id"], visitor.id);
    assert_eq!(ticket["owner_id"], ann);
    assert_eq!(ticket["inbox_id"], id_of(&desk));
    assert_eq!(ticket["source_channel"], "chat");
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["priority"], "medium");

    let (status, _) = server
        .post_as(
            &ann_token,
            &format!("/api/v1/conversations/{}/messages", visitor.id),
            json!({"text": "Hello, Ann here"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let ticket = server.get_ok(&format!("/api/v1/tickets/{ticket_id}")).await;
    assert_eq!(ticket["status"], "waiting_on_contact");

    // Closed with its conversation; reopened with it, the next move is the team's, and
    // the visitor is told once.
    let action = |name: &str| format!("/api/v1/conversations/{}/{name}", visitor.id);
    let (status, body) = server
        .post_as(&ann_token, &action("close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ticket = server.get_ok(&format!("/api/v1/tickets/{ticket_id}")).await;
    assert_eq!(ticket["status"], "closed");
    let (status, body) = server
        .post_as(&ann_token, &action("reopen"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ticket = server.get_ok(&format!("/api/v1/tickets/{ticket_id}")).await;
    assert_eq!(ticket["status"], "waiting_on_us");
    let messages = server.get_ok(&action("messages")).await["messages"].clone();
    let notices: Vec<&Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == REOPEN_MESSAGE)
        .collect();
    assert_eq!(notices.len(), 1, "{messages}");
    assert_eq!(notices[0]["author"], "system");
    assert_eq!(messages.as_array().unwrap().last(), Some(notices[0]));

    let missing = server.get("/api/v1/tickets/999999").await;
    assert_error(&missing, StatusCode::NOT_FOUND, None);
}
