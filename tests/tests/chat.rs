//! The visitor side of web chat: idempotent message posts, also under concurrency.

#![allow(clippy::unwrap_used)]

use baton_e2e::{Server, StatusCode, scenarios};
use futures_util::future::join_all;

scenarios!(repeated_client_message_id_stores_once);

async fn repeated_client_message_id_stores_once(server: &Server) {
    let visitor = server.visitor().await;
    let text = "How long does shipping take?";

    let first = visitor.send(text, Some("msg-1")).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let replies = first.1["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["author"], "agent");
    let after_first = visitor.messages().await;
    assert_eq!(after_first.len(), 2, "visitor + agent: {after_first:?}");

    let again = visitor.send(text, Some("msg-1")).await;
    assert_eq!(again, first, "a repeat returns exactly the first replies");
    assert_eq!(
        visitor.messages().await,
        after_first,
        "a repeat stores nothing"
    );

    // Ten identical posts at once: one visitor message, ten identical answers.
    let text2 = "And how long does delivery in Europe take?";
    let answers = join_all((0..10).map(|_| visitor.send(text2, Some("msg-2")))).await;
    for answer in &answers {
        assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
        assert_eq!(answer, &answers[0], "all concurrent repeats agree");
    }
    let messages = visitor.messages().await;
    let stored = messages
        .iter()
        .filter(|m| m["author"] == "visitor" && m["text"] == text2)
        .count();
    assert_eq!(stored, 1, "{messages:?}");
    let reply_count = answers[0].1["replies"].as_array().unwrap().len();
    assert_eq!(
        messages.len(),
        after_first.len() + 1 + reply_count,
        "{messages:?}"
    );

    // Oldest first, with distinct ids.
    let ids: Vec<i64> = messages.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "message ids ascending and unique");
    for message in &messages {
        assert!(message["created_at"].is_string(), "{message}");
    }

    // A new client_message_id is a new message, even with the same text.
    let third = visitor.send(text, Some("msg-3")).await;
    assert_eq!(third.0, StatusCode::OK);
    assert_eq!(visitor.messages().await.len(), messages.len() + 2);
}
