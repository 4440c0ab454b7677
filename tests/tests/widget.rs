//! The web chat widget in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/widget.mjs`) against the real binary. `.ci/run` installs
//! both and sets `BATON_REQUIRE_BROWSER=1`; elsewhere the test says it is skipped when
//! Chromium or the script's packages are missing.

#![allow(clippy::unwrap_used)]

use baton_e2e::browser::browser_or_skip;
use baton_e2e::{AVAILABLE_MSG, Backend, Server, UNAVAILABLE_MSG, run_to_success};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_chats_hands_off_and_sees_the_staff_reply_in_the_widget() {
    let Some(browser) = browser_or_skip(&["playwright-core"]) else {
        return;
    };
    let server = Server::start(Backend::Sqlite).await;
    let (fay, fay_token) = server.agent("Fay", 5).await;
    server.route_to("live", &[fay], &["refund"]).await;
    let mut node = browser.node("widget.mjs");
    node.args([&server.base, &fay_token, AVAILABLE_MSG]);
    let stdout = run_to_success(node).await;
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["handoff"], AVAILABLE_MSG);
    // What the page showed is what the server stored.
    let id = report["conversation"].as_i64().unwrap();
    let conversation = server.conversation(id).await;
    assert_eq!(conversation["assignee"]["user_id"], fay, "{conversation}");
    let messages = server
        .get_ok(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    let authors: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(
        authors,
        ["visitor", "agent", "visitor", "system", "user"],
        "{messages}"
    );
}

/// The visitor's side of a handoff, with the widget embedded in a page of another origin
/// (`tests/browser/visitor.mjs`): queue places moving live, who joined, the staff reply,
/// a handback, a closed conversation carried on in a linked one, the choice up front,
/// axe-core, 375 px, screenshots. What the pages showed is checked against the staff API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_waits_meets_a_person_is_handed_back_and_carries_on() {
    let Some(browser) = browser_or_skip(&["playwright-core", "@axe-core/playwright"]) else {
        return;
    };
    let server = Server::start(Backend::Sqlite).await;
    let (eve, eve_token) = server.agent("Eve", 1).await;
    let mut settings = server.route_to("live", &[eve], &["refund"]).await;
    settings["visitor_choice"] = json!(true);
    server.put_settings(settings).await;
    server.set_availability(&eve_token, eve, "away").await;
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut node = browser.node("visitor.mjs");
    node.args([
        &server.base,
        &eve.to_string(),
        &eve_token,
        shots.to_str().unwrap(),
    ]);
    let stdout = run_to_success(node).await;
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["joined"], "Eve joined the conversation", "{report}");
    assert!(
        report["choice_note"]
            .as_str()
            .unwrap()
            .starts_with("Nobody is available right now"),
        "{report}"
    );
    let queued: Vec<i64> = report["queued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    // The first went back to the assistant, the second was closed, the third is Eve's.
    assert_eq!(
        server.conversation(queued[0]).await["assignee"]["kind"],
        "agent"
    );
    assert_eq!(server.conversation(queued[1]).await["status"], "closed");
    assert_eq!(
        server.conversation(queued[2]).await["assignee"]["user_id"],
        eve
    );
    // The carried-on conversation names the closed one.
    let carried = server
        .conversation(report["carried_on"].as_i64().unwrap())
        .await;
    assert_eq!(carried["previous_conversation_id"], queued[1], "{carried}");
    assert_eq!(carried["status"], "open");
    // "Talk to a person" handed off as visitor_choice, into the queue.
    let chose = server.conversation(report["chose"].as_i64().unwrap()).await;
    assert_eq!(
        chose["handoff"]["reason"]["kind"], "visitor_choice",
        "{chose}"
    );
    assert_eq!(chose["queued"], true, "{chose}");
    let messages = server
        .get_ok(&format!(
            "/api/v1/conversations/{}/messages",
            report["chose"]
        ))
        .await;
    assert_eq!(
        messages["messages"][0]["text"], UNAVAILABLE_MSG,
        "{messages}"
    );
}
