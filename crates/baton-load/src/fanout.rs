//! `baton-load fanout`: one handoff reaching every connected staff stream.
//!
//! 1. Starts the real `baton` binary on a fresh SQLite database, with one agent and live
//!    settings that hand "refund" off to them.
//! 2. Baseline: one staff stream (`GET /api/v1/events`) connected; `--rounds` times a new
//!    visitor writes "I want a refund", and the time from sending it until the stream has
//!    the `assigned` event of that conversation is recorded.
//! 3. The same with `--streams` streams connected: the time until the LAST stream has it
//!    (and the first, and the median stream), per round.
//! 4. The server's resident memory (`VmRSS` of its process) with the one stream and with
//!    all of them connected and idle: the difference per stream.
//!
//! Prints p50 and worst of "time to the last stream" for both, and their ratio.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::Args;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::{TOKEN, call, percentile};

#[derive(Debug, Args)]
pub(crate) struct FanoutArgs {
    /// Staff streams connected at once.
    #[arg(long, default_value_t = 1000)]
    streams: usize,
    /// Handoffs timed with one stream, then again with all of them.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// The `baton` binary (default: next to this one).
    #[arg(long)]
    baton: Option<std::path::PathBuf>,
}

/// How long one handoff may take to reach every stream before the run fails.
const DEADLINE: Duration = Duration::from_secs(60);

/// A stream saw the assignment of `conversation` at `at`.
struct Seen {
    conversation: i64,
    at: Instant,
}

pub(crate) async fn run(args: FanoutArgs) -> Result<()> {
    if args.streams < 2 || args.rounds == 0 {
        bail!("--streams must be at least 2 and --rounds at least 1");
    }
    let dir = tempfile::tempdir()?;
    let database = (
        format!("sqlite://{}/fanout.db?mode=rwc", dir.path().display()),
        None,
    );
    let server = crate::start_binary(&crate::baton_binary(args.baton.as_deref())?, &database)?;
    let pid = server.child.id();
    let base = server.url.clone();
    let client = reqwest::Client::new();
    setup(&client, &base, args.rounds * 2 + 2).await?;
    println!(
        "fanout: baton at {base} (pid {pid}), {} streams, {} rounds",
        args.streams, args.rounds
    );

    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<Seen>();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let mut streams = Vec::with_capacity(args.streams);
    streams.push(connect(&client, &base, seen_tx.clone(), ready_tx.clone()));
    wait_ready(&mut ready_rx, 1).await?;
    // Warm the paths once, untimed.
    handoff(&client, &base).await?;
    drain(&mut seen_rx, 1).await?;

    let one_rss = rss_kib(pid)?;
    let alone = rounds(&client, &base, &mut seen_rx, args.rounds, 1).await?;

    for _ in 1..args.streams {
        streams.push(connect(&client, &base, seen_tx.clone(), ready_tx.clone()));
    }
    wait_ready(&mut ready_rx, args.streams - 1).await?;
    // Let the server settle: buffers allocated on connect, keep-alive timers armed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all_rss = rss_kib(pid)?;
    let all = rounds(&client, &base, &mut seen_rx, args.rounds, args.streams).await?;

    let per_stream = (all_rss.saturating_sub(one_rss)) as f64 / (args.streams - 1) as f64;
    println!(
        "memory: {one_rss} KiB resident with 1 stream, {all_rss} KiB with {} idle streams: {per_stream:.1} KiB per stream",
        args.streams
    );
    report("1 stream", &alone);
    report(&format!("{} streams", args.streams), &all);
    let last = |r: &[Round]| percentile(r.iter().map(|r| r.last).collect(), 0.5);
    println!(
        "ratio: p50 time to the last stream, {} streams / 1 stream = {:.1}x",
        args.streams,
        last(&all).as_secs_f64() / last(&alone).as_secs_f64()
    );
    for stream in streams {
        stream.abort();
    }
    Ok(())
}

/// One agent, a help desk, and live settings that hand "refund" off to the agent.
async fn setup(client: &reqwest::Client, base: &str, capacity: usize) -> Result<()> {
    let post = reqwest::Method::POST;
    let user = call(
        client,
        post.clone(),
        format!("{base}/api/v1/users"),
        TOKEN,
        json!({"name": "Ann", "email": "ann@example.com", "seat": "service",
               "capacity": capacity}),
    )
    .await?;
    let inbox = call(
        client,
        post,
        format!("{base}/api/v1/inboxes"),
        TOKEN,
        json!({"name": "Support", "kind": "help_desk"}),
    )
    .await?;
    call(
        client,
        reqwest::Method::PUT,
        format!("{base}/api/v1/handoff/settings"),
        TOKEN,
        json!({
            "default_triggers": {"cannot_answer": false, "asks_for_human": true, "agent_paused": true},
            "custom_triggers": ["refund"],
            "process": "live",
            "destination": {"kind": "users_and_teams", "inbox_id": inbox["id"], "user_ids": [user["id"]]},
            "messages": {"available": "Connecting you.", "unavailable": "Later.", "unassigned_by_workflow": "Logged."}
        }),
    )
    .await?;
    Ok(())
}

/// A new visitor writes a message that hands off; returns the conversation and when the
/// message was sent.
async fn handoff(client: &reqwest::Client, base: &str) -> Result<(i64, Instant)> {
    let created = call(
        client,
        reqwest::Method::POST,
        format!("{base}/api/v1/chat/conversations"),
        "",
        json!({"visitor": {"name": "Fan"}}),
    )
    .await?;
    let id = created["conversation_id"]
        .as_i64()
        .ok_or_else(|| anyhow!("no conversation_id in {created}"))?;
    let token = created["visitor_token"].as_str().unwrap_or_default();
    let sent = Instant::now();
    call(
        client,
        reqwest::Method::POST,
        format!("{base}/api/v1/chat/conversations/{id}/messages"),
        token,
        json!({"text": "I want a refund"}),
    )
    .await?;
    Ok((id, sent))
}

/// One round's figures: from sending the message to the first, median and last stream.
struct Round {
    first: Duration,
    median: Duration,
    last: Duration,
}

async fn rounds(
    client: &reqwest::Client,
    base: &str,
    seen: &mut mpsc::UnboundedReceiver<Seen>,
    rounds: usize,
    streams: usize,
) -> Result<Vec<Round>> {
    let mut figures = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (id, sent) = handoff(client, base).await?;
        let mut arrivals = Vec::with_capacity(streams);
        let mut others: HashMap<i64, usize> = HashMap::new();
        while arrivals.len() < streams {
            let next = tokio::time::timeout(DEADLINE, seen.recv())
                .await
                .with_context(|| {
                    format!(
                        "only {} of {streams} streams had the handoff after {DEADLINE:?}",
                        arrivals.len()
                    )
                })?
                .ok_or_else(|| anyhow!("every stream ended"))?;
            if next.conversation == id {
                arrivals.push(next.at.saturating_duration_since(sent));
            } else {
                *others.entry(next.conversation).or_default() += 1;
            }
        }
        ensure!(
            others.is_empty(),
            "assignments of other conversations arrived: {others:?}"
        );
        arrivals.sort();
        figures.push(Round {
            first: arrivals[0],
            median: arrivals[arrivals.len() / 2],
            last: arrivals[arrivals.len() - 1],
        });
    }
    Ok(figures)
}

fn report(label: &str, rounds: &[Round]) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p50 = |pick: fn(&Round) -> Duration| percentile(rounds.iter().map(pick).collect(), 0.5);
    let worst = rounds.iter().map(|r| r.last).max().unwrap_or_default();
    println!(
        "{label}: time from the visitor's message to the stream having it, p50 over {} rounds: first {:.2} ms, median stream {:.2} ms, last stream {:.2} ms (worst round's last {:.2} ms)",
        rounds.len(),
        ms(p50(|r| r.first)),
        ms(p50(|r| r.median)),
        ms(p50(|r| r.last)),
        ms(worst),
    );
}

/// Opens one staff stream in a task that reports every `assigned` event it reads.
fn connect(
    client: &reqwest::Client,
    base: &str,
    seen: mpsc::UnboundedSender<Seen>,
    ready: mpsc::UnboundedSender<()>,
) -> tokio::task::JoinHandle<Result<()>> {
    let request = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(TOKEN)
        .header("accept", "text/event-stream");
    tokio::spawn(async move {
        let mut response = request.send().await?;
        ensure!(
            response.status().is_success(),
            "stream: {}",
            response.status()
        );
        let _ = ready.send(());
        let mut buffer = String::new();
        while let Some(chunk) = response.chunk().await? {
            // Stamped on arrival, before parsing: the time is the transport's.
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(conversation) = assigned(&block) {
                    let _ = seen.send(Seen { conversation, at });
                }
            }
        }
        Ok(())
    })
}

/// The conversation of an `assigned` event block.
fn assigned(block: &str) -> Option<i64> {
    let mut name = "";
    let mut data = "";
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            name = value.trim();
        } else if let Some(value) = line.strip_prefix("data:") {
            data = value.trim();
        }
    }
    if name != "assigned" {
        return None;
    }
    serde_json::from_str::<Value>(data).ok()?["conversation_id"].as_i64()
}

async fn wait_ready(ready: &mut mpsc::UnboundedReceiver<()>, count: usize) -> Result<()> {
    for connected in 0..count {
        tokio::time::timeout(DEADLINE, ready.recv())
            .await
            .with_context(|| format!("only {connected} of {count} streams connected"))?
            .ok_or_else(|| anyhow!("streams ended before connecting"))?;
    }
    Ok(())
}

async fn drain(seen: &mut mpsc::UnboundedReceiver<Seen>, count: usize) -> Result<()> {
    for _ in 0..count {
        tokio::time::timeout(DEADLINE, seen.recv())
            .await
            .context("the warm-up handoff never reached the stream")?;
    }
    Ok(())
}

/// The resident memory of process `pid`, from `/proc` (Linux).
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}
