//! Handoffs whose destination is a ticket-based workflow (F5, F7, F8, F9): the ticket is
//! made in the help desk and enrolled; the workflow assigns it or leaves it unassigned;
//! runs survive a kill -9.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use baton_e2e::{
    AVAILABLE_MSG, Backend, Server, StatusCode, UNASSIGNED_MSG, UNAVAILABLE_MSG, id_of,
    postgres_url_or_skip, scenarios,
};
use serde_json::{Value, json};

scenarios!(workflow_destination_assigns_or_leaves_unassigned);

/// A help desk, a workflow with `actions`, and settings routing live handoffs of
/// "refund" to it.
async fn route_to_workflow(server: &Server, actions: Value, unassigned_chat: &str) -> i64 {
    let (status, desk) = server
        .post(
            "/api/v1/inboxes",
            json!({"name": "Help desk", "kind": "help_desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{desk}");
    let (status, workflow) = server
        .post(
            "/api/v1/workflows",
            json!({"name": "Handoffs", "object": "ticket",
                   "enrollment": "ticket_created_by_handoff", "actions": actions}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workflow}");
    let id = id_of(&workflow);
    let mut settings = server.settings().await;
    settings["default_triggers"] =
        json!({"cannot_answer": true, "asks_for_human": true, "agent_paused": true});
    settings["custom_triggers"] = json!(["refund"]);
    settings["process"] = json!("live");
    settings["destination"] = json!({"kind": "workflow", "workflow_id": id});
    settings["messages"] = json!({"available": AVAILABLE_MSG, "unavailable": UNAVAILABLE_MSG,
                                  "unassigned_by_workflow": UNASSIGNED_MSG});
    settings["unassigned_chat"] = json!(unassigned_chat);
    server.put_settings(settings).await;
    id
}

async fn workflow_destination_assigns_or_leaves_unassigned(server: &Server) {
    let (ann, ann_token) = server.agent("Ann", 5).await;
    let rotate = json!({"type": "rotate_owner", "user_ids": [ann]});
    route_to_workflow(
        server,
        json!([{"type": "branch",
                "arms": [{"condition": {"type": "source_channel", "equals": "chat"},
                          "actions": [rotate, {"type": "set_priority", "priority": "high"}]}],
                "otherwise": [rotate]}]),
        "keep_open",
    )
    .await;

    // the workflow assigns: the visitor hears "available", the ticket is Ann's
    let visitor = server.visitor().await;
    assert_eq!(
        visitor.say_expect_handoff("refund please").await,
        AVAILABLE_MSG
    );
    let conversation = visitor.conversation().await;
    assert_eq!(conversation["assignee"]["user_id"], ann, "{conversation}");
    let ticket = server
        .get_ok(&format!("/api/v1/tickets/{}", conversation["ticket_id"]))
        .await;
    assert_eq!(
        (ticket["owner_id"].as_i64(), ticket["priority"].as_str()),
        (Some(ann), Some("high"))
    );

    // nobody eligible: "unassigned by workflow", the chat stays open in the Unassigned view
    server.set_availability(&ann_token, ann, "away").await;
    let left = server.visitor().await;
    assert_eq!(
        left.say_expect_handoff("refund please").await,
        UNASSIGNED_MSG
    );
    let conversation = left.conversation().await;
    assert_eq!(conversation["status"], "open");
    assert_eq!(conversation["assignee"]["kind"], "none");
    assert!(
        server
            .view("unassigned")
            .await
            .iter()
            .any(|c| id_of(c) == left.id),
        "in the Unassigned view"
    );

    // with "close", a live handoff the workflow leaves unassigned closes the chat (F8)
    let mut settings = server.settings().await;
    settings["unassigned_chat"] = json!("close");
    server.put_settings(settings).await;
    let closed = server.visitor().await;
    assert_eq!(
        closed.say_expect_handoff("refund please").await,
        UNASSIGNED_MSG
    );
    assert_eq!(closed.conversation().await["status"], "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_runs_survive_kill_9_on_sqlite() {
    workflow_runs_survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_runs_survive_kill_9_on_postgres() {
    if let Some(url) = postgres_url_or_skip() {
        workflow_runs_survive_kill_9(Backend::Postgres(url)).await;
    }
}

const AFTER_DELAY: &str = "Still here: a teammate takes it now.";

async fn workflow_runs_survive_kill_9(backend: Backend) {
    let mut server = Server::start(backend).await;
    let (ann, _) = server.agent("Ann", 5).await;
    route_to_workflow(
        &server,
        json!([{"type": "delay", "seconds": 3},
               {"type": "send_message", "text": AFTER_DELAY},
               {"type": "rotate_owner", "user_ids": [ann]}]),
        "keep_open",
    )
    .await;
    let visitor = server.visitor().await;
    assert_eq!(
        visitor.say_expect_handoff("refund please").await,
        UNAVAILABLE_MSG
    );
    let (id, token) = (visitor.id, visitor.token.clone());
    drop(visitor);

    // The only host dies while the run waits on its delay; a new host must finish it.
    server.kill();
    let survivor = server.start_peer().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let conversation = survivor
            .get_ok(&format!("/api/v1/conversations/{id}"))
            .await;
        if conversation["assignee"]["user_id"] == ann {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not resume: {conversation}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Some more passes of the runner: nothing may be applied again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, messages) = survivor
        .get_as(&token, &format!("/api/v1/chat/conversations/{id}/messages"))
        .await;
    assert_eq!(status, StatusCode::OK, "{messages}");
    let sent = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == AFTER_DELAY)
        .count();
    assert_eq!(sent, 1, "the message after the delay, once: {messages}");
    let steps = survivor.get_ok("/api/v1/audit?limit=1000").await["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "workflow_step" && e["conversation_id"] == id)
        .count();
    assert_eq!(steps, 2, "two steps, each applied once");
}
