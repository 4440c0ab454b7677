//! Handback (B14), reopen, the visitor's choice (B16) and the visitor's place in the queue
//! (B7), over HTTP on the real binary.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use baton_e2e::{
    AVAILABLE_MSG, Server, StatusCode, UNAVAILABLE_MSG, Visitor, assert_error, id_of, scenarios,
};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

scenarios!(
    handback_frees_capacity_drains_the_queue_and_the_agent_answers,
    closed_conversations_refuse_handback_and_reopen_to_the_agent,
    the_visitor_chooses_a_person_or_the_assistant,
    the_visitor_choice_setting_is_optional_and_offered,
    queue_positions_move_as_the_queue_is_served,
    concurrent_arrivals_get_distinct_positions,
    the_visitor_stream_carries_state_changes,
    a_closed_conversation_carries_on_in_a_linked_one,
);

const HANDBACK_MSG: &str = "You are talking to the assistant again.";

/// The visitor's view of their conversation.
async fn visitor_view(visitor: &Visitor<'_>) -> Value {
    let (status, body) = visitor
        .server
        .request(
            Method::GET,
            &format!("/api/v1/chat/conversations/{}", visitor.id),
            Some(&visitor.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "visitor view: {body}");
    body
}

/// The visitor's choice; returns the raw response.
async fn choose(visitor: &Visitor<'_>, talk_to: &str) -> (StatusCode, Value) {
    visitor
        .server
        .request(
            Method::POST,
            &format!("/api/v1/chat/conversations/{}/choice", visitor.id),
            Some(&visitor.token),
            Some(&json!({"talk_to": talk_to})),
        )
        .await
}

/// The visitor's choice, asserting 200; returns the replies.
async fn choose_ok(visitor: &Visitor<'_>, talk_to: &str) -> Vec<Value> {
    let (status, body) = choose(visitor, talk_to).await;
    assert_eq!(status, StatusCode::OK, "choice {talk_to}: {body}");
    body["replies"].as_array().unwrap().clone()
}

fn single_system_reply(replies: &[Value]) -> &str {
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["author"], "system", "{replies:?}");
    replies[0]["text"].as_str().unwrap()
}

async fn handback_as(server: &Server, token: &str, id: i64) -> (StatusCode, Value) {
    server
        .post_as(
            token,
            &format!("/api/v1/conversations/{id}/handback"),
            json!({}),
        )
        .await
}

async fn audit_of(server: &Server, kind: &str) -> Vec<Value> {
    let body = server
        .get_ok(&format!("/api/v1/audit?limit=50&kind={kind}"))
        .await;
    body["events"].as_array().unwrap().clone()
}

fn assignee(conversation: &Value) -> Option<i64> {
    (conversation["assignee"]["kind"] == "user")
        .then(|| conversation["assignee"]["user_id"].as_i64())
        .flatten()
}

async fn handback_frees_capacity_drains_the_queue_and_the_agent_answers(server: &Server) {
    let (ann, ann_token) = server.agent("Ann", 1).await;
    let (_, ben_token) = server.agent("Ben", 1).await;
    server.route_to("live", &[ann], &["refund"]).await;

    let held = server.visitor().await;
    assert_eq!(
        held.say_expect_handoff("refund please").await,
        AVAILABLE_MSG
    );
    let waiting = server.visitor().await;
    assert_eq!(
        waiting.say_expect_handoff("I want a refund").await,
        UNAVAILABLE_MSG
    );
    let view = visitor_view(&held).await;
    assert_eq!(view["assignee"], json!({"kind": "user", "name": "Ann"}));
    assert_eq!(view["queue_position"], Value::Null);
    assert_eq!(view["status"], "open");
    let view = visitor_view(&waiting).await;
    assert_eq!(view["assignee"], json!({"kind": "none"}));
    assert_eq!(view["queue_position"], 1);

    let (status, sent) = server
        .post_as(
            &ann_token,
            &format!("/api/v1/conversations/{}/messages", held.id),
            json!({"text": "Hi, Ann here. Your refund is on its way."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let mut events = server.events(&held, Some(id_of(&sent))).await;

    // Only the assignee or an admin hands back a conversation someone holds.
    assert_error(
        &handback_as(server, &ben_token, held.id).await,
        StatusCode::FORBIDDEN,
        None,
    );
    let (status, back) = handback_as(server, &ann_token, held.id).await;
    assert_eq!(status, StatusCode::OK, "handback: {back}");
    assert_eq!(back["assignee"]["kind"], "agent", "{back}");
    assert_eq!(back["status"], "open");
    assert_eq!(back["queued"], false);

    // The visitor is told, live.
    let event = events.next_message(Duration::from_secs(15)).await;
    assert_eq!(event.event, "message", "{event:?}");
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["author"], "system");
    assert_eq!(data["text"], HANDBACK_MSG);

    // Ann's freed capacity went to the waiting conversation.
    let w = &waiting;
    server
        .eventually("the waiting conversation to go to Ann", || async move {
            (assignee(&w.conversation().await) == Some(ann)).then_some(())
        })
        .await;
    assert_eq!(server.user(ann).await["open_conversations"], 1);
    let view = visitor_view(&waiting).await;
    assert_eq!(view["assignee"], json!({"kind": "user", "name": "Ann"}));
    assert_eq!(view["queue_position"], Value::Null);
    assert!(server.view("unassigned").await.is_empty());

    // The audit row names who handed back, and why.
    let audit = audit_of(server, "handed_back").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["actor_user_id"], ann);
    assert_eq!(audit[0]["conversation_id"], held.id);
    assert_eq!(audit[0]["detail"]["reason"], "staff");
    assert_eq!(audit[0]["detail"]["from_user_id"], ann);

    // The assistant answers the next question (not silent), with the whole transcript.
    let replies = held.say("How long does shipping take?").await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["author"], "agent", "{replies:?}");
    assert!(
        replies[0]["text"]
            .as_str()
            .unwrap()
            .contains("2 business days"),
        "{replies:?}"
    );
    let authors: Vec<String> = held
        .messages()
        .await
        .iter()
        .map(|m| m["author"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        authors,
        ["visitor", "system", "user", "system", "visitor", "agent"],
        "transcript"
    );
    assert_eq!(
        visitor_view(&held).await["assignee"],
        json!({"kind": "agent"})
    );

    // Handing back what the agent holds changes nothing.
    let (status, again) = handback_as(server, &ben_token, held.id).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(audit_of(server, "handed_back").await.len(), 1);

    // Counted, by reason.
    let (_, metrics) = server.get_text("/metrics").await;
    assert!(
        metrics.contains("baton_handbacks_total{reason=\"staff\"} 1"),
        "{metrics}"
    );
}

async fn closed_conversations_refuse_handback_and_reopen_to_the_agent(server: &Server) {
    let (ann, ann_token) = server.agent("Ann", 2).await;
    server.route_to("live", &[ann], &["refund"]).await;
    let visitor = server.visitor().await;
    assert_eq!(visitor.say_expect_handoff("refund").await, AVAILABLE_MSG);
    let path = |action: &str| format!("/api/v1/conversations/{}/{action}", visitor.id);

    // Reopening an open conversation is a conflict.
    assert_error(
        &server.post(&path("reopen"), json!({})).await,
        StatusCode::CONFLICT,
        None,
    );
    let (status, closed) = server.post_as(&ann_token, &path("close"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(server.user(ann).await["open_conversations"], 0);
    assert_error(
        &handback_as(server, &ann_token, visitor.id).await,
        StatusCode::CONFLICT,
        None,
    );
    assert_error(
        &choose(&visitor, "assistant").await,
        StatusCode::CONFLICT,
        None,
    );
    assert_error(&choose(&visitor, "human").await, StatusCode::CONFLICT, None);
    assert_eq!(visitor_view(&visitor).await["status"], "closed");

    let (status, reopened) = server.post_as(&ann_token, &path("reopen"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["status"], "open");
    assert_eq!(reopened["assignee"]["kind"], "agent");
    assert_eq!(server.user(ann).await["open_conversations"], 0);
    let audit = audit_of(server, "reopened").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["actor_user_id"], ann);
    assert_error(
        &server.post(&path("reopen"), json!({})).await,
        StatusCode::CONFLICT,
        None,
    );
    // The agent answers again; a new handoff routes afresh.
    let replies = visitor.say("How long does shipping take?").await;
    assert_eq!(replies[0]["author"], "agent", "{replies:?}");
    assert_eq!(
        visitor.say_expect_handoff("refund again").await,
        AVAILABLE_MSG
    );
    assert_eq!(assignee(&visitor.conversation().await), Some(ann));
    assert_eq!(server.user(ann).await["open_conversations"], 1);

    // Unknown conversations are 404.
    assert_error(
        &server
            .post("/api/v1/conversations/999999/handback", json!({}))
            .await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_error(
        &server
            .post("/api/v1/conversations/999999/reopen", json!({}))
            .await,
        StatusCode::NOT_FOUND,
        None,
    );
}

async fn the_visitor_chooses_a_person_or_the_assistant(server: &Server) {
    let (cat, _) = server.agent("Cat", 3).await;
    server.route_to("live", &[cat], &["refund"]).await;
    let visitor = server.visitor().await;

    // Up front: a person. A handoff like any other, with trigger kind visitor_choice.
    let replies = choose_ok(&visitor, "human").await;
    assert_eq!(single_system_reply(&replies), AVAILABLE_MSG);
    let conversation = visitor.conversation().await;
    assert_eq!(
        conversation["handoff"]["reason"]["kind"], "visitor_choice",
        "{conversation}"
    );
    assert_eq!(conversation["handoff"]["process"], "live");
    assert_eq!(assignee(&conversation), Some(cat));
    let handoffs = audit_of(server, "handoff").await;
    assert_eq!(handoffs[0]["detail"]["reason"]["kind"], "visitor_choice");
    // Chosen again: nothing more happens.
    assert!(choose_ok(&visitor, "human").await.is_empty());
    assert_eq!(server.user(cat).await["open_conversations"], 1);

    // Back to the assistant: a handback with reason visitor.
    let replies = choose_ok(&visitor, "assistant").await;
    assert_eq!(single_system_reply(&replies), HANDBACK_MSG);
    assert_eq!(visitor.conversation().await["assignee"]["kind"], "agent");
    assert_eq!(server.user(cat).await["open_conversations"], 0);
    let audit = audit_of(server, "handed_back").await;
    assert_eq!(audit[0]["detail"]["reason"], "visitor", "{audit:?}");
    assert_eq!(audit[0]["actor_user_id"], Value::Null);
    assert!(choose_ok(&visitor, "assistant").await.is_empty());
    let replies = visitor.say("How long does shipping take?").await;
    assert_eq!(replies[0]["author"], "agent", "{replies:?}");

    // Mid-conversation: a person again.
    let replies = choose_ok(&visitor, "human").await;
    assert_eq!(single_system_reply(&replies), AVAILABLE_MSG);
    assert_eq!(assignee(&visitor.conversation().await), Some(cat));
    let (_, metrics) = server.get_text("/metrics").await;
    assert!(
        metrics.contains("baton_handoffs_total{trigger=\"visitor_choice\",process=\"live\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("baton_handbacks_total{reason=\"visitor\"} 1"),
        "{metrics}"
    );

    // Bad input and another conversation's token.
    let (status, body) = visitor
        .server
        .request(
            Method::POST,
            &format!("/api/v1/chat/conversations/{}/choice", visitor.id),
            Some(&visitor.token),
            Some(&json!({"talk_to": "manager"})),
        )
        .await;
    assert_error(
        &(status, body),
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("talk_to"),
    );
    let other = server.visitor().await;
    let (status, body) = server
        .request(
            Method::POST,
            &format!("/api/v1/chat/conversations/{}/choice", visitor.id),
            Some(&other.token),
            Some(&json!({"talk_to": "human"})),
        )
        .await;
    assert_error(&(status, body), StatusCode::FORBIDDEN, None);

    // With process none nobody takes handoffs: choosing a person is refused.
    let mut settings = server.settings().await;
    settings["process"] = json!("none");
    server.put_settings(settings).await;
    let newcomer = server.visitor().await;
    assert_error(
        &choose(&newcomer, "human").await,
        StatusCode::CONFLICT,
        None,
    );
    assert_eq!(newcomer.conversation().await["assignee"]["kind"], "agent");
}

async fn the_visitor_choice_setting_is_optional_and_offered(server: &Server) {
    let (dan, dan_token) = server.agent("Dan", 1).await;
    // A document written for the older shape (no visitor_choice) is accepted.
    let settings = server.route_to("live", &[dan], &[]).await;
    assert_eq!(settings["visitor_choice"], false, "{settings}");
    let mut document = server.settings().await;
    assert_eq!(document["visitor_choice"], false, "{document}");
    document.as_object_mut().unwrap().remove("visitor_choice");
    let stored = server.put_settings(document.clone()).await;
    assert_eq!(stored["visitor_choice"], false);
    let visitor = server.visitor().await;
    let view = visitor_view(&visitor).await;
    assert_eq!(view["visitor_choice"], false, "{view}");
    assert_eq!(view["humans_available"], Value::Null, "{view}");

    // On: offered, with whether someone could take the conversation now.
    document["visitor_choice"] = json!(true);
    let stored = server.put_settings(document.clone()).await;
    assert_eq!(stored["visitor_choice"], true);
    assert_eq!(server.settings().await["visitor_choice"], true);
    let view = visitor_view(&visitor).await;
    assert_eq!(view["visitor_choice"], true, "{view}");
    assert_eq!(view["humans_available"], true, "{view}");
    server.set_availability(&dan_token, dan, "away").await;
    assert_eq!(visitor_view(&visitor).await["humans_available"], false);
    assert_eq!(
        single_system_reply(&choose_ok(&visitor, "human").await),
        UNAVAILABLE_MSG
    );
    let view = visitor_view(&visitor).await;
    assert_eq!(view["queue_position"], 1, "{view}");
    assert_eq!(view["humans_available"], Value::Null, "only while offered");

    // With the choice off and the "asks for a human" trigger off, visitors pick no person.
    document["visitor_choice"] = json!(false);
    document["default_triggers"]["asks_for_human"] = json!(false);
    server.put_settings(document.clone()).await;
    let quiet = server.visitor().await;
    assert_error(&choose(&quiet, "human").await, StatusCode::CONFLICT, None);
    // The choice on: allowed again, whatever the trigger.
    document["visitor_choice"] = json!(true);
    server.put_settings(document.clone()).await;
    assert_eq!(
        single_system_reply(&choose_ok(&quiet, "human").await),
        UNAVAILABLE_MSG
    );

    // Process none: not offered.
    document["process"] = json!("none");
    server.put_settings(document).await;
    let view = visitor_view(&server.visitor().await).await;
    assert_eq!(view["visitor_choice"], false, "{view}");
}

async fn queue_positions_move_as_the_queue_is_served(server: &Server) {
    let (eve, eve_token) = server.agent("Eve", 1).await;
    server.route_to("live", &[eve], &["refund"]).await;
    server.set_availability(&eve_token, eve, "away").await;
    let mut visitors = Vec::new();
    for _ in 0..3 {
        let visitor = server.visitor().await;
        assert_eq!(visitor.say_expect_handoff("refund").await, UNAVAILABLE_MSG);
        visitors.push(visitor);
    }
    for (i, visitor) in visitors.iter().enumerate() {
        let view = visitor_view(visitor).await;
        assert_eq!(view["queue_position"], i + 1, "{view}");
        assert_eq!(view["assignee"], json!({"kind": "none"}));
    }
    // Eve comes back and takes the first; the others move up.
    server.set_availability(&eve_token, eve, "available").await;
    let first = &visitors[0];
    server
        .eventually("Eve to take the first in the queue", || async move {
            (visitor_view(first).await["assignee"]["kind"] == "user").then_some(())
        })
        .await;
    let view = visitor_view(first).await;
    assert_eq!(view["assignee"], json!({"kind": "user", "name": "Eve"}));
    assert_eq!(view["queue_position"], Value::Null);
    assert_eq!(visitor_view(&visitors[1]).await["queue_position"], 1);
    assert_eq!(visitor_view(&visitors[2]).await["queue_position"], 2);
    // Leaving the queue for the assistant moves the ones behind up too.
    assert_eq!(
        single_system_reply(&choose_ok(&visitors[1], "assistant").await),
        HANDBACK_MSG
    );
    assert_eq!(
        visitor_view(&visitors[1]).await["queue_position"],
        Value::Null
    );
    assert_eq!(visitor_view(&visitors[2]).await["queue_position"], 1);
}

async fn concurrent_arrivals_get_distinct_positions(server: &Server) {
    let (fay, fay_token) = server.agent("Fay", 1).await;
    server.route_to("live", &[fay], &["refund"]).await;
    server.set_availability(&fay_token, fay, "away").await;
    let mut visitors = Vec::new();
    for _ in 0..20 {
        visitors.push(server.visitor().await);
    }
    // Half ask by message, half by choice, all at once.
    let replies = join_all(visitors.iter().enumerate().map(|(i, v)| async move {
        if i % 2 == 0 {
            v.say_expect_handoff("I would like a refund").await
        } else {
            single_system_reply(&choose_ok(v, "human").await).to_owned()
        }
    }))
    .await;
    assert!(replies.iter().all(|r| r == UNAVAILABLE_MSG), "{replies:?}");
    let views = join_all(visitors.iter().map(|v| visitor_view(v))).await;
    let positions: Vec<u64> = views
        .iter()
        .map(|v| v["queue_position"].as_u64().unwrap())
        .collect();
    let distinct: BTreeSet<u64> = positions.iter().copied().collect();
    assert_eq!(distinct, (1..=20).collect(), "positions: {positions:?}");
    // The unassigned view lists the queue in the same order.
    let queue: Vec<i64> = server.view("unassigned").await.iter().map(id_of).collect();
    let mut by_position: Vec<(u64, i64)> = positions
        .iter()
        .copied()
        .zip(visitors.iter().map(|v| v.id))
        .collect();
    by_position.sort_unstable();
    let ordered: Vec<i64> = by_position.iter().map(|(_, id)| *id).collect();
    assert_eq!(queue, ordered);
}

/// The next `state` event of a visitor stream, as JSON.
async fn next_state(events: &mut baton_e2e::EventStream) -> Value {
    let event = events.next_of("state", Duration::from_secs(15)).await;
    assert!(event.id.is_empty(), "state events carry no id: {event:?}");
    serde_json::from_str(&event.data).unwrap()
}

async fn the_visitor_stream_carries_state_changes(server: &Server) {
    let (eve, eve_token) = server.agent("Eve", 1).await;
    server.route_to("live", &[eve], &["refund"]).await;
    server.set_availability(&eve_token, eve, "away").await;
    let first = server.visitor().await;
    let second = server.visitor().await;
    let mut first_events = server.events(&first, None).await;
    let mut second_events = server.events(&second, None).await;
    // On connecting: the current state once.
    let fresh = json!({"status": "open", "assignee": {"kind": "agent"}, "queue_position": null});
    assert_eq!(next_state(&mut first_events).await, fresh);
    assert_eq!(next_state(&mut second_events).await, fresh);

    // Both queue: the handoff message, then the place in the queue.
    assert_eq!(first.say_expect_handoff("refund").await, UNAVAILABLE_MSG);
    let event = first_events.next(Duration::from_secs(15)).await;
    assert_eq!(
        event.event, "message",
        "the visitor's own message first: {event:?}"
    );
    let event = first_events.next(Duration::from_secs(15)).await;
    assert_eq!(
        event.event, "message",
        "then the handoff message: {event:?}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&event.data).unwrap()["text"],
        UNAVAILABLE_MSG
    );
    let waiting = json!({"status": "open", "assignee": {"kind": "none"}, "queue_position": 1});
    assert_eq!(next_state(&mut first_events).await, waiting);
    assert_eq!(second.say_expect_handoff("refund").await, UNAVAILABLE_MSG);
    assert_eq!(next_state(&mut second_events).await["queue_position"], 2);

    // Eve comes back and takes the first: the first is told who, the second moves up.
    server.set_availability(&eve_token, eve, "available").await;
    assert_eq!(
        next_state(&mut first_events).await,
        json!({"status": "open", "assignee": {"kind": "user", "name": "Eve"}, "queue_position": null})
    );
    assert_eq!(next_state(&mut second_events).await, waiting);

    // Eve hands the first back: the notice, then the assistant holds it.
    let (status, back) = handback_as(server, &eve_token, first.id).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    let (mut notice, mut state) = (None, None);
    while notice.is_none() || state.is_none() {
        let event = first_events.next(Duration::from_secs(15)).await;
        let data: Value = serde_json::from_str(&event.data).unwrap();
        match event.event.as_str() {
            "message" => notice = Some(data["text"].clone()),
            _ => state = Some(data),
        }
    }
    assert_eq!(notice.unwrap(), HANDBACK_MSG);
    assert_eq!(state.unwrap(), fresh);
    // Eve's freed capacity took the second.
    assert_eq!(
        next_state(&mut second_events).await["assignee"],
        json!({"kind": "user", "name": "Eve"})
    );

    // Staff close the second: the visitor's stream says so.
    let (status, closed) = server
        .post_as(
            &eve_token,
            &format!("/api/v1/conversations/{}/close", second.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(next_state(&mut second_events).await["status"], "closed");

    // A reconnect replays messages by id as before, then the current state once.
    let transcript = first.messages().await;
    let mut replay = server.events(&first, Some(id_of(&transcript[0]))).await;
    for expected in &transcript[1..] {
        let event = replay.next(Duration::from_secs(15)).await;
        assert_eq!(event.event, "message", "{event:?}");
        assert_eq!(event.id, id_of(expected).to_string(), "{event:?}");
    }
    let event = replay.next(Duration::from_secs(15)).await;
    assert_eq!(event.event, "state", "{event:?}");
    assert_eq!(serde_json::from_str::<Value>(&event.data).unwrap(), fresh);
}

async fn a_closed_conversation_carries_on_in_a_linked_one(server: &Server) {
    let (eve, eve_token) = server.agent("Eve", 1).await;
    server.route_to("live", &[eve], &["refund"]).await;
    let old = server.visitor().await;
    assert_eq!(old.say_expect_handoff("refund").await, AVAILABLE_MSG);
    let (status, closed) = server
        .post_as(
            &eve_token,
            &format!("/api/v1/conversations/{}/close", old.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let (status, _) = old.send("one more thing", None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Another conversation's token does not prove the old one.
    let other = server.visitor().await;
    let create = |previous: Value| async move {
        server
            .request(
                Method::POST,
                "/api/v1/chat/conversations",
                None,
                Some(&json!({"previous": previous})),
            )
            .await
    };
    assert_error(
        &create(json!({"id": old.id, "token": other.token})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("previous"),
    );
    assert_error(
        &create(json!({"id": 999_999, "token": old.token})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("previous"),
    );
    let (status, created) = create(json!({"id": old.id, "token": old.token})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let new = created["conversation_id"].as_i64().unwrap();
    let staff = server.conversation(new).await;
    assert_eq!(staff["previous_conversation_id"], old.id, "{staff}");
    // The same visitor: the details come from the earlier conversation.
    assert_eq!(staff["visitor"]["name"], "Ada Visitor", "{staff}");
    assert_eq!(staff["visitor"]["email"], "ada@visitor.example", "{staff}");
    assert_eq!(
        server.conversation(old.id).await["previous_conversation_id"],
        Value::Null
    );
}
