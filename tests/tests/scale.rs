//! Three `baton` processes on one PostgreSQL database behave as one system under load:
//! 1,000 concurrent handoffs spread across the hosts onto 20 users of capacity 5, with
//! users going away and coming back during the run.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_e2e::{Backend, Server, StatusCode, postgres_url_or_skip};
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::Value;
use tokio::sync::Notify;

const HANDOFFS: usize = 1_000;
const USERS: usize = 20;
const CAPACITY: i64 = 5;
const IN_FLIGHT: usize = 48;

/// Conversation ids of the `assigned` events a host's staff stream delivered.
type Seen = Arc<Mutex<BTreeSet<i64>>>;

/// Follows a host's staff event stream until `stop`, recording assigned conversations.
async fn watch(server: &Server, stop: Arc<Notify>) -> (Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let mut events = server.sse("/api/v1/events", &server.token, None).await;
    let record = seen.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.notified() => return,
                event = events.next(Duration::from_secs(120)) => {
                    if event.event == "assigned" {
                        let data: Value = serde_json::from_str(&event.data).unwrap();
                        record.lock().unwrap().insert(data["conversation_id"].as_i64().unwrap());
                    }
                }
            }
        }
    });
    (seen, task)
}

/// Every audit event, oldest first (paging with `before`).
async fn whole_audit_log(server: &Server) -> Vec<Value> {
    let mut events = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(id) => format!("/api/v1/audit?limit=1000&before={id}"),
            None => "/api/v1/audit?limit=1000".to_owned(),
        };
        let page = server.get_ok(&path).await["events"]
            .as_array()
            .unwrap()
            .clone();
        let Some(last) = page.last() else { break };
        before = last["id"].as_i64();
        events.extend(page);
    }
    events.reverse();
    events
}

/// Replays the audit log, checking every user's load after every event; returns the
/// final loads.
fn replay_loads(log: &[Value]) -> BTreeMap<i64, i64> {
    let mut load: BTreeMap<i64, i64> = BTreeMap::new();
    for event in log {
        let d = &event["detail"];
        let mut change = |user: &Value, by: i64| {
            if let Some(user) = user.as_i64() {
                let entry = load.entry(user).or_default();
                *entry += by;
                assert!(
                    (0..=CAPACITY).contains(entry),
                    "user {user} at {entry} after audit event {event}"
                );
            }
        };
        match event["kind"].as_str().unwrap() {
            "handoff" | "assignment" => {
                change(&d["from_user_id"], -1);
                change(&d["assignee_user_id"], 1);
            }
            "rerouted" => {
                change(&d["from_user_id"], -1);
                change(&d["assignee_user_id"], 1);
            }
            "requeued" => change(&d["from_user_id"], -1),
            "closed" => change(&d["released_user_id"], -1),
            _ => {}
        }
    }
    load
}

async fn all_conversations(server: &Server) -> Vec<Value> {
    server
        .get_ok("/api/v1/conversations?view=all&limit=1000")
        .await["conversations"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_handoffs_on_three_hosts_keep_every_invariant() {
    let Some(url) = postgres_url_or_skip() else {
        return;
    };
    let a = Server::start(Backend::Postgres(url)).await;
    let b = a.start_peer().await;
    let c = a.start_peer().await;
    let hosts = [&a, &b, &c];

    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(a.agent(&format!("agent {i}"), CAPACITY as u32).await);
    }
    let ids: Vec<i64> = users.iter().map(|(id, _)| *id).collect();
    a.route_to("live", &ids, &["refund"]).await;

    let stop = Arc::new(Notify::new());
    let mut watchers = Vec::new();
    for host in hosts {
        watchers.push(watch(host, stop.clone()).await);
    }

    // The run: handoffs through all three hosts while users step away and come back.
    let handoffs = stream::iter(0..HANDOFFS)
        .map(|i| async move {
            let host = hosts[i % 3];
            let visitor = host.visitor().await;
            visitor.say_expect_handoff("I want a refund").await;
            (i % 3, visitor.id)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>();
    let churn = async {
        for k in 0..30 {
            let (id, token) = &users[(k * 7) % USERS];
            let host = hosts[k % 3];
            host.set_availability(token, *id, "away").await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            hosts[(k + 1) % 3]
                .set_availability(token, *id, "available")
                .await;
        }
    };
    let (sent, ()) = tokio::join!(handoffs, churn);
    assert_eq!(sent.len(), HANDOFFS);
    for (id, token) in &users {
        a.set_availability(token, *id, "available").await;
    }

    // Every conversation is assigned or queued, never both; capacity is used to the full.
    let conversations = all_conversations(&a).await;
    assert_eq!(conversations.len(), HANDOFFS);
    let mut held: BTreeMap<i64, i64> = BTreeMap::new();
    for conversation in &conversations {
        match (
            conversation["assignee"]["kind"].as_str(),
            conversation["queued"].as_bool(),
        ) {
            (Some("user"), Some(false)) => {
                *held
                    .entry(conversation["assignee"]["user_id"].as_i64().unwrap())
                    .or_default() += 1;
            }
            (Some("none"), Some(true)) => {}
            other => panic!("neither assigned nor queued: {other:?} {conversation}"),
        }
    }
    let users_now = a.get_ok("/api/v1/users").await["users"]
        .as_array()
        .unwrap()
        .clone();
    for user in users_now
        .iter()
        .filter(|u| ids.contains(&u["id"].as_i64().unwrap()))
    {
        let id = user["id"].as_i64().unwrap();
        assert_eq!(
            user["open_conversations"].as_i64().unwrap(),
            held.get(&id).copied().unwrap_or(0),
            "user {id}: counter and conversations agree"
        );
        assert_eq!(held.get(&id).copied(), Some(CAPACITY), "user {id} is full");
    }

    // Nobody was ever over capacity: the audit log, replayed in order, says so.
    let log = whole_audit_log(&a).await;
    let loads = replay_loads(&log);
    for (id, load) in &loads {
        assert_eq!(
            Some(*load),
            held.get(id).copied().or(Some(0)),
            "replayed load of {id}"
        );
    }

    // Capacity freed on one host drains the queue, oldest first, from any host.
    let queued_before = a
        .get_ok("/api/v1/conversations?view=unassigned&limit=1000")
        .await["conversations"]
        .as_array()
        .unwrap()
        .len();
    for (k, (id, token)) in users.iter().take(6).enumerate() {
        let mine = hosts[k % 3]
            .get_as(token, "/api/v1/conversations?view=mine")
            .await
            .1["conversations"]
            .as_array()
            .unwrap()[0]["id"]
            .as_i64()
            .unwrap();
        let (status, body) = hosts[k % 3]
            .post_as(
                token,
                &format!("/api/v1/conversations/{mine}/close"),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "close by {id}: {body}");
    }
    let queued_after = a
        .get_ok("/api/v1/conversations?view=unassigned&limit=1000")
        .await["conversations"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        queued_after,
        queued_before - 6,
        "six closes, six taken from the queue"
    );

    // Each host's live stream saw assignments made through the other hosts.
    stop.notify_waiters();
    for (index, (seen, task)) in watchers.into_iter().enumerate() {
        task.abort();
        let seen = seen.lock().unwrap();
        let foreign = sent
            .iter()
            .filter(|(host, id)| *host != index && seen.contains(id))
            .count();
        assert!(
            foreign > 0,
            "host {index} saw no assignment made on another host"
        );
    }
}
