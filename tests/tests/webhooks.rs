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
    every_event_type_arrives_verified_with_its_data,
    retry_after_is_honoured_on_429_and_503,
);

/// [`CONFIG`] with the retry schedule scaled so its three days take about 2.7 s.
const FAST_SCHEDULE: &str = "[webhooks]\nallow_private_targets = true\nretry_base_ms = 0.05\n\
                             sweep_ms = 20\ntimeout_seconds = 2\n";

#[derive(Debug, Clone)]
struct Received {
    webhook_id: String,
    /// The `webhook-timestamp` header.
    timestamp: i64,
    body: Value,
    /// The status the receiver answered.
    answered: u16,
    /// The `Retry-After` it answered with.
    retry_after: Option<String>,
}

/// One scripted answer.
#[derive(Debug, Clone, Copy)]
struct Answer {
    status: u16,
    retry_after: RetryAfter,
}

#[derive(Debug, Clone, Copy)]
enum RetryAfter {
    None,
    Seconds(u64),
    /// An HTTP-date this many seconds (or a little more) after the request arrived.
    DateIn(i64),
}

impl From<u16> for Answer {
    fn from(status: u16) -> Self {
        Answer {
            status,
            retry_after: RetryAfter::None,
        }
    }
}

#[derive(Debug, Default)]
struct ReceiverState {
    secret: Mutex<Option<String>>,
    /// Answers, in order; 200 once empty.
    script: Mutex<VecDeque<Answer>>,
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
) -> (AxumStatus, HeaderMap) {
    let secret = state.secret.lock().unwrap().clone();
    let verdict = match secret {
        Some(secret) => standardwebhooks::Webhook::new(&secret)
            .map_err(|e| e.to_string())
            .and_then(|hook| hook.verify(&body, &headers).map_err(|e| e.to_string())),
        None => Err("no secret yet".into()),
    };
    if let Err(reason) = verdict {
        state.refused.lock().unwrap().push(reason);
        return (AxumStatus::BAD_REQUEST, HeaderMap::new());
    }
    let answer = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Answer::from(200));
    let retry_after = match answer.retry_after {
        RetryAfter::None => None,
        RetryAfter::Seconds(seconds) => Some(seconds.to_string()),
        RetryAfter::DateIn(seconds) => {
            // Whole seconds: one more keeps the date at least `seconds` away.
            let at = chrono::Utc::now() + chrono::Duration::seconds(seconds + 1);
            Some(at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        }
    };
    state.received.lock().unwrap().push(Received {
        webhook_id: headers["webhook-id"].to_str().unwrap().to_owned(),
        timestamp: headers["webhook-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap(),
        body: serde_json::from_slice(&body).unwrap(),
        answered: answer.status,
        retry_after: retry_after.clone(),
    });
    let mut out = HeaderMap::new();
    if let Some(value) = retry_after {
        out.insert("retry-after", value.parse().unwrap());
    }
    (AxumStatus::from_u16(answer.status).unwrap(), out)
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
        let answers: Vec<Answer> = script.iter().copied().map(Answer::from).collect();
        Receiver::start_scripted(&answers).await
    }

    async fn start_scripted(script: &[Answer]) -> Receiver {
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

/// The events about `conversation` the receiver has, in the order they arrived.
fn events_of(receiver: &Receiver, conversation: i64) -> Vec<Value> {
    receiver
        .received()
        .iter()
        .map(|r| r.body.clone())
        .filter(|b| b["data"]["conversation_id"] == json!(conversation))
        .collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// One conversation through every transition the binary offers: a handoff that queues
/// (its assignee away) on a help desk (a ticket), the assignment when she comes back, her
/// reply, a handback, a close and a reopen; the ticket follows each. `conversation.rerouted`
/// needs the 30 s minimum reply timeout to pass, so the store's tests cover it
/// (crates/baton-store/tests/webhooks.rs).
async fn every_event_type_arrives_verified_with_its_data(server: Server) {
    let receiver = Receiver::start(&[]).await;
    receiver.subscribe(&server, &["*"]).await;
    let (eve, eve_token) = server.agent("Eve", 2).await;
    server.route_to("live", &[eve], &[]).await;
    let (status, desk) = server
        .post(
            "/api/v1/inboxes",
            json!({"name": "Desk", "kind": "help_desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{desk}");
    let desk = id_of(&desk);
    let mut settings = server.settings().await;
    settings["destination"]["inbox_id"] = json!(desk);
    server.put_settings(settings).await;
    server.set_availability(&eve_token, eve, "away").await;

    let visitor = server.visitor().await;
    visitor.say("how long does shipping take?").await;
    visitor
        .say_expect_handoff("I want to talk to a human")
        .await;
    assert_eq!(visitor.conversation().await["queued"], true);
    server.set_availability(&eve_token, eve, "available").await;
    server
        .eventually("Eve takes it from the queue", || async {
            let c = visitor.conversation().await;
            (c["assignee"]["user_id"] == json!(eve)).then_some(())
        })
        .await;
    let path = |action: &str| format!("/api/v1/conversations/{}/{action}", visitor.id);
    let (status, body) = server
        .post_as(&eve_token, &path("messages"), json!({"text": "Eve here."}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = server
        .post_as(&eve_token, &path("handback"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.post(&path("close"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.post(&path("reopen"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let transcript: Vec<i64> = visitor.messages().await.iter().map(id_of).collect();
    let events = server
        .eventually("every event of the conversation", || {
            let events = events_of(&receiver, visitor.id);
            let want = transcript.len();
            async move {
                let messages = of_type(&events, "message.created").len();
                let updates = of_type(&events, "ticket.updated").len();
                let reopened = !of_type(&events, "conversation.reopened").is_empty();
                (messages == want && updates == 3 && reopened).then_some(events)
            }
        })
        .await;

    let one = |kind: &str| -> Value {
        let found = of_type(&events, kind);
        assert_eq!(found.len(), 1, "{kind}: {found:#?}");
        found[0].clone()
    };
    let created = one("conversation.created");
    assert_eq!(created["data"]["channel"], "chat", "{created}");
    let handoff = one("conversation.handoff");
    assert_eq!(handoff["data"]["trigger"], "asks_for_human", "{handoff}");
    assert_eq!(handoff["data"]["process"], "live", "{handoff}");
    assert_eq!(handoff["data"]["queued"], true, "{handoff}");
    let queued = one("conversation.queued");
    assert!(queued["data"]["assignee_user_id"].is_null(), "{queued}");
    let assigned = one("conversation.assigned");
    assert_eq!(
        assigned["data"]["assignee_user_id"],
        json!(eve),
        "{assigned}"
    );
    let ticket = one("ticket.created");
    assert_eq!(ticket["data"]["inbox_id"], json!(desk), "{ticket}");
    assert_eq!(ticket["data"]["status"], "new", "{ticket}");
    let ticket_id = ticket["data"]["ticket_id"].clone();
    assert!(ticket_id.is_i64(), "{ticket}");
    assert_eq!(handoff["data"]["ticket_id"], ticket_id, "{handoff}");
    // Deliveries may arrive out of order (batches go out concurrently); the sequence
    // orders them.
    let mut by_sequence = events.clone();
    by_sequence.sort_by_key(|e| e["data"]["sequence"].as_i64());
    let updates: Vec<(&str, &str)> = of_type(&by_sequence, "ticket.updated")
        .iter()
        .map(|e| {
            assert_eq!(e["data"]["ticket_id"], ticket_id, "{e}");
            (
                e["data"]["previous_status"].as_str().unwrap(),
                e["data"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        updates,
        [
            ("new", "waiting_on_contact"),
            ("waiting_on_contact", "closed"),
            ("closed", "waiting_on_us"),
        ]
    );
    let handed_back = one("conversation.handed_back");
    assert_eq!(
        handed_back["data"]["actor_user_id"],
        json!(eve),
        "{handed_back}"
    );
    assert_eq!(
        handed_back["data"]["from_user_id"],
        json!(eve),
        "{handed_back}"
    );
    let closed = one("conversation.closed");
    assert!(closed["data"]["actor_user_id"].is_i64(), "{closed}");
    let reopened = one("conversation.reopened");
    assert_eq!(reopened["data"]["assignee"], "agent", "{reopened}");

    // Numbered 1..=n without gaps, in the order of the changes.
    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["data"]["sequence"].as_i64().unwrap())
        .collect();
    let mut sorted = sequences.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=events.len() as i64).collect::<Vec<_>>());
    let order: Vec<&str> = by_sequence
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| !matches!(*t, "message.created" | "ticket.created" | "ticket.updated"))
        .collect();
    assert_eq!(
        order,
        [
            "conversation.created",
            "conversation.handoff",
            "conversation.queued",
            "conversation.assigned",
            "conversation.handed_back",
            "conversation.closed",
            "conversation.reopened",
        ]
    );
    let messages: Vec<i64> = by_sequence
        .iter()
        .filter(|e| e["type"] == "message.created")
        .map(|e| e["data"]["message"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(messages, transcript);
    let ids: std::collections::BTreeSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.webhook_id.clone())
        .collect();
    assert_eq!(ids.len(), receiver.received().len(), "a webhook-id reused");

    // Settings (and the agent's pause, a setting too) belong to no conversation.
    let settings = server
        .eventually("settings.updated", || {
            let received = receiver.received();
            async move {
                let found: Vec<Value> = received
                    .iter()
                    .filter(|r| r.body["type"] == "settings.updated")
                    .map(|r| r.body.clone())
                    .collect();
                (found.len() >= 2).then_some(found)
            }
        })
        .await;
    for event in &settings {
        assert!(event["data"].get("sequence").is_none(), "{event}");
        assert!(event["data"].get("conversation_id").is_none(), "{event}");
        assert!(event["data"]["actor_user_id"].is_i64(), "{event}");
    }
    let types: std::collections::BTreeSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.body["type"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&str> = baton_types()
        .into_iter()
        .filter(|t| *t != "conversation.rerouted" && !types.contains(*t))
        .collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
}

/// The event types the issue names.
fn baton_types() -> Vec<&'static str> {
    vec![
        "conversation.created",
        "message.created",
        "conversation.handoff",
        "conversation.assigned",
        "conversation.queued",
        "conversation.rerouted",
        "conversation.handed_back",
        "conversation.closed",
        "conversation.reopened",
        "ticket.created",
        "ticket.updated",
        "settings.updated",
    ]
}

fn instant(text: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text.as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Three receivers refuse their first delivery asking to wait: 429 and 503 with
/// `Retry-After: 3`, and 503 with an HTTP-date. The schedule alone would retry after a
/// millisecond; the recorded attempts show each second attempt waited as asked, with the
/// same `webhook-id` and a fresh `webhook-timestamp`.
async fn retry_after_is_honoured_on_429_and_503(server: Server) {
    let scripts = [
        (429, RetryAfter::Seconds(3)),
        (503, RetryAfter::Seconds(3)),
        (503, RetryAfter::DateIn(3)),
    ];
    let mut receivers = Vec::new();
    for (status, retry_after) in scripts {
        let receiver = Receiver::start_scripted(&[Answer {
            status,
            retry_after,
        }])
        .await;
        let id = receiver.subscribe(&server, &["settings.updated"]).await;
        receivers.push((receiver, id, retry_after));
    }
    let settings = server.settings().await;
    server.put_settings(settings).await;

    for (receiver, id, retry_after) in &receivers {
        let attempts = server
            .eventually("a delivery after the wait", || async {
                let body = server
                    .get_ok(&format!("/api/v1/webhooks/{id}/deliveries"))
                    .await;
                let list = body["deliveries"].as_array().unwrap().clone();
                (list.len() == 2).then_some(list)
            })
            .await;
        // Newest first.
        assert_eq!(attempts[1]["outcome"], "retrying", "{attempts:?}");
        assert_eq!(attempts[0]["outcome"], "delivered", "{attempts:?}");
        let (first, second) = (instant(&attempts[1]["at"]), instant(&attempts[0]["at"]));
        let received = receiver.received();
        assert_eq!(received.len(), 2, "{received:?}");
        match retry_after {
            RetryAfter::Seconds(seconds) => {
                assert_eq!(received[0].retry_after, Some(seconds.to_string()));
                let waited = second - first;
                assert!(
                    waited >= chrono::Duration::seconds(i64::try_from(*seconds).unwrap()),
                    "retried after {waited} despite Retry-After: {seconds}"
                );
            }
            RetryAfter::DateIn(_) => {
                let date = received[0].retry_after.clone().unwrap();
                let not_before = chrono::DateTime::parse_from_rfc2822(&date).unwrap();
                assert!(second >= not_before, "retried at {second} before {date}");
            }
            RetryAfter::None => unreachable!(),
        }
        assert_eq!(received[0].webhook_id, received[1].webhook_id);
        assert_eq!(received[0].body, received[1].body);
        assert!(
            received[1].timestamp >= received[0].timestamp + 2,
            "webhook-timestamp not fresh: {} then {}",
            received[0].timestamp,
            received[1].timestamp
        );
    }
}

/// An endpoint that fails every attempt through the whole schedule (three days, scaled
/// to seconds) is disabled, audited, and badged in the console; a 410 disables at once.
async fn an_endpoint_failing_through_the_whole_schedule_is_disabled(backend: Backend) {
    let server = Server::start_with_config(backend, FAST_SCHEDULE.into()).await;
    let failing = Receiver::start(&[500; 20]).await;
    let id = failing.subscribe(&server, &["settings.updated"]).await;
    let gone = Receiver::start(&[410]).await;
    let gone_id = gone.subscribe(&server, &["settings.updated"]).await;
    let settings = server.settings().await;
    server.put_settings(settings).await;

    let disabled = server
        .eventually("the failing endpoint disabled", || async {
            let hook = webhook(&server, id).await;
            (hook["state"] == "disabled").then_some(hook)
        })
        .await;
    let reason = disabled["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("retries exhausted"), "{disabled}");
    assert_eq!(disabled["last_status"], 500);
    assert!(disabled["failing_since"].is_string(), "{disabled}");

    let attempts = server
        .get_ok(&format!("/api/v1/webhooks/{id}/deliveries"))
        .await["deliveries"]
        .as_array()
        .unwrap()
        .clone();
    // The first attempt and one per step of the schedule, all failed, then given up.
    let outcomes: Vec<&str> = attempts
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 10, "{attempts:#?}");
    assert_eq!(outcomes[0], "failed");
    assert!(
        outcomes[1..].iter().all(|o| *o == "retrying"),
        "{outcomes:?}"
    );
    let times: Vec<_> = attempts.iter().rev().map(|a| instant(&a["at"])).collect();
    let gaps: Vec<chrono::Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // The schedule grows: the last wait is far longer than the first (with jitter).
    assert!(gaps[8] > gaps[0] * 10, "{gaps:?}");
    let received = failing.received();
    assert_eq!(received.len(), 10);
    assert!(
        received
            .iter()
            .all(|r| r.webhook_id == received[0].webhook_id)
    );

    let audit = server.audit(50).await;
    let row = audit
        .iter()
        .find(|e| e["kind"] == "webhook_disabled" && e["detail"]["webhook_id"] == json!(id))
        .unwrap_or_else(|| panic!("no webhook_disabled audit row: {audit:?}"));
    assert!(
        row["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("retries exhausted"),
        "{row}"
    );

    // The 410 endpoint was disabled on its only attempt.
    let gone_hook = webhook(&server, gone_id).await;
    assert_eq!(gone_hook["state"], "disabled", "{gone_hook}");
    let gone_attempts = server
        .get_ok(&format!("/api/v1/webhooks/{gone_id}/deliveries"))
        .await;
    assert_eq!(gone_attempts["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(gone_attempts["deliveries"][0]["outcome"], "failed");
    assert_eq!(gone.received().len(), 1);

    let page = server
        .client
        .get(server.url("/console/webhooks"))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains(&failing.url()), "{page}");
    assert_eq!(
        page.matches(r#"<span class="badge bad">Disabled</span>"#)
            .count(),
        2,
        "{page}"
    );
    assert!(page.contains("retries exhausted"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_endpoint_failing_through_the_whole_schedule_is_disabled() {
    an_endpoint_failing_through_the_whole_schedule_is_disabled(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_endpoint_failing_through_the_whole_schedule_is_disabled() {
    let Some(url) = postgres_url_or_skip() else {
        return;
    };
    an_endpoint_failing_through_the_whole_schedule_is_disabled(Backend::Postgres(url)).await;
}
