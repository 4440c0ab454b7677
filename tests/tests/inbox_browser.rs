//! The agent inbox and the visitor's widget together in a real browser (issue 9): Debian's
//! headless Chromium driven by playwright-core (`tests/browser/inbox.mjs`) against the real
//! binary on SQLite. A handoff arrives live in the inbox, is claimed, answered and handed
//! back while the visitor watches in the widget on a page of another origin; two agents
//! claim at once; the server restarts mid-conversation on the same port and database and
//! both sides carry on with no message missing or doubled; process `none` offers no
//! choice. What the pages showed is checked against what the server stored.
//!
//! `.ci/run` installs Chromium and the packages and sets `BATON_REQUIRE_BROWSER=1`;
//! elsewhere the test says it is skipped when they are missing.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;

use baton_e2e::browser::browser_or_skip;
use baton_e2e::console::{post_form, signed_in_owner};
use baton_e2e::{Backend, Server, StatusCode};
use serde_json::{Value, json};

/// A one-time set-password link for `user`, made by the owner on the user's page.
async fn password_link(server: &Server, owner: &str, user: i64) -> String {
    let page = post_form(
        server,
        &format!("/console/users/{user}/password-link"),
        Some(owner),
        &[],
    )
    .await;
    let html = page.text().await.unwrap();
    let start = html.find("/password/").expect("a set-password link");
    let token: String = html[start + "/password/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    server.url(&format!("/password/{token}"))
}

/// Runs the script, restarting the server each time it prints `RESTART` (and telling it
/// `restarted`); returns its JSON report.
async fn run_script(server: &mut Server, mut node: std::process::Command) -> Value {
    node.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = node.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut report = None;
    let mut restarts = 0;
    while let Some(line) = lines.recv().await {
        if line == "RESTART" {
            server.restart().await;
            restarts += 1;
            writeln!(stdin, "restarted").unwrap();
        } else if line.starts_with('{') {
            report = Some(line);
        } else {
            eprintln!("inbox.mjs: {line}");
        }
    }
    drop(stdin);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "inbox.mjs ended with {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(restarts, 1, "the script asked for one restart");
    let report: Value = serde_json::from_str(&report.expect("a JSON report")).unwrap();
    eprintln!("inbox.mjs: {report:#}");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_reaches_the_inbox_live_and_both_sides_survive_a_restart() {
    let Some(browser) = browser_or_skip(&["playwright-core", "@axe-core/playwright"]) else {
        return;
    };
    let mut server = Server::start(Backend::Sqlite).await;
    // Ann and Ben, the destination, are away: handoffs wait in Unassigned for a claim.
    let (ann, ann_token) = server.agent("Ann", 3).await;
    let (ben, ben_token) = server.agent("Ben", 3).await;
    server.route_to("live", &[ann, ben], &[]).await;
    server.set_availability(&ann_token, ann, "away").await;
    server.set_availability(&ben_token, ben, "away").await;
    let owner = signed_in_owner(&server).await;
    let ann_link = password_link(&server, &owner, ann).await;
    let ben_link = password_link(&server, &owner, ben).await;
    assert_ne!(ann_link, ben_link);

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    let mut node = browser.node("inbox.mjs");
    node.args([
        server.base.as_str(),
        server.token.as_str(),
        shots.to_str().unwrap(),
        &ann_link,
        "ann@e2e.example",
        &ben_link,
        "ben@e2e.example",
    ]);
    let report = run_script(&mut server, node).await;

    // 1. Live, badged, pinned; claimed, answered, handed back.
    assert_eq!(report["not_reloaded"], true, "{report:#}");
    assert_eq!(report["badge_title"], "(1) Inbox · Baton", "{report:#}");
    let first = report["first"].as_i64().unwrap();
    assert_eq!(report["focused"], format!("Visitor #{first}"), "{report:#}");
    let pinned = &report["pinned"];
    assert_eq!(pinned["Reason"], "asks for human", "{report:#}");
    assert_eq!(pinned["Matched text"], "talk to a human", "{report:#}");
    assert_eq!(pinned["Channel"], "chat", "{report:#}");
    // The widget sends no name or email.
    assert_eq!(pinned["Visitor"], "Not given", "{report:#}");
    assert_eq!(pinned["Email"], "Not given", "{report:#}");
    assert_eq!(report["pinned_above_transcript"], true, "{report:#}");
    assert!(
        report["summary"].as_str().unwrap().starts_with("Summary"),
        "{report:#}"
    );
    assert_eq!(report["joined_before_reload"], 1, "{report:#}");
    assert_eq!(
        report["joined_after_reload"], 1,
        "the join shows once after a reload: {report:#}"
    );
    // In its place, before the reply, not announced again at the end.
    assert_eq!(
        report["log_after_reload"], report["log_before_reload"],
        "{report:#}"
    );
    assert_eq!(
        report["log_before_reload"][2], "Ann joined the conversation",
        "{report:#}"
    );
    assert!(
        report["handback_notice"]
            .as_str()
            .unwrap()
            .contains("assistant again"),
        "{report:#}"
    );
    assert_eq!(report["answer"][0], "agent", "{report:#}");
    assert!(
        report["answer"][1]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("ship"),
        "{report:#}"
    );
    let conversation = server.conversation(first).await;
    assert_eq!(conversation["assignee"]["kind"], "agent", "{conversation}");
    let stored = server
        .get_ok(&format!("/api/v1/conversations/{first}/messages"))
        .await;
    assert!(
        stored["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["author"] == "user" && m["text"] == "Hello, Ann here. How can I help?"),
        "{stored}"
    );

    // 2. Exactly one claim won; the other was told who.
    let second = report["second"].as_i64().unwrap();
    let (winner, winner_id) = match report["winner"].as_str().unwrap() {
        "Ann" => ("Ann", ann),
        _ => ("Ben", ben),
    };
    let lost: Vec<&Value> = report["race"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["lost"].is_null())
        .collect();
    assert_eq!(lost.len(), 1, "{report:#}");
    assert_eq!(
        lost[0]["lost"],
        format!("Already taken by {winner}."),
        "{report:#}"
    );
    let held = server.conversation(second).await;
    assert_eq!(held["assignee"]["user_id"], winner_id, "{held}");

    // 3. After the restart both sides show every stored message exactly once.
    let restart = &report["restart"];
    assert_eq!(restart["widget"], restart["widget_expected"], "{report:#}");
    assert_eq!(restart["inbox"], restart["inbox_expected"], "{report:#}");
    assert_eq!(restart["joined"], 1, "{report:#}");
    let texts: Vec<&str> = restart["inbox_expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[1].as_str().unwrap())
        .collect();
    for text in [
        "Are you still there?",
        "Yes, still here after the blip.",
        "Great, thanks.",
    ] {
        assert_eq!(
            texts.iter().filter(|t| **t == text).count(),
            1,
            "{text:?} stored once: {texts:?}"
        );
    }

    // 4. Process none: no choice, the plain composer.
    assert_eq!(report["options"]["visitor_choice"], false, "{report:#}");
    assert_eq!(
        report["no_choice"],
        json!({"person": false, "assistant": false, "composer": true}),
        "{report:#}"
    );

    // 5. axe-core clean and no horizontal overflow at 375 px on every state reached.
    for (state, violations) in report["axe"].as_object().unwrap() {
        assert_eq!(violations, &json!([]), "axe on {state}: {report:#}");
    }
    for (state, at) in report["overflow"].as_object().unwrap() {
        assert!(
            at["scroll"].as_i64().unwrap() <= at["client"].as_i64().unwrap(),
            "{state} overflows at 375 px: {report:#}"
        );
    }
    assert_eq!(report["errors"], json!([]), "{report:#}");
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
}
