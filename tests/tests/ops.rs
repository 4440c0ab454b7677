//! Operations: health, readiness, metrics, the OpenAPI document, and how the binary starts
//! from configuration (a bad key path stops it; an empty setup gets sensible defaults).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use baton_e2e::{
    Process, Server, StatusCode, baton_command, random_hex, run_to_success, scenarios,
};
use serde_json::Value;

scenarios!(health_metrics_and_openapi);

/// The sum of all samples of `name` (over every label set) in Prometheus text.
fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let metric = line.split(['{', ' ']).next().unwrap_or_default();
        if metric == name {
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            *found.get_or_insert(0.0) += value;
        }
    }
    found
}

/// Replaces every `{param}` by `{}` so `/users/{id}` matches `/users/{user_id}`.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

const CONTRACT_PATHS: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/users",
    "/api/v1/users/{id}",
    "/api/v1/users/{id}/tokens",
    "/api/v1/users/{id}/capacity",
    "/api/v1/users/{id}/availability",
    "/api/v1/teams",
    "/api/v1/inboxes",
    "/api/v1/handoff/settings",
    "/api/v1/handoff/simulate",
    "/api/v1/agent/state",
    "/api/v1/chat/conversations",
    "/api/v1/chat/conversations/{id}/messages",
    "/api/v1/chat/conversations/{id}/events",
    "/api/v1/chat/conversations/{id}",
    "/api/v1/chat/conversations/{id}/choice",
    "/api/v1/conversations",
    "/api/v1/conversations/{id}",
    "/api/v1/conversations/{id}/claim",
    "/api/v1/conversations/{id}/messages",
    "/api/v1/conversations/{id}/close",
    "/api/v1/conversations/{id}/handback",
    "/api/v1/conversations/{id}/reopen",
    "/api/v1/audit",
    "/api/v1/plugins",
    "/webhooks/{name}",
];

async fn health_metrics_and_openapi(server: &Server) {
    assert_eq!(server.get_text("/healthz").await.0, StatusCode::OK);
    assert_eq!(server.get_text("/readyz").await.0, StatusCode::OK);

    // Counters with labels may appear only once observed: absent counts as 0 before.
    let (status, metrics) = server.get_text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let before = metric_sum(&metrics, "baton_handoffs_total").unwrap_or(0.0);

    let (pat, _) = server.agent("Pat", 5).await;
    server.route_to("live", &[pat], &["refund"]).await;
    server
        .visitor()
        .await
        .say_expect_handoff("refund please")
        .await;
    let metrics = server
        .eventually("baton_handoffs_total to increase", || async move {
            let (_, metrics) = server.get_text("/metrics").await;
            let now = metric_sum(&metrics, "baton_handoffs_total").unwrap_or(0.0);
            (now >= before + 1.0).then_some(metrics)
        })
        .await;
    for name in [
        "baton_messages_ingested_total",
        "baton_handoffs_total",
        "baton_assignment_latency_seconds",
        "baton_queue_length",
        "baton_handbacks_total",
        "baton_conversations_reopened_total",
    ] {
        assert!(
            metrics.contains(name),
            "{name} missing in /metrics:\n{metrics}"
        );
    }

    let (status, openapi) = server.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        openapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "openapi version: {}",
        openapi["openapi"]
    );
    let paths: Vec<String> = openapi["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in the OpenAPI document"))
        .keys()
        .map(|p| shape(p))
        .collect();
    let missing: Vec<&str> = CONTRACT_PATHS
        .iter()
        .copied()
        .filter(|p| !paths.contains(&shape(p)))
        .collect();
    assert!(
        missing.is_empty(),
        "paths missing from /openapi.json: {missing:?}"
    );
    // The visitor side of a handoff: the options before a conversation, the `state`
    // event of the stream, the link to an earlier conversation.
    assert!(paths.contains(&shape("/api/v1/chat/options")), "{paths:?}");
    let schemas = &openapi["components"]["schemas"];
    for (schema, field) in [
        ("VisitorState", "queue_position"),
        ("ChatOptions", "humans_available"),
        ("CreateConversation", "previous"),
        ("ConversationDto", "previous_conversation_id"),
    ] {
        assert!(
            schemas[schema]["properties"][field].is_object(),
            "{schema}.{field} missing from /openapi.json"
        );
    }
}

#[test]
fn an_invalid_address_stops_the_start_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = baton_command(&["serve"]);
    cmd.current_dir(dir.path())
        .env("BATON_HTTP__ADDR", "not-an-address")
        .env(
            "BATON_DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display()),
        )
        .env("BATON_BOOTSTRAP_TOKEN", random_hex())
        .env("RUST_LOG", "warn");
    let mut process = Process::spawn(cmd);
    let status = process
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("still running with a bad address:\n{}", process.stderr()));
    assert!(!status.success(), "exit status {status}");
    let stderr = process.stderr();
    assert!(
        stderr.contains("http.addr"),
        "stderr does not name http.addr:\n{stderr}"
    );
    assert!(
        !process.stdout().contains("Baton listening on"),
        "it must not listen"
    );
}

/// Words of the output that could be a token: long runs of token characters.
fn token_candidates(output: &str) -> Vec<String> {
    let mut words: Vec<String> = output
        .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.~+/=".contains(c)))
        .map(|w| w.trim_matches(|c: char| ".=/".contains(c)).to_owned())
        .filter(|w| w.len() >= 16 && !w.contains("//") && !w.starts_with("api/"))
        .collect();
    words.dedup();
    words
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_setup_starts_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    let mut cmd = baton_command(&["serve"]);
    cmd.env_clear().current_dir(dir.path());
    // The default address is 127.0.0.1:8080. When something else holds it, the start must
    // fail naming the key to change instead.
    if std::net::TcpListener::bind("127.0.0.1:8080").is_err() {
        let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "started on a taken port: {stderr}"
        );
        assert!(stderr.contains("127.0.0.1:8080 (http.addr)"), "{stderr}");
        return;
    }
    let (process, line) = tokio::task::spawn_blocking(move || {
        let mut process = Process::spawn(cmd);
        let line = process.wait_for_line("Baton listening on ", Duration::from_secs(60));
        (process, line)
    })
    .await
    .unwrap();
    let line = line.unwrap_or_else(|e| panic!("did not start with defaults: {e}"));
    let base = line["Baton listening on ".len()..]
        .trim()
        .trim_end_matches('/')
        .to_owned();
    assert!(base.starts_with("http://"), "{line}");
    assert!(
        dir.path().join("data").join("baton.db").is_file(),
        "./data/baton.db was not created"
    );

    // The owner token and a curl example are printed once (stdout or log).
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let output = loop {
        let output = format!("{}\n{}", process.stdout(), process.stderr());
        if output.contains("curl ") || std::time::Instant::now() > deadline {
            break output;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        output.contains("curl "),
        "no curl example printed:\n{output}"
    );
    let mut owner_token = None;
    for candidate in token_candidates(&output).into_iter().take(100) {
        let resp = client
            .get(format!("{base}/api/v1/users/1"))
            .bearer_auth(&candidate)
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::OK {
            let user: Value = resp.json().await.unwrap();
            owner_token = Some((candidate, user));
            break;
        }
    }
    let (_, owner) = owner_token
        .unwrap_or_else(|| panic!("no printed word works as the owner token:\n{output}"));
    assert_eq!(owner["seat"], "service", "{owner}");
    let permissions = owner["permissions"].to_string();
    assert!(permissions.contains("admin"), "{owner}");
    assert!(permissions.contains("customer_agent_editor"), "{owner}");
}

/// `baton simulate` prints the decision of the stored settings and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulate_command_reads_the_stored_settings() {
    let server = Server::start(baton_e2e::Backend::Sqlite).await;
    let (agent, _) = server.agent("Ann", 3).await;
    server.route_to("live", &[agent], &["refund"]).await;
    let audit_before = server.audit(100).await.len();
    let db = format!(
        "sqlite://{}?mode=rwc",
        server.dir.join("baton.db").display()
    );
    let kb = server.dir.join("kb");
    let mut cmd = baton_command(&["simulate", "I was refunded twice"]);
    cmd.env("BATON_DATABASE__URL", db)
        .env("BATON_KB__DIR", kb)
        .env("RUST_LOG", "warn");
    let stdout = run_to_success(cmd).await;
    assert!(
        stdout
            .contains("Handoff (live) because the message contains the custom trigger \"refund\""),
        "{stdout}"
    );
    assert_eq!(
        server.audit(100).await.len(),
        audit_before,
        "simulate wrote to the audit log"
    );
    assert!(
        server.view("all").await.is_empty(),
        "simulate created a conversation"
    );
}
