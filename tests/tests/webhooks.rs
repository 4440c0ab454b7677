//! Outgoing webhooks (B15) through the real binary: every delivery a loopback receiver
//! gets is checked with the official Standard Webhooks verifier (the `standardwebhooks`
//! crate), never with Baton's own signing code.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use baton_e2e::{Backend, Server, StatusCode, assert_error, id_of, postgres_url_or_skip};
use reqwest::Method;
use serde_json::{Value, json};

/// Loopback targets allowed; a fast retry schedule (1 ms, 60 ms, 360 ms, ...) and sweep;
/// a short timeout, so that a delivery in flight at a kill is due again within seconds.
const CONFIG: &str = "[webhooks]\nallow_private_targets = true\nretry_base_ms = 1\nsweep_ms = 50\n\
                      timeout_seconds = 2\n";

/// Each scenario on SQLite and on PostgreSQL, with [`CONFIG`].
macro_rules! webhook_scenarios {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = baton_e2e::Server::start_with_config(
                        baton_e2e::Backend::Sqlite, super::CONFIG.into()).await;
                    super::$name(server).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(url) = baton_e2e::postgres_url_or_skip() else { return };
                    let server = baton_e2e::Server::start_with_config(
                        baton_e2e::Backend::Postgres(url), super::CONFIG.into()).await;
                    super::$name(server).await;
                }
            )+
        }
    };
}

webhook_scenarios!(
    every_transition_arrives_signed_and_in_transcript_order,
    a_failing_receiver_gets_retries_with_one_webhook_id,
    a_gone_receiver_is_disabled_and_a_replay_re_enables_it,
    events_committed_before_a_crash_are_delivered_after_restart,
    bad_subscriptions_are_refused_naming_the_field,
);

#[derive(Debug, Clone)]
struct Received {
    webhook_id: String,
    body: Value,
    /// The status the receiver answered.
    answered: u16,
}

#[derive(Debug, Default)]
struct ReceiverState {
    secret: Mutex<Option<String>>,
    /// Statuses to answer, in order; 200 once empty.
    script: Mutex<VecDeque<u16>>,
    received: Mutex<Vec<Received>>,
    /// Deliveries the official verifier refused, with the reason.
    refused: Mutex<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Receiver {
    addr: SocketAddr,
    state: Arc<ReceiverState>,
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> AxumStatus {
    let secret = state.secret.lock().unwrap().clone();
    let verdict = match secret {
        Some(secret) => standardwebhooks::Webhook::new(&secret)
            .map_err(|e| e.to_string())
            .and_then(|hook| hook.verify(&body, &headers).map_err(|e| e.to_string())),
        None => Err("no secret yet".into()),
    };
    if let Err(reason) = verdict {
        state.refused.lock().unwrap().push(reason);
        return AxumStatus::BAD_REQUEST;
    }
    let answered = state.script.lock().unwrap().pop_front().unwrap_or(200);
    state.received.lock().unwrap().push(Received {
        webhook_id: headers["webhook-id"].to_str().unwrap().to_owned(),
        body: serde_json::from_slice(&body).unwrap(),
        answered,
    });
    AxumStatus::from_u16(answered).unwrap()
}

impl Receiver {
    /// A receiver on 127.0.0.1: `addr`, or any free port.
    async fn start_on(addr: SocketAddr, state: Arc<ReceiverState>) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, state }
    }

    async fn start(script: &[u16]) -> Receiver {
        let state = Arc::new(ReceiverState::default());
        state.script.lock().unwrap().extend(script);
        Receiver::start_on("127.0.0.1:0".parse().unwrap(), state).await
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        let refused = self.state.refused.lock().unwrap().clone();
        assert!(refused.is_empty(), "the verifier refused: {refused:?}");
        self.state.received.lock().unwrap().clone()
    }

    /// Subscribes this receiver to `events`; returns the webhook's id.
    async fn subscribe(&self, server: &Server, events: &[&str]) -> i64 {
        let (status, created) = server
            .post(
                "/api/v1/webhooks",
                json!({"url": self.url(), "events": events}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "subscribe: {created}");
        let secret = created["secret"].as_str().unwrap();
        assert!(secret.starts_with("whsec_"), "{created}");
        *self.state.secret.lock().unwrap() = Some(secret.to_owned());
        id_of(&created)
    }
}

async fn webhook(server: &Server, id: i64) -> Value {
    let list = server.get_ok("/api/v1/webhooks").await;
    assert!(
        !list.to_string().contains("whsec_"),
        "a secret shown again: {list}"
    );
    list["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == json!(id))
        .cloned()
        .unwrap_or_else(|| panic!("webhook {id} not listed: {list}"))
}

async fn every_transition_arrives_signed_and_in_transcript_order(server: Server) {
    let receiver = Receiver::start(&[]).await;
    receiver.subscribe(&server, &["*"]).await;
    let (eve, eve_token) = server.agent("Eve", 5).await;
    server.route_to("live", &[eve], &[]).await;

    let visitor = server.visitor().await;
    visitor.say("how long does shipping take?").await;
    visitor.say("I want to talk to a human").await;
    let (status, reply) = server
        .post_as(
            &eve_token,
            &format!("/api/v1/conversations/{}/messages", visitor.id),
            json!({"text": "Hi, Eve here."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let (status, closed) = server
        .post_as(
            &eve_token,
            &format!("/api/v1/conversations/{}/close", visitor.id),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");

    let transcript: Vec<i64> = visitor.messages().await.iter().map(id_of).collect();
    let mine = |received: &[Received]| -> Vec<Value> {
        received
            .iter()
            .map(|r| r.body.clone())
            .filter(|b| b["data"]["conversation_id"] == json!(visitor.id))
            .collect()
    };
    let events = server
        .eventually("the conversation's events", || {
            let events = mine(&receiver.received());
            let want = transcript.len();
            async move {
                let messages = events
                    .iter()
                    .filter(|e| e["type"] == "message.created")
                    .count();
                let closed = events.iter().any(|e| e["type"] == "conversation.closed");
                (messages == want && closed).then_some(events)
            }
        })
        .await;

    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for expected in [
        "conversation.created",
        "message.created",
        "conversation.handoff",
        "conversation.assigned",
        "conversation.closed",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    let handoff = events
        .iter()
        .find(|e| e["type"] == "conversation.handoff")
        .unwrap();
    assert_eq!(handoff["data"]["trigger"], "asks_for_human", "{handoff}");
    assert_eq!(handoff["data"]["process"], "live", "{handoff}");
    assert!(handoff["timestamp"].is_string(), "{handoff}");

    // Numbered 1..=n without gaps; in number order, the messages are the transcript.
    let mut by_sequence: BTreeMap<i64, &Value> = BTreeMap::new();
    for event in &events {
        let sequence = event["data"]["sequence"].as_i64().unwrap();
        assert!(
            by_sequence.insert(sequence, event).is_none(),
            "repeated {sequence}"
        );
    }
    let sequences: Vec<i64> = by_sequence.keys().copied().collect();
    assert_eq!(sequences, (1..=events.len() as i64).collect::<Vec<_>>());
    let messages_in_order: Vec<i64> = by_sequence
        .values()
        .filter(|e| e["type"] == "message.created")
        .map(|e| e["data"]["message"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(messages_in_order, transcript);
    assert_eq!(by_sequence[&1]["type"], "conversation.created");

    // A settings change has no conversation.
    let settings = server.settings().await;
    server.put_settings(settings).await;
    server
        .eventually("settings.updated", || {
            let received = receiver.received();
            async move {
                received
                    .iter()
                    .any(|r| r.body["type"] == "settings.updated")
                    .then_some(())
            }
        })
        .await;
}

async fn a_failing_receiver_gets_retries_with_one_webhook_id(server: Server) {
    let receiver = Receiver::start(&[500, 503, 429]).await;
    let id = receiver.subscribe(&server, &["settings.updated"]).await;
    let settings = server.settings().await;
    server.put_settings(settings).await;

    let received = server
        .eventually("a success after three failures", || {
            let received = receiver.received();
            async move {
                received
                    .iter()
                    .any(|r| r.answered == 200)
                    .then_some(received)
            }
        })
        .await;
    assert_eq!(received.len(), 4, "{received:?}");
    assert_eq!(received.iter().filter(|r| r.answered == 200).count(), 1);
    assert!(
        received
            .iter()
            .all(|r| r.webhook_id == received[0].webhook_id),
        "{received:?}"
    );
    assert!(received.iter().all(|r| r.body == received[0].body));

    let attempts = server
        .eventually("four attempts listed", || async {
            let body = server
                .get_ok(&format!("/api/v1/webhooks/{id}/deliveries"))
                .await;
            let list = body["deliveries"].as_array().unwrap().clone();
            (list.len() == 4).then_some(list)
        })
        .await;
    let outcomes: Vec<&str> = attempts
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["delivered", "retrying", "retrying", "retrying"]);
    assert!(
        attempts
            .iter()
            .all(|a| a["webhook_id"] == json!(received[0].webhook_id))
    );
    let statuses: Vec<i64> = attempts
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 429, 503, 500]);

    // Keyset pages: two and two, newest first.
    let page = server
        .get_ok(&format!("/api/v1/webhooks/{id}/deliveries?limit=2"))
        .await;
    let before = page["next_before"].as_i64().unwrap();
    let next = server
        .get_ok(&format!(
            "/api/v1/webhooks/{id}/deliveries?limit=2&before={before}"
        ))
        .await;
    assert_eq!(next["deliveries"][0]["id"], attempts[2]["id"]);
    assert_eq!(webhook(&server, id).await["state"], "active");
    assert!(webhook(&server, id).await["failing_since"].is_null());
}

async fn a_gone_receiver_is_disabled_and_a_replay_re_enables_it(server: Server) {
    let receiver = Receiver::start(&[410]).await;
    let id = receiver.subscribe(&server, &["settings.updated"]).await;
    let settings = server.settings().await;
    server.put_settings(settings).await;

    let disabled = server
        .eventually("the endpoint disabled", || async {
            let hook = webhook(&server, id).await;
            (hook["state"] == "disabled").then_some(hook)
        })
        .await;
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{disabled}"
    );
    assert_eq!(disabled["last_status"], 410);
    let audit = server.audit(50).await;
    let row = audit
        .iter()
        .find(|e| e["kind"] == "webhook_disabled")
        .unwrap_or_else(|| panic!("no webhook_disabled audit row: {audit:?}"));
    assert_eq!(row["detail"]["webhook_id"], json!(id));
    assert_eq!(receiver.received().len(), 1);

    // The console shows it with its badge.
    let page = server
        .client
        .get(server.url("/console/webhooks"))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(&receiver.url()), "{page}");
    assert!(
        page.contains(r#"<span class="badge bad">Disabled</span>"#),
        "{page}"
    );
    assert!(page.contains("410 Gone"), "{page}");

    // Nothing is sent to a disabled endpoint.
    let settings = server.settings().await;
    server.put_settings(settings).await;

    // A replay re-enables it and sends the failed one again.
    let (status, replayed) = server
        .post(&format!("/api/v1/webhooks/{id}/replay"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(replayed["replayed"], 1);
    assert_eq!(webhook(&server, id).await["state"], "active");
    let received = server
        .eventually("the replayed delivery", || {
            let received = receiver.received();
            async move { (received.len() == 2).then_some(received) }
        })
        .await;
    assert_eq!(received[1].webhook_id, received[0].webhook_id);
    assert_eq!(received[1].answered, 200);

    let (status, _) = server
        .request(
            Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            Some(&server.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let list = server.get_ok("/api/v1/webhooks").await;
    assert_eq!(list["webhooks"], json!([]));
}

async fn events_committed_before_a_crash_are_delivered_after_restart(mut server: Server) {
    // The receiver is down: its port is free, connections are refused.
    let addr = {
        let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap()
    };
    let (status, created) = server
        .post(
            "/api/v1/webhooks",
            json!({"url": format!("http://{addr}/hook"), "events": ["message.created"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "subscribe: {created}");
    let id = id_of(&created);
    let secret = created["secret"].as_str().map(str::to_owned);

    let visitor = server.visitor().await;
    visitor.say("how long does shipping take?").await;
    let transcript: Vec<i64> = visitor.messages().await.iter().map(id_of).collect();
    server
        .eventually("a failed attempt", || async {
            let body = server
                .get_ok(&format!("/api/v1/webhooks/{id}/deliveries"))
                .await;
            (!body["deliveries"].as_array().unwrap().is_empty()).then_some(())
        })
        .await;

    server.kill();
    let state = Arc::new(ReceiverState::default());
    *state.secret.lock().unwrap() = secret;
    let receiver = Receiver::start_on(addr, state).await;
    server.restart().await;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut ids: Vec<i64> = receiver
            .received()
            .iter()
            .map(|r| r.body["data"]["message"]["id"].as_i64().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() == transcript.len() {
            assert_eq!(ids, transcript);
            break;
        }
        if std::time::Instant::now() > deadline {
            let attempts = server
                .get_ok(&format!("/api/v1/webhooks/{id}/deliveries"))
                .await;
            panic!(
                "not delivered after the restart: {attempts:#}\n{}",
                server.stderr()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn bad_subscriptions_are_refused_naming_the_field(server: Server) {
    let url = "http://127.0.0.1:9/hook";
    let unknown = server
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["conversation.exploded"]}),
        )
        .await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, Some("events"));
    let none = server
        .post("/api/v1/webhooks", json!({"url": url, "events": []}))
        .await;
    assert_error(&none, StatusCode::UNPROCESSABLE_ENTITY, Some("events"));
    let ftp = server
        .post(
            "/api/v1/webhooks",
            json!({"url": "ftp://example.com/x", "events": ["*"]}),
        )
        .await;
    assert_error(&ftp, StatusCode::UNPROCESSABLE_ENTITY, Some("url"));

    let (_, agent_token) = server.agent("Nadia", 3).await;
    let forbidden = server
        .post_as(
            &agent_token,
            "/api/v1/webhooks",
            json!({"url": url, "events": ["*"]}),
        )
        .await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, None);
    let (status, _) = server.get_as(&agent_token, "/api/v1/webhooks").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Without `allow_private_targets`, loopback and private targets are refused.
async fn private_targets_are_refused_by_default(backend: Backend) {
    let server = Server::start(backend).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest",
        "http://[::1]:9/hook",
    ] {
        let refused = server
            .post("/api/v1/webhooks", json!({"url": url, "events": ["*"]}))
            .await;
        assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, Some("url"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_private_targets_are_refused_by_default() {
    private_targets_are_refused_by_default(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_private_targets_are_refused_by_default() {
    let Some(url) = postgres_url_or_skip() else {
        return;
    };
    private_targets_are_refused_by_default(Backend::Postgres(url)).await;
}
