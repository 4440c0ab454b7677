//! What hands a conversation off: default triggers, the paused agent, custom triggers, and
//! the side-effect-free simulate call.

#![allow(clippy::unwrap_used)]

use baton_e2e::{AVAILABLE_MSG, Server, StatusCode, scenarios};
use serde_json::{Value, json};

scenarios!(
    paused_agent_hands_off,
    default_triggers_and_live_settings,
    simulate_explains_without_side_effects,
);

const SHIPPING_QUESTION: &str = "How long does shipping take?";

/// Sends `text` in a new conversation and returns the handoff reason kind, or `None` when
/// the agent answered (asserting then that nothing was handed off).
async fn outcome(server: &Server, text: &str) -> Option<String> {
    let visitor = server.visitor().await;
    let replies = visitor.say(text).await;
    assert_eq!(replies.len(), 1, "one reply to {text:?}: {replies:?}");
    let conversation = visitor.conversation().await;
    match replies[0]["author"].as_str() {
        Some("agent") => {
            assert!(
                conversation["handoff"].is_null(),
                "agent answered {text:?} but: {conversation}"
            );
            None
        }
        Some("system") => {
            assert_eq!(replies[0]["text"], AVAILABLE_MSG, "reply to {text:?}");
            let kind = conversation["handoff"]["reason"]["kind"].as_str();
            Some(
                kind.unwrap_or_else(|| panic!("no handoff reason for {text:?}: {conversation}"))
                    .to_owned(),
            )
        }
        other => panic!("unexpected reply author {other:?} to {text:?}: {replies:?}"),
    }
}

async fn agent_answer(server: &Server, text: &str) -> String {
    let visitor = server.visitor().await;
    let replies = visitor.say(text).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(
        replies[0]["author"], "agent",
        "reply to {text:?}: {replies:?}"
    );
    replies[0]["text"].as_str().unwrap().to_owned()
}

async fn paused_agent_hands_off(server: &Server) {
    let (fay, _) = server.agent("Fay", 10).await;
    server.route_to("live", &[fay], &[]).await;

    let (status, state) = server
        .put("/api/v1/agent/state", json!({"paused": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(server.get_ok("/api/v1/agent/state").await["paused"], true);
    assert_eq!(
        outcome(server, SHIPPING_QUESTION).await.as_deref(),
        Some("agent_paused")
    );

    let (status, _) = server
        .put("/api/v1/agent/state", json!({"paused": false}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server.get_ok("/api/v1/agent/state").await["paused"], false);
    let answer = agent_answer(server, SHIPPING_QUESTION).await;
    assert!(answer.contains("2 business days"), "answer: {answer}");
}

async fn default_triggers_and_live_settings(server: &Server) {
    let (gus, _) = server.agent("Gus", 20).await;
    let settings = server.route_to("live", &[gus], &[]).await;

    let swallow = "What is the airspeed of an unladen swallow?";
    assert_eq!(
        outcome(server, swallow).await.as_deref(),
        Some("cannot_answer")
    );
    for text in [
        "Can I talk to a real person please?",
        "vorrei parlare con un operatore",
    ] {
        assert_eq!(
            outcome(server, text).await.as_deref(),
            Some("asks_for_human"),
            "{text}"
        );
    }
    // Switching default triggers off takes effect at once, without a restart.
    let mut off = settings.clone();
    off["default_triggers"]["cannot_answer"] = json!(false);
    let saved = server.put_settings(off.clone()).await;
    assert_eq!(saved["default_triggers"]["cannot_answer"], false);
    assert_eq!(outcome(server, swallow).await, None, "cannot_answer is off");
    assert_eq!(
        outcome(server, "Can I talk to a real person please?")
            .await
            .as_deref(),
        Some("asks_for_human")
    );

    off["default_triggers"]["asks_for_human"] = json!(false);
    server.put_settings(off).await;
    assert_eq!(
        outcome(server, "Can I talk to a real person please?").await,
        None,
        "asks_for_human and cannot_answer are off"
    );

    // And back on.
    server.put_settings(settings).await;
    assert_eq!(
        outcome(server, swallow).await.as_deref(),
        Some("cannot_answer")
    );

    // Merely mentioning humans is not asking for one.
    let mention = "I work in human resources, how long does shipping take?";
    assert_eq!(outcome(server, mention).await, None, "{mention}");
    let answer = agent_answer(server, mention).await;
    assert!(answer.contains("2 business days"), "answer: {answer}");
}

/// The `[start, end)` span of `word` in `text`, counted in Unicode scalar values.
fn char_span(text: &str, word: &str) -> Value {
    let byte = text.find(word).unwrap();
    let start = text[..byte].chars().count();
    json!([start, start + word.chars().count()])
}

async fn simulate(server: &Server, body: Value) -> Value {
    let (status, result) = server.post("/api/v1/handoff/simulate", body).await;
    assert_eq!(status, StatusCode::OK, "simulate: {result}");
    assert!(
        result["explanation"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "explanation: {result}"
    );
    result
}

async fn simulate_explains_without_side_effects(server: &Server) {
    let (hal, _) = server.agent("Hal", 10).await;
    server.route_to("live", &[hal], &["refund"]).await;
    // One real handoff so the views and the audit log are not trivially empty.
    server
        .visitor()
        .await
        .say_expect_handoff("refund my order")
        .await;
    let audit_before = server.audit(100).await;
    let conversations_before = server.view("all").await;

    for text in [
        "I want my money back, I was Refunded twice",
        "Perché… I want my money back, I was Refunded twice",
    ] {
        let result = simulate(server, json!({"channel": "chat", "text": text})).await;
        assert_eq!(result["handoff"], true, "{result}");
        assert_eq!(result["process"], "live", "{result}");
        assert_eq!(result["trigger"]["kind"], "custom", "{result}");
        assert_eq!(result["trigger"]["matched"], "refund", "{result}");
        assert_eq!(
            result["trigger"]["text_span"],
            char_span(text, "Refunded"),
            "span of \"Refunded\" in characters, for {text:?}: {result}"
        );
    }

    let paused = simulate(
        server,
        json!({"channel": "chat", "text": SHIPPING_QUESTION, "agent_paused": true}),
    )
    .await;
    assert_eq!(paused["handoff"], true, "{paused}");
    assert_eq!(paused["trigger"]["kind"], "agent_paused", "{paused}");

    let answered = simulate(
        server,
        json!({"channel": "chat", "text": SHIPPING_QUESTION}),
    )
    .await;
    assert_eq!(answered["handoff"], false, "{answered}");
    assert!(answered["trigger"].is_null(), "{answered}");

    let asks = simulate(
        server,
        json!({"channel": "chat", "text": "Can I talk to a real person please?"}),
    )
    .await;
    assert_eq!(asks["trigger"]["kind"], "asks_for_human", "{asks}");

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
    assert_eq!(
        server.get_ok("/api/v1/agent/state").await["paused"],
        false,
        "simulate with agent_paused must not pause the agent"
    );
}
