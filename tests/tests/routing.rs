//! Routing: capacity under concurrency, the queue, availability, draining, and async follow-up.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use baton_e2e::{AVAILABLE_MSG, Server, StatusCode, UNAVAILABLE_MSG, id_of, scenarios};
use futures_util::future::join_all;
use serde_json::{Value, json};

scenarios!(
    concurrent_handoffs_respect_capacity,
    unavailable_then_drained,
    async_follow_up_ignores_availability,
);

/// The user id a conversation is assigned to, if a human holds it.
fn assignee(conversation: &Value) -> Option<i64> {
    (conversation["assignee"]["kind"] == "user")
        .then(|| conversation["assignee"]["user_id"].as_i64())
        .flatten()
}

fn handoff_at(conversation: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let at = conversation["handoff"]["at"]
        .as_str()
        .unwrap_or_else(|| panic!("no handoff.at in {conversation}"));
    chrono::DateTime::parse_from_rfc3339(at).unwrap()
}

async fn concurrent_handoffs_respect_capacity(server: &Server) {
    let mut users = Vec::new();
    for name in ["Ann", "Ben", "Cat"] {
        users.push(server.agent(name, 3).await);
    }
    let ids: Vec<i64> = users.iter().map(|(id, _)| *id).collect();
    server.route_to("live", &ids, &["refund"]).await;

    let mut visitors = Vec::new();
    for _ in 0..50 {
        visitors.push(server.visitor().await);
    }
    let replies = join_all(
        visitors
            .iter()
            .map(|v| v.say_expect_handoff("I would like a refund for my order")),
    )
    .await;
    let reply_of: BTreeMap<i64, String> = visitors.iter().map(|v| v.id).zip(replies).collect();
    let available: BTreeSet<i64> = reply_of
        .iter()
        .filter(|(_, text)| *text == AVAILABLE_MSG)
        .map(|(id, _)| *id)
        .collect();
    let unavailable = reply_of.values().filter(|t| *t == UNAVAILABLE_MSG).count();
    assert_eq!(available.len(), 9, "available replies: {reply_of:?}");
    assert_eq!(unavailable, 41, "unavailable replies: {reply_of:?}");

    // Assignees as the conversations tell them.
    let all = server.view("all").await;
    let mut per_user: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for c in &all {
        if let Some(user) = assignee(c) {
            per_user.entry(user).or_default().push(id_of(c));
        }
    }
    let assigned: BTreeSet<i64> = per_user.values().flatten().copied().collect();
    assert_eq!(
        assigned, available,
        "assigned conversations = those told 'available'"
    );
    for id in &ids {
        assert_eq!(
            per_user.get(id).map(Vec::len),
            Some(3),
            "user {id} holds 3: {per_user:?}"
        );
    }
    assert_eq!(
        per_user.len(),
        3,
        "only destination users hold conversations"
    );

    // Assignees as the users tell them.
    let (status, body) = server.get("/api/v1/users").await;
    assert_eq!(status, StatusCode::OK);
    for user in body["users"].as_array().unwrap() {
        if ids.contains(&id_of(user)) {
            assert_eq!(user["open_conversations"], 3, "user: {user}");
            assert!(user["open_conversations"].as_i64() <= user["capacity"].as_i64());
        }
    }

    // The other 41 wait in the queue, oldest first.
    let queue = server.view("unassigned").await;
    assert_eq!(queue.len(), 41, "queue: {queue:?}");
    for c in &queue {
        assert_eq!(c["queued"], true, "queued: {c}");
        assert_eq!(assignee(c), None, "unassigned: {c}");
        assert_eq!(c["status"], "open");
        assert!(!available.contains(&id_of(c)));
    }
    for pair in queue.windows(2) {
        assert!(
            handoff_at(&pair[0]) <= handoff_at(&pair[1]),
            "queue oldest first: {} then {}",
            pair[0],
            pair[1]
        );
    }
    let oldest: BTreeSet<i64> = queue.iter().take(3).map(id_of).collect();

    // Ann closes her three: the three oldest queued conversations go to her.
    let (ann, ann_token) = &users[0];
    for id in &per_user[ann] {
        let (status, closed) = server
            .post_as(
                ann_token,
                &format!("/api/v1/conversations/{id}/close"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "close: {closed}");
        assert_eq!(closed["status"], "closed");
    }
    let now_ann: BTreeSet<i64> = server
        .eventually("Ann to hold 3 conversations again", || async move {
            let mine: BTreeSet<i64> = server
                .view("open")
                .await
                .iter()
                .filter(|c| assignee(c) == Some(*ann))
                .map(id_of)
                .collect();
            (mine.len() >= 3).then_some(mine)
        })
        .await;
    assert_eq!(
        now_ann, oldest,
        "Ann got the three oldest queued conversations"
    );
    assert_eq!(server.user(*ann).await["open_conversations"], 3);
    let queue = server.view("unassigned").await;
    assert_eq!(queue.len(), 38);
    for other in &ids[1..] {
        assert_eq!(server.user(*other).await["open_conversations"], 3);
    }

    // Raising Ben's capacity gives him the next oldest waiting conversation.
    let (ben, _) = &users[1];
    let next = id_of(&queue[0]);
    let (status, user) = server
        .put(
            &format!("/api/v1/users/{ben}/capacity"),
            json!({"capacity": 4}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["capacity"], 4);
    server
        .eventually("the next queued conversation to go to Ben", || async move {
            (assignee(&server.conversation(next).await) == Some(*ben)).then_some(())
        })
        .await;
    assert_eq!(server.user(*ben).await["open_conversations"], 4);
    assert_eq!(server.view("unassigned").await.len(), 37);
}

async fn unavailable_then_drained(server: &Server) {
    let (dan, dan_token) = server.agent("Dan", 5).await;
    let (eve, eve_token) = server.agent("Eve", 5).await;
    // Eve is routed to through her team.
    let team = server.create_team("Refunds", &[eve]).await;
    let teams = server.get_ok("/api/v1/teams").await;
    assert!(
        teams["teams"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| id_of(t) == team),
        "{teams}"
    );
    server
        .route_to_teams("live", &[dan], &[team], &["refund"])
        .await;
    let inboxes = server.get_ok("/api/v1/inboxes").await;
    assert!(
        !inboxes["inboxes"].as_array().unwrap().is_empty(),
        "{inboxes}"
    );
    server.set_availability(&dan_token, dan, "away").await;
    let eve_now = server.set_availability(&eve_token, eve, "away").await;
    assert_eq!(eve_now["availability"], "away");

    let visitor = server.visitor().await;
    let reply = visitor.say_expect_handoff("refund please").await;
    assert_eq!(reply, UNAVAILABLE_MSG);
    let queue = server.view("unassigned").await;
    assert_eq!(queue.len(), 1, "queue: {queue:?}");
    assert_eq!(id_of(&queue[0]), visitor.id);
    assert_eq!(queue[0]["queued"], true);

    // Eve comes back: the waiting conversation is hers.
    server.set_availability(&eve_token, eve, "available").await;
    let v = &visitor;
    server
        .eventually(
            "the queued conversation to be assigned to Eve",
            || async move { (assignee(&v.conversation().await) == Some(eve)).then_some(()) },
        )
        .await;
    assert!(server.view("unassigned").await.is_empty());
    let mine = server.view_as(&eve_token, "mine").await;
    assert_eq!(mine.iter().map(id_of).collect::<Vec<_>>(), vec![visitor.id]);

    // A human holds it: the bot stays silent.
    let replies = visitor.say("hello? anyone there?").await;
    assert_eq!(replies, Vec::<Value>::new());

    // Eve answers; the visitor sees it in the transcript and on the event stream.
    let last_id = id_of(visitor.messages().await.last().unwrap());
    let mut events = server.events(&visitor, Some(last_id)).await;
    let (status, sent) = server
        .post_as(
            &eve_token,
            &format!("/api/v1/conversations/{}/messages", visitor.id),
            json!({"text": "Hi, Eve here. Let me look at your refund."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "staff reply: {sent}");
    assert_eq!(sent["author"], "user");
    let event = events.next_message(Duration::from_secs(15)).await;
    assert_eq!(event.event, "message", "{event:?}");
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["text"], "Hi, Eve here. Let me look at your refund.");
    assert_eq!(data["author"], "user");
    assert_eq!(event.id, id_of(&data).to_string());

    let transcript = visitor.messages().await;
    let authors: Vec<&str> = transcript
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(
        authors,
        ["visitor", "system", "visitor", "user"],
        "{transcript:?}"
    );
    assert_eq!(
        transcript[3]["text"],
        "Hi, Eve here. Let me look at your refund."
    );

    // Replay: from the first message on, the later ones come again, in order.
    let first = id_of(&transcript[0]);
    let mut replay = server.events(&visitor, Some(first)).await;
    for expected in &transcript[1..] {
        let event = replay.next_message(Duration::from_secs(15)).await;
        assert_eq!(event.event, "message");
        assert_eq!(event.id, id_of(expected).to_string(), "{event:?}");
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["text"], expected["text"]);
    }
}

async fn async_follow_up_ignores_availability(server: &Server) {
    let (ola, ola_token) = server.agent("Ola", 1).await;
    let (pia, pia_token) = server.agent("Pia", 1).await;
    let nobody = server.create_user("Quinn", "none", &[], None).await;
    let team = server.create_team("Mixed", &[nobody, pia]).await;
    server
        .route_to_teams("async", &[ola], &[team], &["refund"])
        .await;
    server.set_availability(&ola_token, ola, "away").await;
    server.set_availability(&pia_token, pia, "away").await;

    // Nobody is available, yet each conversation gets a follow-up owner under capacity;
    // the unseated team member is never one.
    let mut owners = BTreeSet::new();
    for _ in 0..2 {
        let visitor = server.visitor().await;
        assert_eq!(visitor.say_expect_handoff("refund").await, UNAVAILABLE_MSG);
        let conversation = visitor.conversation().await;
        assert_eq!(
            conversation["handoff"]["process"], "async",
            "{conversation}"
        );
        owners
            .insert(assignee(&conversation).unwrap_or_else(|| panic!("no owner: {conversation}")));
    }
    assert_eq!(
        owners,
        BTreeSet::from([ola, pia]),
        "round robin over seated candidates"
    );
    assert!(server.view("unassigned").await.is_empty());

    // Everyone is at capacity: the next one waits in the queue.
    let waiting = server.visitor().await;
    assert_eq!(waiting.say_expect_handoff("refund").await, UNAVAILABLE_MSG);
    let queue = server.view("unassigned").await;
    assert_eq!(queue.iter().map(id_of).collect::<Vec<_>>(), [waiting.id]);
    assert_eq!(queue[0]["queued"], true);

    // With someone available the visitor is told so.
    server.set_availability(&pia_token, pia, "available").await;
    let told = server.visitor().await;
    assert_eq!(told.say_expect_handoff("refund").await, AVAILABLE_MSG);
    assert_eq!(server.user(nobody).await["open_conversations"], 0);
}
