//! The webhook outbox against real databases, for the transitions only time causes:
//! a live conversation nobody answered moves on (`conversation.rerouted`) after a reply
//! timeout of at least 30 s, which the end-to-end tests cannot wait for. The pass is run
//! here with a clock past the timeout, and the rows are read the way the dispatcher
//! claims them. Likewise the history's retention, pruned here with a clock days ahead.

mod common;

use baton_core::decision::{HandoffProcess, Trigger};
use baton_core::ids::{ConversationId, InboxId, UserId};
use baton_core::people::{Availability, Permission, Seat};
use baton_core::settings::{Destination, HandoffSettings, Process};
use baton_engine::Store;
use baton_engine::model::{
    HandoffPlan, InboxKind, NewUser, Turn, TurnAction, Visitor, WebhookNext, WebhookOutcome,
};
use baton_store::SeaStore;
use chrono::{Duration, Utc};
use common::Db;
use serde_json::{Value, json};

on_both!(
    "hooks";
    a_reroute_and_a_requeue_are_events_in_sequence,
    history_past_the_retention_is_pruned_in_batches_and_pending_deliveries_stay,
);

async fn setup(store: &SeaStore) -> (UserId, Vec<UserId>, HandoffSettings) {
    let owner = store
        .bootstrap_owner("owner-token-hash")
        .await
        .expect("bootstrap")
        .expect("first start");
    let inbox = store
        .create_inbox("Support", InboxKind::Inbox)
        .await
        .expect("inbox");
    let mut users = Vec::new();
    for i in 0..2 {
        let user = store
            .create_user(NewUser {
                name: format!("user {i}"),
                email: format!("u{i}@example.com"),
                seat: Seat::Service,
                permissions: vec![Permission::CustomerAgentEditor],
                capacity: 5,
            })
            .await
            .expect("user");
        users.push(user.id);
    }
    let settings = HandoffSettings {
        process: Process::Live,
        destination: Some(Destination::UsersAndTeams {
            inbox_id: InboxId(inbox.id.0),
            user_ids: users.clone(),
            team_ids: Vec::new(),
            strategy: Default::default(),
        }),
        ..HandoffSettings::default()
    };
    let stored = store
        .put_settings(owner.id, settings, None, Utc::now())
        .await
        .expect("settings");
    (owner.id, users, stored.settings)
}

async fn hand_off(store: &SeaStore, settings: &HandoffSettings) -> ConversationId {
    let id = store
        .create_conversation("chat", Visitor::default(), "visitor-hash", Utc::now())
        .await
        .expect("conversation")
        .id;
    store
        .commit_turn(Turn {
            conversation_id: id,
            text: "refund please".into(),
            client_message_id: None,
            action: TurnAction::Handoff(Box::new(HandoffPlan {
                trigger: Trigger::Custom {
                    matched: "refund".into(),
                    span: 0..6,
                },
                process: HandoffProcess::Live,
                settings_version: 2,
                settings: std::sync::Arc::new(settings.clone()),
                explanation: "test".into(),
                summary: "summary".into(),
            })),
            now: Utc::now(),
        })
        .await
        .expect("turn");
    id
}

/// Subscribes `http://127.0.0.1:9/{path}` to `event`; its id.
async fn subscribe(store: &SeaStore, owner: UserId, path: &str, event: &str) -> i64 {
    store
        .create_webhook(
            &format!("http://127.0.0.1:9/{path}"),
            &[event.into()],
            "whsec_AAAA",
            owner,
            Utc::now(),
        )
        .await
        .expect("webhook")
        .id
}

/// Every due delivery, as (webhook id, parsed body), in outbox order.
async fn claim_all(store: &SeaStore) -> Vec<(i64, Value)> {
    let now = Utc::now() + Duration::days(1);
    let claimed = store
        .claim_webhook_deliveries(10_000, now, now + Duration::minutes(1))
        .await
        .expect("claim");
    claimed
        .into_iter()
        .map(|d| (d.webhook_id, serde_json::from_str(&d.body).expect("json")))
        .collect()
}

async fn a_reroute_and_a_requeue_are_events_in_sequence(db: Db) {
    let store = &db.store;
    let (owner, users, settings) = setup(store).await;
    let all = subscribe(store, owner, "all", "*").await;
    let moves_only = subscribe(store, owner, "moves", "conversation.rerouted").await;
    let id = hand_off(store, &settings).await;
    let first = store.conversation(id).await.expect("get");
    let baton_engine::model::Assignee::User(first_owner) = first.assignee else {
        panic!("not assigned: {first:?}");
    };
    let other = if first_owner == users[0] {
        users[1]
    } else {
        users[0]
    };

    let timeout = std::time::Duration::from_secs(300);
    let moves = store
        .reroute_unanswered(timeout, Utc::now() + Duration::seconds(301))
        .await
        .expect("reroute");
    assert_eq!(moves.len(), 1, "{moves:?}");
    // The new owner goes away before answering: back to the queue, and on.
    store
        .set_availability(other, Availability::Away, Utc::now())
        .await
        .expect("away");

    let claimed = claim_all(store).await;
    let mine: Vec<&Value> = claimed
        .iter()
        .filter(|(hook, _)| *hook == all)
        .map(|(_, body)| body)
        .filter(|b| b["data"]["conversation_id"] == json!(id.0))
        .collect();
    let types: Vec<&str> = mine
        .iter()
        .map(|b| b["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "conversation.created",
            "message.created",
            "message.created",
            "conversation.handoff",
            "conversation.assigned",
            "conversation.rerouted",
            "conversation.queued",
            // The queue drains at once to the first owner, still available.
            "conversation.assigned",
        ],
        "{mine:#?}"
    );
    let sequences: Vec<i64> = mine
        .iter()
        .map(|b| b["data"]["sequence"].as_i64().expect("sequence"))
        .collect();
    assert_eq!(sequences, (1..=8).collect::<Vec<_>>());
    let rerouted = mine[5];
    assert_eq!(
        rerouted["data"]["from_user_id"],
        json!(first_owner.0),
        "{rerouted}"
    );
    assert_eq!(
        rerouted["data"]["assignee_user_id"],
        json!(other.0),
        "{rerouted}"
    );
    assert!(
        rerouted["data"]["rule"]
            .as_str()
            .is_some_and(|r| r.contains("did not reply within 300 s")),
        "{rerouted}"
    );
    assert!(rerouted["data"]["actor_user_id"].is_null(), "{rerouted}");
    assert_eq!(
        mine[6]["data"]["from_user_id"],
        json!(other.0),
        "{}",
        mine[6]
    );
    assert_eq!(
        mine[7]["data"]["assignee_user_id"],
        json!(first_owner.0),
        "{}",
        mine[7]
    );

    // The endpoint subscribed to re-routes alone got that one event, with the same id.
    let moves_bodies: Vec<&Value> = claimed
        .iter()
        .filter(|(hook, _)| *hook == moves_only)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(moves_bodies, [rerouted]);
}

async fn history_past_the_retention_is_pruned_in_batches_and_pending_deliveries_stay(db: Db) {
    let store = &db.store;
    let (owner, _, settings) = setup(store).await;
    let hook = subscribe(store, owner, "all", "*").await;
    for _ in 0..3 {
        hand_off(store, &settings).await;
    }
    let now = Utc::now();
    let due = store
        .claim_webhook_deliveries(10_000, now, now + Duration::minutes(1))
        .await
        .expect("claim");
    assert!(due.len() >= 6, "{} deliveries", due.len());
    // All delivered but the last two: one given up on, one to be retried tomorrow.
    let outcomes: Vec<WebhookOutcome> = due
        .iter()
        .enumerate()
        .map(|(i, d)| WebhookOutcome {
            delivery_id: d.id,
            status: Some(200),
            error: None,
            next: match due.len() - i {
                1 => WebhookNext::RetryAt(now + Duration::days(1)),
                2 => WebhookNext::GiveUp,
                _ => WebhookNext::Delivered,
            },
            at: now,
        })
        .collect();
    store
        .record_webhook_attempts(&outcomes)
        .await
        .expect("record");
    let attempts = async || {
        store
            .webhook_attempts(hook, 10_000, None)
            .await
            .expect("attempts")
            .len()
    };
    assert_eq!(attempts().await, due.len());

    // Nothing is old yet.
    let yesterday = now - Duration::days(1);
    assert_eq!(
        store
            .prune_webhook_history(yesterday, 2)
            .await
            .expect("prune"),
        0
    );
    // A month on, in batches of two per table until nothing is left to prune.
    let later = now + Duration::days(31);
    let mut pruned = Vec::new();
    loop {
        let n = store.prune_webhook_history(later, 2).await.expect("prune");
        if n == 0 {
            break;
        }
        assert!(n <= 4, "a batch took {n} rows");
        pruned.push(n);
    }
    // Every attempt, and every delivery but the one still to be tried.
    assert_eq!(pruned.iter().sum::<u64>(), 2 * due.len() as u64 - 1);
    assert_eq!(attempts().await, 0);
    let retried = store
        .claim_webhook_deliveries(10_000, later, later + Duration::minutes(1))
        .await
        .expect("claim");
    assert_eq!(
        retried.iter().map(|d| d.id).collect::<Vec<_>>(),
        [due[due.len() - 1].id]
    );
}
