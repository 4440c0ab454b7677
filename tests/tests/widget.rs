//! The web chat widget in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/widget.mjs`) against the real binary. `.ci/run` installs
//! both and sets `BATON_REQUIRE_BROWSER=1`; elsewhere the test says it is skipped when
//! Chromium or the script's packages are missing.

#![allow(clippy::unwrap_used)]

use baton_e2e::browser::browser_or_skip;
use baton_e2e::{AVAILABLE_MSG, Backend, Server, run_to_success};

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
