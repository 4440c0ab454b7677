//! Several `baton` processes on one PostgreSQL database behave as one system: events and
//! settings changes made on one host reach the others (PostgreSQL LISTEN/NOTIFY).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use baton_e2e::{Backend, Server, StatusCode, postgres_url_or_skip};
use serde_json::{Value, json};

async fn simulate_handoff(server: &Server, text: &str) -> bool {
    let (status, body) = server
        .post("/api/v1/handoff/simulate", json!({"text": text}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["handoff"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_live_events_cross_hosts() {
    let Some(url) = postgres_url_or_skip() else {
        return;
    };
    let a = Server::start(Backend::Postgres(url)).await;
    let b = a.start_peer().await;

    // B decides with the first settings, so its snapshot is loaded...
    assert!(!simulate_handoff(&b, "I was refunded twice").await);
    // ...then A changes them. B trusts its snapshot for 30 s: only the relay can make B
    // see the change within seconds.
    let (agent, agent_token) = a.agent("Ann", 5).await;
    a.route_to("live", &[agent], &["refund"]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !simulate_handoff(&b, "I was refunded twice").await {
        assert!(
            Instant::now() < deadline,
            "host B still decides with the old settings 10 s after A changed them"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A visitor talks to A; B's event stream of the conversation shows what A writes.
    let visitor = a.visitor().await;
    visitor.say_expect_handoff("I want a refund").await;
    let last = visitor
        .messages()
        .await
        .last()
        .map(|m| m["id"].as_i64().unwrap())
        .unwrap();
    let mut events = b.events(&visitor, Some(last)).await;
    let (status, sent) = a
        .post_as(
            &agent_token,
            &format!("/api/v1/conversations/{}/messages", visitor.id),
            json!({"text": "Ann here, written on host A"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let event = events.next_message(Duration::from_secs(15)).await;
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["text"], "Ann here, written on host A", "{event:?}");
    assert_eq!(data["author"], "user");
}
