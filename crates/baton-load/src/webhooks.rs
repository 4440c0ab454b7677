//! `baton-load webhooks`: what the webhook outbox costs the pipeline (B15).
//!
//! 1. Starts a loopback receiver that answers 200 at once and notes when each delivery
//!    arrived.
//! 2. Runs the main load (concurrent chat conversations, half handing off) against the
//!    real `baton` binary on a fresh database with no subscription, then on another
//!    fresh database with one subscription to every event (`"*"`); `--rounds` times,
//!    alternating, and compares the median rates.
//! 3. Prints the latency of the first attempts to the receiver, measured two ways that
//!    bracket the commit: from the event's timestamp (taken in the transaction, before
//!    the commit) and, for visitor messages, from the HTTP answer (sent after it).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::{Value, json};

use crate::{Figures, Server, TOKEN, Task, call, hands_off, join, percentile, text};

#[derive(Debug, Args)]
pub(crate) struct WebhooksArgs {
    /// Concurrent conversations.
    #[arg(long, default_value_t = 64)]
    conversations: usize,
    /// Messages per conversation.
    #[arg(long, default_value_t = 40)]
    messages: usize,
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    database: String,
    #[arg(
        long,
        env = "BATON_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// The `baton` binary (default: next to this one).
    #[arg(long)]
    baton: Option<std::path::PathBuf>,
    /// Alternating rounds (no subscription, then one subscriber), medians compared.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// How long the subscribed run's deliveries may take to arrive after its load.
const DRAIN_DEADLINE: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
struct Arrivals {
    /// `webhook-id`s seen, to tell first attempts from repeats.
    ids: HashSet<String>,
    /// First-attempt latency: arrival minus the event's timestamp.
    latencies: Vec<Duration>,
    /// `message.created` of visitor messages: their text and when they arrived.
    visitor_messages: Vec<(String, DateTime<Utc>)>,
    repeats: usize,
}

async fn receive(
    State(arrivals): State<Arc<Mutex<Arrivals>>>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let arrived = Utc::now();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let event = serde_json::from_slice::<Value>(&body).unwrap_or_default();
    let at = event["timestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let message = &event["data"]["message"];
    let Ok(mut arrivals) = arrivals.lock() else {
        return "";
    };
    if !arrivals.ids.insert(id) {
        arrivals.repeats += 1;
    } else if let Some(at) = at {
        let latency = (arrived - at.with_timezone(&Utc))
            .to_std()
            .unwrap_or_default();
        arrivals.latencies.push(latency);
        if event["type"] == "message.created"
            && message["author"] == "visitor"
            && let Some(text) = message["text"].as_str()
        {
            arrivals.visitor_messages.push((text.to_owned(), arrived));
        }
    }
    ""
}

pub(crate) async fn run(args: WebhooksArgs) -> Result<()> {
    if args.conversations == 0 || args.messages == 0 || args.rounds == 0 {
        bail!("--conversations, --messages and --rounds must be at least 1");
    }
    let binary = crate::baton_binary(args.baton.as_deref())?;
    let arrivals = Arc::new(Mutex::new(Arrivals::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let total = args.conversations * args.messages;
    println!(
        "webhooks: {} conversations x {} messages = {total} messages on {} (half hand off)",
        args.conversations, args.messages, args.database
    );
    let load = crate::Args {
        command: None,
        conversations: args.conversations,
        messages: args.messages,
        database: args.database.clone(),
        postgres_url: args.postgres_url.clone(),
        baton: Some(binary.clone()),
        hosts: 1,
    };

    // Rounds alternate, each on fresh databases, so that a noisy machine (other
    // processes, caches warming) weighs on both sides alike; the medians are compared.
    let mut plain_rates = Vec::new();
    let mut hooked_rates = Vec::new();
    let mut after_answer: Vec<Duration> = Vec::new();
    let mut events = 0;
    let mut drained = Duration::ZERO;
    for round in 0..args.rounds {
        let plain_db = crate::database_url(&load, dir.path(), &format!("plain{round}"))?;
        let server = start(&binary, &plain_db)?;
        let (plain, _) = load_on(&load, &server.url).await?;
        drop(server);
        plain.print("no subscription");
        plain_rates.push(plain.rate());

        let hooked_db = crate::database_url(&load, dir.path(), &format!("hooked{round}"))?;
        let server = start(&binary, &hooked_db)?;
        let client = reqwest::Client::new();
        call(
            &client,
            reqwest::Method::POST,
            format!("{}/api/v1/webhooks", server.url),
            TOKEN,
            json!({"url": receiver, "events": ["*"]}),
        )
        .await?;
        let (hooked, answered) = load_on(&load, &server.url).await?;
        let load_end = Instant::now();
        hooked.print("one subscriber");
        hooked_rates.push(hooked.rate());
        loop {
            let (total, pending) = undelivered(&hooked_db).await?;
            if pending == 0 {
                events += total;
                drained = drained.max(load_end.elapsed());
                break;
            }
            if load_end.elapsed() > DRAIN_DEADLINE {
                bail!("{pending} of {total} deliveries still pending");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(server);
        // The commit lies between the event's timestamp and the answer to the request
        // that made it: the two measures bracket the latency after commit.
        let arrived = std::mem::take(
            &mut arrivals
                .lock()
                .map_err(|_| anyhow!("poisoned"))?
                .visitor_messages,
        );
        after_answer.extend(arrived.into_iter().filter_map(|(text, arrived)| {
            let answered = answered.get(&text)?;
            Some((arrived - *answered).to_std().unwrap_or_default())
        }));
        for (url, schema) in [plain_db, hooked_db] {
            if let Some(schema) = schema {
                crate::drop_schema(&url, &schema).await?;
            }
        }
    }

    let arrivals = arrivals.lock().map_err(|_| anyhow!("poisoned"))?;
    let latencies = arrivals.latencies.clone();
    let (plain, hooked) = (median(plain_rates), median(hooked_rates));
    println!(
        "ratio (medians of {} rounds): {plain:.0} vs {hooked:.0} messages/s: with one subscriber the pipeline reaches {:.0}% of its rate without (outbox cost {:.0}%)",
        args.rounds,
        100.0 * hooked / plain,
        100.0 * (1.0 - hooked / plain)
    );
    println!(
        "deliveries: {events} events ({} arrived), first attempt after the event: p50 {:.2} ms   p99 {:.2} ms   worst {:.2} ms; all arrived within {:.2} s of the load's end; {} repeats",
        latencies.len(),
        percentile(latencies.clone(), 0.50).as_secs_f64() * 1e3,
        percentile(latencies.clone(), 0.99).as_secs_f64() * 1e3,
        percentile(latencies, 1.0).as_secs_f64() * 1e3,
        drained.as_secs_f64(),
        arrivals.repeats,
    );
    println!(
        "deliveries: visitor messages' event after the HTTP answer (commit already made; 0 when it came first): p50 {:.2} ms   p99 {:.2} ms   ({} matched)",
        percentile(after_answer.clone(), 0.50).as_secs_f64() * 1e3,
        percentile(after_answer.clone(), 0.99).as_secs_f64() * 1e3,
        after_answer.len(),
    );
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// Deliveries not yet delivered, read from the database itself.
async fn undelivered(database: &(String, Option<String>)) -> Result<(i64, i64)> {
    use sea_orm::ConnectionTrait;
    let store = baton_store::SeaStore::connect(&database.0, database.1.as_deref()).await?;
    let db = store.connection();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS total, \
             SUM(CASE WHEN delivered_at IS NULL THEN 1 ELSE 0 END) AS pending \
             FROM webhook_deliveries",
        ))
        .await?
        .ok_or_else(|| anyhow!("no count"))?;
    let total: i64 = row.try_get("", "total")?;
    let pending: Option<i64> = row.try_get("", "pending")?;
    Ok((total, pending.unwrap_or_default()))
}

/// `baton serve` with loopback webhook targets allowed.
fn start(binary: &Path, (url, schema): &(String, Option<String>)) -> Result<Server> {
    use std::io::{BufRead, BufReader};
    let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/kb");
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .env("BATON_HTTP__ADDR", "127.0.0.1:0")
        .env("BATON_DATABASE__URL", url)
        .env("BATON_BOOTSTRAP_TOKEN", TOKEN)
        .env("BATON_KB__DIR", kb)
        .env("BATON_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")
        .env("RUST_LOG", "error")
        // One loopback address drives the whole load: the per-address edge limits would
        // measure themselves (as in `start_binary`).
        .env("BATON_LIMITS__MAX_CONNECTIONS", "30000")
        .env(
            "BATON_LIMITS__CONVERSATIONS_PER_MINUTE_PER_ADDRESS",
            "10000000",
        )
        .env("BATON_LIMITS__MESSAGES_PER_MINUTE_PER_ADDRESS", "10000000")
        .env("BATON_LIMITS__WEBHOOKS_PER_MINUTE_PER_ADDRESS", "10000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(schema) = schema {
        command.env("BATON_DATABASE__SCHEMA", schema);
    }
    let mut child = command.spawn().context("starting baton")?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .ok_or_else(|| anyhow!("baton exited before listening"))??;
        if let Some(url) = line.strip_prefix("Baton listening on ") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(Server { child, url })
}

/// The main run's load (`http_run`) on a server already started: users, live settings
/// handing "refund" off, then every conversation's messages at once.
/// Also returns when each visitor message's answer arrived, by text.
async fn load_on(
    args: &crate::Args,
    base: &str,
) -> Result<(Figures, HashMap<String, DateTime<Utc>>)> {
    let client = reqwest::Client::new();
    let conversations = crate::prepare(&client, base, args.conversations).await?;
    let messages = args.messages;
    let started = Instant::now();
    let mut tasks: Vec<Task> = Vec::new();
    let answered = Arc::new(Mutex::new(HashMap::new()));
    for (index, (id, token)) in conversations.into_iter().enumerate() {
        let client = client.clone();
        let answered = answered.clone();
        let url = format!("{base}/api/v1/chat/conversations/{id}/messages");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(messages);
            for m in 0..messages {
                let sent = Instant::now();
                let said = text(index, m);
                call(
                    &client,
                    reqwest::Method::POST,
                    url.clone(),
                    &token,
                    json!({"text": said, "client_message_id": format!("{index}-{m}")}),
                )
                .await?;
                latencies.push((sent.elapsed(), hands_off(index, m)));
                if let Ok(mut answered) = answered.lock() {
                    answered.insert(said, Utc::now());
                }
            }
            Ok(latencies)
        }));
    }
    let latencies = join(tasks).await?;
    let figures = Figures {
        elapsed: started.elapsed(),
        latencies,
    };
    let answered = answered.lock().map_err(|_| anyhow!("poisoned"))?.clone();
    Ok((figures, answered))
}
