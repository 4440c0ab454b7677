//! Reassigning a held conversation to a team (B8): a member takes it under the routing
//! rules of a live handoff — paid seat, available, free capacity — never its holder;
//! nobody able leaves it where it is (409). Over HTTP on the real binary.

#![allow(clippy::unwrap_used)]

use baton_e2e::{AVAILABLE_MSG, Server, StatusCode, assert_error, scenarios};
use serde_json::{Value, json};

scenarios!(
    a_team_reassignment_follows_the_routing_rules,
    a_reassignment_names_one_target,
);

async fn assign(server: &Server, id: i64, body: Value) -> (StatusCode, Value) {
    server
        .post(&format!("/api/v1/conversations/{id}/assign"), body)
        .await
}

fn holder(conversation: &Value) -> Option<i64> {
    conversation["assignee"]["user_id"].as_i64()
}

async fn a_team_reassignment_follows_the_routing_rules(server: &Server) {
    let (ann, _) = server.agent("Ann", 3).await;
    let (bob, _) = server.agent("Bob", 3).await;
    let (cara, cara_token) = server.agent("Cara", 3).await;
    // Dan has no paid seat: never a candidate.
    let dan = server.create_user("Dan", "none", &[], None).await;
    server.set_availability(&cara_token, cara, "away").await;
    let billing = server.create_team("Billing", &[ann, bob, cara, dan]).await;
    server.route_to("live", &[ann], &["refund"]).await;
    let visitor = server.visitor().await;
    assert_eq!(visitor.say_expect_handoff("refund").await, AVAILABLE_MSG);
    assert_eq!(holder(&server.conversation(visitor.id).await), Some(ann));

    // Ann passes it to Billing: Bob is the only other member who can take it now.
    let (status, moved) = assign(
        server,
        visitor.id,
        json!({"team_id": billing, "from_user_id": ann}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(holder(&moved), Some(bob));
    assert_eq!(server.user(ann).await["open_conversations"], 0);
    assert_eq!(server.user(bob).await["open_conversations"], 1);
    let audit = server.audit(20).await;
    let row = audit
        .iter()
        .find(|e| e["kind"] == "assignment" && e["conversation_id"] == visitor.id)
        .unwrap_or_else(|| panic!("an assignment row: {audit:?}"));
    let details = row.to_string();
    assert!(
        details.contains("Billing"),
        "the rule names the team: {row}"
    );

    // Ann goes away; Bob passes it on: nobody else in Billing can take it now.
    let ann_token = server.token_for(ann).await;
    server.set_availability(&ann_token, ann, "away").await;
    let refused = assign(
        server,
        visitor.id,
        json!({"team_id": billing, "from_user_id": bob}),
    )
    .await;
    assert_error(&refused, StatusCode::CONFLICT, None);
    assert_eq!(holder(&server.conversation(visitor.id).await), Some(bob));
    assert_eq!(server.user(bob).await["open_conversations"], 1);

    // Without naming the holder, the owner is never replaced silently.
    let silent = assign(server, visitor.id, json!({"team_id": billing})).await;
    assert_error(&silent, StatusCode::CONFLICT, None);
}

async fn a_reassignment_names_one_target(server: &Server) {
    let (ann, _) = server.agent("Ann", 3).await;
    let team = server.create_team("Support", &[ann]).await;
    server.route_to("live", &[ann], &["refund"]).await;
    let visitor = server.visitor().await;
    visitor.say_expect_handoff("refund").await;
    let both = assign(
        server,
        visitor.id,
        json!({"user_id": ann, "team_id": team, "from_user_id": ann}),
    )
    .await;
    assert_error(&both, StatusCode::UNPROCESSABLE_ENTITY, Some("user_id"));
    let neither = assign(server, visitor.id, json!({"from_user_id": ann})).await;
    assert_error(&neither, StatusCode::UNPROCESSABLE_ENTITY, Some("user_id"));
    let unknown = assign(
        server,
        visitor.id,
        json!({"team_id": 987_654, "from_user_id": ann}),
    )
    .await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, Some("team_id"));
    assert_eq!(holder(&server.conversation(visitor.id).await), Some(ann));
}
