//! The LLM customer agent (`[agent] kind = "llm"`) through the real binary, against a
//! loopback OpenAI-compatible stub that records each request and answers from a script.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use baton_e2e::model::{ModelStub, Scripted};
use baton_e2e::{AVAILABLE_MSG, Backend, Process, Server, StatusCode, baton_command, random_hex};
use serde_json::{Value, json};

const MODEL: &str = "stub-model";
const SHIPPING_QUESTION: &str = "How long does shipping take?";
const STAFF_REPLY: &str = "Ann here: your refund is on its way.";

/// Each scenario gets a stub model and a server configured to use it, on SQLite and on
/// PostgreSQL.
macro_rules! llm_scenarios {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let model = ModelStub::start().await;
                    let server =
                        Server::start_with_config(Backend::Sqlite, model.config(super::MODEL))
                            .await;
                    super::$name(&server, &model).await;
                }
            )+
            use super::*;
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(url) = baton_e2e::postgres_url_or_skip() else { return };
                    let model = ModelStub::start().await;
                    let server =
                        Server::start_with_config(Backend::Postgres(url), model.config(super::MODEL))
                            .await;
                    super::$name(&server, &model).await;
                }
            )+
            use super::*;
        }
    };
}

llm_scenarios!(
    the_model_reads_passages_and_the_whole_transcript,
    every_model_failure_is_cannot_answer_then_a_live_handoff,
    simulate_asks_the_model_and_writes_nothing,
);

fn messages_of(request: &Value) -> Vec<(String, String)> {
    request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn the_model_reads_passages_and_the_whole_transcript(server: &Server, model: &ModelStub) {
    let (ann, ann_token) = server.agent("Ann", 5).await;
    server.route_to("live", &[ann], &["refund"]).await;

    // A custom trigger hands off before the model is asked; Ann answers, then hands back.
    let visitor = server.visitor().await;
    assert_eq!(
        visitor.say_expect_handoff("refund please").await,
        AVAILABLE_MSG
    );
    assert!(
        model.requests().is_empty(),
        "a trigger fired: no model call"
    );
    let (status, sent) = server
        .post_as(
            &ann_token,
            &format!("/api/v1/conversations/{}/messages", visitor.id),
            json!({"text": STAFF_REPLY}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let (status, body) = server
        .post_as(
            &ann_token,
            &format!("/api/v1/conversations/{}/handback", visitor.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    model.then(Scripted::Answer(
        "Orders ship within 2 business days.".into(),
    ));
    let replies = visitor.say(SHIPPING_QUESTION).await;
    assert_eq!(
        replies,
        vec![json!({"author": "agent", "text": "Orders ship within 2 business days."})]
    );

    let requests = model.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(
        request.authorization.as_deref(),
        Some("Bearer sk-e2e-secret")
    );
    let body = &request.body;
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["tool_choice"], "auto");
    assert_eq!(body["tools"][0]["function"]["name"], "handoff");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["required"],
        json!(["reason"])
    );
    let messages = messages_of(body);
    let (role, system) = &messages[0];
    assert_eq!(role, "system");
    assert!(
        system.contains("source: shipping.md\nOrders ship within 2 business days."),
        "the best passage with its source: {system}"
    );
    // The transcript in order, the staff turn from before the handback labelled.
    let turns: Vec<&(String, String)> = messages[1..].iter().collect();
    assert_eq!(turns[0], &("user".to_owned(), "refund please".to_owned()));
    assert_eq!(turns[1].0, "assistant");
    assert!(turns[1].1.contains(AVAILABLE_MSG), "{:?}", turns[1]);
    assert!(
        turns[1].1.contains(&format!("[Staff {ann}] {STAFF_REPLY}")),
        "{:?}",
        turns[1]
    );
    assert_eq!(
        turns.last().unwrap(),
        &&("user".to_owned(), SHIPPING_QUESTION.to_owned())
    );
    assert_eq!(turns.len(), 3, "{turns:?}");

    let logs = format!("{}{}", server.stdout(), server.stderr());
    assert!(!logs.contains("sk-e2e-secret"), "the API key was logged");
}

async fn every_model_failure_is_cannot_answer_then_a_live_handoff(
    server: &Server,
    model: &ModelStub,
) {
    let (ann, _) = server.agent("Ann", 20).await;
    server.route_to("live", &[ann], &[]).await;
    let passages = "passages: shipping.md";
    let cases = [
        (
            Scripted::Handoff("customs fees are not in the passages".into()),
            "asked for a person: customs fees are not in the passages",
        ),
        (
            Scripted::Hang(Duration::from_secs(3)),
            "did not answer within 1 s",
        ),
        (Scripted::Status(500), "answered HTTP 500"),
        (Scripted::Malformed, "returned malformed JSON"),
        (
            Scripted::BadArguments,
            "called handoff with bad arguments: arguments are not JSON",
        ),
    ];
    let mut draft = server.settings().await;
    draft.as_object_mut().unwrap().remove("version");
    draft["process"] = json!("none");
    for (step, reason) in cases {
        // The visitor is handed to Ann, under the cannot-answer trigger.
        model.then(step.clone());
        let visitor = server.visitor().await;
        assert_eq!(
            visitor.say_expect_handoff(SHIPPING_QUESTION).await,
            AVAILABLE_MSG,
            "{step:?}"
        );
        let conversation = visitor.conversation().await;
        assert_eq!(
            conversation["handoff"]["reason"]["kind"], "cannot_answer",
            "{step:?}: {conversation}"
        );
        assert_eq!(conversation["handoff"]["process"], "live", "{conversation}");
        assert_eq!(conversation["assignee"]["user_id"], ann, "{conversation}");
        // The handoff's explanation says what the model did, for staff to judge.
        let audit = server.get_ok("/api/v1/audit?kind=handoff&limit=1").await;
        let row = &audit["events"][0];
        assert_eq!(row["conversation_id"], visitor.id, "{audit}");
        assert!(
            row.to_string().contains(&format!("model {MODEL} {reason}")),
            "{step:?}: {row}"
        );

        // The same failure under process "none" keeps the conversation, and the
        // explanation says what the model did.
        model.then(step.clone());
        let (status, result) = server
            .post(
                "/api/v1/handoff/simulate",
                json!({"channel": "chat", "text": SHIPPING_QUESTION, "settings": draft}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{result}");
        let explanation = result["explanation"].as_str().unwrap();
        assert!(
            explanation.contains(&format!("model {MODEL} {reason}")),
            "{step:?}: {explanation}"
        );
        assert!(explanation.contains(passages), "{explanation}");
    }
    assert_eq!(model.requests().len(), 10);
}

async fn simulate_asks_the_model_and_writes_nothing(server: &Server, model: &ModelStub) {
    let (ann, _) = server.agent("Ann", 5).await;
    server.route_to("live", &[ann], &[]).await;
    let audit_before = server.audit(100).await;
    let conversations_before = server.view("all").await;

    model.then(Scripted::Answer("Two business days.".into()));
    let (status, answered) = server
        .post(
            "/api/v1/handoff/simulate",
            json!({"channel": "chat", "text": SHIPPING_QUESTION}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["handoff"], false, "{answered}");
    let explanation = answered["explanation"].as_str().unwrap();
    assert!(
        explanation.contains(&format!("model {MODEL}; passages: shipping.md")),
        "{explanation}"
    );

    model.then(Scripted::Handoff(
        "the visitor wants a refund exception".into(),
    ));
    let (status, handed) = server
        .post(
            "/api/v1/handoff/simulate",
            json!({"channel": "chat", "text": SHIPPING_QUESTION}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{handed}");
    assert_eq!(handed["handoff"], true, "{handed}");
    assert_eq!(handed["trigger"]["kind"], "cannot_answer", "{handed}");
    assert_eq!(handed["process"], "live", "{handed}");

    let mut draft = server.settings().await;
    draft.as_object_mut().unwrap().remove("version");
    draft["process"] = json!("none");
    model.then(Scripted::Handoff(
        "the visitor wants a refund exception".into(),
    ));
    let (status, kept) = server
        .post(
            "/api/v1/handoff/simulate",
            json!({"channel": "chat", "text": SHIPPING_QUESTION, "settings": draft}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    let explanation = kept["explanation"].as_str().unwrap();
    assert!(
        explanation.contains(&format!(
            "model {MODEL} asked for a person: the visitor wants a refund exception; \
             passages: shipping.md"
        )),
        "{explanation}"
    );

    assert_eq!(model.requests().len(), 3, "simulate asks the model");
    assert_eq!(
        server.audit(100).await,
        audit_before,
        "simulate wrote audit"
    );
    assert_eq!(
        server.view("all").await,
        conversations_before,
        "simulate changed conversations"
    );
}

/// The environment variable forms reach the same keys: the kind and base URL are read,
/// and the missing model stops the start, named by its key path.
#[test]
fn the_llm_agent_without_a_model_stops_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("kb")).unwrap();
    let mut cmd = baton_command(&["serve"]);
    cmd.current_dir(dir.path())
        .env("BATON_HTTP__ADDR", "127.0.0.1:0")
        .env(
            "BATON_DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display()),
        )
        .env("BATON_BOOTSTRAP_TOKEN", random_hex())
        .env("BATON_KB__DIR", dir.path().join("kb"))
        .env("BATON_AGENT__KIND", "llm")
        .env("BATON_AGENT__LLM__BASE_URL", "http://127.0.0.1:8081/v1")
        .env("BATON_AGENT__LLM__API_KEY", "sk-never-shown")
        .env("BATON_AGENT__LLM__TIMEOUT_SECONDS", "5")
        .env("RUST_LOG", "warn");
    let mut process = Process::spawn(cmd);
    let status = process
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("still running without a model:\n{}", process.stderr()));
    assert!(!status.success(), "exit status {status}");
    let stderr = process.stderr();
    assert!(
        stderr.contains("agent.llm.model"),
        "stderr does not name agent.llm.model:\n{stderr}"
    );
    assert!(!stderr.contains("sk-never-shown"), "{stderr}");
    assert!(!process.stdout().contains("Baton listening on"));
}
