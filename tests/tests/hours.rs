//! Working hours through the API: outside them a user counts as away.

#![allow(clippy::unwrap_used)]

use baton_e2e::{Server, StatusCode, UNAVAILABLE_MSG, assert_error, scenarios};
use serde_json::{Value, json};

scenarios!(working_hours_gate_live_assignment);

async fn working_hours_gate_live_assignment(server: &Server) {
    let (ann, ann_token) = server.agent("Ann", 3).await;
    server.route_to("live", &[ann], &["refund"]).await;
    let path = format!("/api/v1/users/{ann}/working_hours");

    let bad = server
        .put_as(
            &ann_token,
            &path,
            json!({"time_zone": "Mars/Olympus", "days": {}}),
        )
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("time_zone"));
    let bad = server
        .put_as(
            &ann_token,
            &path,
            json!({"time_zone": "UTC", "days": {"mon": [["17:00", "09:00"]]}}),
        )
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("days.mon[0]"));

    // hours that never include now: Ann is away for routing though her switch says available
    let (status, user) = server
        .put_as(
            &ann_token,
            &path,
            json!({"time_zone": "Europe/Rome", "days": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["availability"], "available");
    assert_eq!(user["working_hours"]["time_zone"], "Europe/Rome");
    let visitor = server.visitor().await;
    assert_eq!(
        visitor.say_expect_handoff("refund please").await,
        UNAVAILABLE_MSG
    );
    assert_eq!(visitor.conversation().await["queued"], true);

    // clearing them makes her available again, and the queue drains to her
    let (status, user) = server.put_as(&ann_token, &path, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["working_hours"], Value::Null);
    assert_eq!(user["open_conversations"], 1);
    let conversation = visitor.conversation().await;
    assert_eq!(conversation["assignee"]["user_id"], ann, "{conversation}");
}
