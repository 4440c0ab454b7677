//! The messaging part of `baton-load chaos`: Telegram updates through the shipped plugin
//! (signed with the secret token, as Telegram sends them) and a loopback stand-in for the
//! Bot API that records every `sendMessage`, so deliveries can be counted against the
//! outbox rows marked delivered.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use axum::extract::State;
use axum::routing::post;
use baton_store::SeaStore;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::chaos::{Hosts, Rng, moments, resent_after_kills, rows, string, text};

const SECRET: &str = "chaos-secret_token";

/// Every `sendMessage` body the stand-in Bot API received, with when.
pub(crate) type Sent = Arc<Mutex<Vec<(SystemTime, Value)>>>;

async fn send_message(State(sent): State<Sent>, axum::Json(body): axum::Json<Value>) -> String {
    sent.lock().await.push((SystemTime::now(), body));
    json!({"ok": true, "result": {"message_id": 1, "date": 0, "chat": {"id": 0, "type": "private"}}})
        .to_string()
}

/// Starts the stand-in Bot API and writes the configuration file loading the Telegram
/// plugin against it.
pub(crate) async fn provider(binary: &Path, dir: &Path) -> Result<(PathBuf, Sent)> {
    let sent: Sent = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/telegram/{*method}", post(send_message))
        .with_state(sent.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    // `cargo xtask chaos` builds the plugins into target/plugins, beside target/release.
    let library = binary
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("plugins").join("libchannel_telegram.so"))
        .filter(|path| path.is_file())
        .context(
            "target/plugins/libchannel_telegram.so is missing: cargo xtask build-plugins --release",
        )?;
    let config = dir.join("baton.toml");
    std::fs::write(
        &config,
        format!(
            "[[plugins]]\nname = \"telegram\"\npath = \"{}\"\nconfig = {{ bot_token = \"123456:chaos\", \
             secret_token = \"{SECRET}\", api_base_url = \"{base}/telegram\" }}\n",
            library.display()
        ),
    )?;
    Ok((config, sent))
}

/// One Telegram chat sending updates with unique ids, each posted again with the same id
/// until answered 200; the acknowledged message ids (`chat:message`, as the plugin names
/// them).
pub(crate) async fn chat(
    index: usize,
    hosts: Arc<Hosts>,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) -> Result<()> {
    let mut rng = Rng::new(5000 + index as u64);
    let chat_id = 700_000 + index as i64;
    let mut message = 0i64;
    while !stop.load(Ordering::Relaxed) {
        message += 1;
        let update = json!({
            "update_id": chat_id * 100_000 + message,
            "message": {
                "message_id": message,
                "from": {"id": chat_id, "is_bot": false, "first_name": "Chaos"},
                "chat": {"id": chat_id, "first_name": "Chaos", "type": "private"},
                "date": 1718000000,
                "text": text(&mut rng, message as usize),
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut host = index;
        loop {
            let answer = hosts
                .client
                .post(format!("{}/webhooks/telegram", hosts.at(host)))
                .header("x-telegram-bot-api-secret-token", SECRET)
                .json(&update)
                .send()
                .await;
            let last = match answer {
                Ok(response) if response.status().is_success() => break,
                // Telegram redelivers on any other answer; a refused secret would be ours.
                Ok(response)
                    if matches!(response.status().as_u16(), 400 | 401 | 403 | 404 | 413) =>
                {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    bail!("telegram update {chat_id}:{message}: {status} {body}")
                }
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    if status == reqwest::StatusCode::CONFLICT {
                        eprintln!(
                            "chaos: telegram update {chat_id}:{message}: {status} {body}; redelivered"
                        );
                    }
                    format!("{status} {body}")
                }
                Err(error) => error.to_string(),
            };
            if Instant::now() > deadline {
                bail!("telegram update: gave up after retries: {last}");
            }
            crate::chaos::retried();
            host += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        acked.lock().await.push(format!("{chat_id}:{message}"));
        tokio::time::sleep(Duration::from_millis(rng.below(50))).await;
    }
    Ok(())
}

/// Figures and violations of the Telegram part.
#[derive(Default)]
pub(crate) struct TelegramReport {
    pub(crate) acked: usize,
    pub(crate) lost: usize,
    pub(crate) duplicated: usize,
    pub(crate) sent: usize,
    pub(crate) delivered_rows: usize,
    /// Messages sent again because a kill caught the first send in flight.
    pub(crate) resent_after_kill: usize,
    pub(crate) violations: Vec<String>,
}

/// Acknowledged updates stored once; each (chat, text) sent to the Bot API as many times
/// as outbox rows of it are marked delivered: more calls is a delivery made twice, unless
/// a kill caught the first send in flight (see [`resent_after_kills`]).
pub(crate) async fn check(
    store: &SeaStore,
    acked: &[String],
    sent: &[(SystemTime, Value)],
    kills: &[SystemTime],
) -> Result<TelegramReport> {
    let mut report = TelegramReport {
        acked: acked.len(),
        sent: sent.len(),
        ..TelegramReport::default()
    };
    let mut stored: HashMap<String, usize> = HashMap::new();
    for row in rows(
        store,
        "SELECT m.client_message_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.channel = 'telegram' AND m.author = 'visitor' AND m.client_message_id IS NOT NULL",
    )
    .await?
    {
        *stored.entry(string(&row, "client_message_id")?).or_default() += 1;
    }
    for id in acked {
        match stored.get(id).copied().unwrap_or_default() {
            1 => {}
            0 => {
                report.lost += 1;
                report
                    .violations
                    .push(format!("acknowledged Telegram message {id} is not stored"));
            }
            n => {
                report.duplicated += 1;
                report.violations.push(format!(
                    "acknowledged Telegram message {id} is stored {n} times"
                ));
            }
        }
    }
    let mut delivered: HashMap<(String, String), i64> = HashMap::new();
    for row in rows(
        store,
        "SELECT c.thread, m.text FROM outbox o JOIN messages m ON m.id = o.message_id \
         JOIN conversations c ON c.id = o.conversation_id \
         WHERE o.channel = 'telegram' AND o.delivered_at IS NOT NULL",
    )
    .await?
    {
        report.delivered_rows += 1;
        *delivered
            .entry((string(&row, "thread")?, string(&row, "text")?))
            .or_default() += 1;
    }
    let mut calls: HashMap<(String, String), Vec<SystemTime>> = HashMap::new();
    for (at, body) in sent {
        let chat = match &body["chat_id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = body["text"].as_str().unwrap_or_default().to_owned();
        calls.entry((chat, text)).or_default().push(*at);
    }
    for (key, times) in &calls {
        let n = times.len() as i64;
        let rows = delivered.get(key).copied().unwrap_or_default();
        if n > rows && rows > 0 && resent_after_kills(times, rows as usize, kills) {
            report.resent_after_kill += (n - rows) as usize;
        } else if n > rows {
            report.violations.push(format!(
                "Telegram chat {} got {n} sendMessage calls of {:?} for {rows} outbox rows \
                 marked delivered: delivered more than once ({})",
                key.0,
                key.1,
                moments(times, kills)
            ));
        }
    }
    for (key, rows) in &delivered {
        let n = calls.get(key).map_or(0, |times| times.len() as i64);
        if n < *rows {
            report.violations.push(format!(
                "Telegram chat {}: {rows} outbox rows of {:?} marked delivered, {n} sent",
                key.0, key.1
            ));
        }
    }
    Ok(report)
}
