//! `baton-load idle-streams`: what idle visitor event streams cost the server.
//!
//! 1. Starts the real `baton` binary on a fresh SQLite database (edge limits raised: one
//!    loopback address stands for every visitor) and opens `--conversations` visitor
//!    conversations.
//! 2. Baseline with no stream held: the server's resident memory (`VmRSS`) and the p50/p99
//!    of `--requests` sequential `GET /api/v1/chat/conversations/{id}` (a visitor reading
//!    their conversation: a token check and a database read) and `GET /healthz`.
//! 3. Opens `--streams` visitor streams (`GET .../events`), spread round robin over the
//!    conversations, waits until each has its first event, lets the server settle, and
//!    measures the same again while they are held.
//!
//! Prints the memory per idle stream (goal: 20 KB at most) and the p99 ratio held / none
//! (goal: 2x at most).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::Args;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};

use crate::{call, percentile};

#[derive(Debug, Args)]
pub(crate) struct IdleArgs {
    /// Visitor streams held at once (each is a connection: mind `ulimit -n`).
    #[arg(long, default_value_t = 10_000)]
    streams: usize,
    /// Conversations the streams are spread over.
    #[arg(long, default_value_t = 1000)]
    conversations: usize,
    /// Requests timed for each percentile.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// The `baton` binary (default: next to this one).
    #[arg(long)]
    baton: Option<std::path::PathBuf>,
}

/// How long all the streams may take to connect before the run fails.
const DEADLINE: Duration = Duration::from_secs(120);
/// Streams connecting at once: more only queues in the listen backlog.
const CONNECTING: usize = 256;

pub(crate) async fn run(args: IdleArgs) -> Result<()> {
    if args.streams == 0 || args.conversations == 0 || args.requests == 0 {
        bail!("--streams, --conversations and --requests must be at least 1");
    }
    let dir = tempfile::tempdir()?;
    let database = (
        format!("sqlite://{}/idle.db?mode=rwc", dir.path().display()),
        None,
    );
    let server = crate::start_binary(&crate::baton_binary(args.baton.as_deref())?, &database)?;
    let pid = server.child.id();
    let base = server.url.clone();
    let client = reqwest::Client::new();
    println!(
        "idle-streams: baton at {base} (pid {pid}), {} streams over {} conversations",
        args.streams, args.conversations
    );
    let mut visitors = Vec::with_capacity(args.conversations);
    for _ in 0..args.conversations {
        let created = call(
            &client,
            reqwest::Method::POST,
            format!("{base}/api/v1/chat/conversations"),
            "",
            json!({"visitor": {"name": "Idle"}}),
        )
        .await?;
        let id = created["conversation_id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no conversation_id in {created}"))?;
        let token = created["visitor_token"]
            .as_str()
            .ok_or_else(|| anyhow!("no visitor_token in {created}"))?
            .to_owned();
        visitors.push((id, token));
    }
    let (probe_id, probe_token) = visitors[0].clone();
    let probe = format!("{base}/api/v1/chat/conversations/{probe_id}");
    let health = format!("{base}/healthz");

    // Warm the paths, untimed, then the baseline.
    timed(&client, &probe, &probe_token, args.requests / 4 + 1).await?;
    let none_rss = rss_kib(pid)?;
    let none_get = timed(&client, &probe, &probe_token, args.requests).await?;
    let none_health = timed(&client, &health, "", args.requests).await?;

    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let connecting = Arc::new(Semaphore::new(CONNECTING));
    let streams_client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let mut streams = Vec::with_capacity(args.streams);
    for i in 0..args.streams {
        let (id, token) = &visitors[i % visitors.len()];
        let request = streams_client
            .get(format!("{base}/api/v1/chat/conversations/{id}/events"))
            .bearer_auth(token)
            .header("accept", "text/event-stream");
        let ready = ready_tx.clone();
        let connecting = connecting.clone();
        streams.push(tokio::spawn(async move {
            let permit = connecting.acquire_owned().await?;
            let mut response = request.send().await?;
            ensure!(
                response.status().is_success(),
                "stream: {}",
                response.status()
            );
            // Connected once the first event (the conversation's state) arrived.
            response.chunk().await?;
            drop(permit);
            let _ = ready.send(());
            while response.chunk().await?.is_some() {}
            Ok::<(), anyhow::Error>(())
        }));
    }
    let started = Instant::now();
    for connected in 0..args.streams {
        tokio::time::timeout(DEADLINE.saturating_sub(started.elapsed()), ready_rx.recv())
            .await
            .with_context(|| format!("only {connected} of {} streams connected", args.streams))?
            .ok_or_else(|| anyhow!("streams ended before connecting"))?;
    }
    println!(
        "connected {} streams in {:.1} s",
        args.streams,
        started.elapsed().as_secs_f64()
    );
    // Let the server settle: buffers allocated on connect, keep-alive timers armed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held_rss = rss_kib(pid)?;
    let fresh = reqwest::Client::new();
    let held_get = timed(&fresh, &probe, &probe_token, args.requests).await?;
    let held_health = timed(&fresh, &health, "", args.requests).await?;
    let still = streams.iter().filter(|s| !s.is_finished()).count();
    ensure!(
        still == args.streams,
        "{} streams ended while held",
        args.streams - still
    );

    let per_stream = held_rss.saturating_sub(none_rss) as f64 * 1024.0 / args.streams as f64;
    println!(
        "memory: {none_rss} KiB resident with no stream, {held_rss} KiB with {} idle streams: {:.1} KB ({:.1} KiB) per stream (goal <= 20 KB)",
        args.streams,
        per_stream / 1000.0,
        per_stream / 1024.0
    );
    let line = |label: &str, none: &[Duration], held: &[Duration]| {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let (n50, n99) = (
            percentile(none.to_vec(), 0.5),
            percentile(none.to_vec(), 0.99),
        );
        let (h50, h99) = (
            percentile(held.to_vec(), 0.5),
            percentile(held.to_vec(), 0.99),
        );
        println!(
            "{label:>28}: none held p50 {:.2} ms p99 {:.2} ms | {} held p50 {:.2} ms p99 {:.2} ms | p99 ratio {:.2}x (goal <= 2x)",
            ms(n50),
            ms(n99),
            args.streams,
            ms(h50),
            ms(h99),
            h99.as_secs_f64() / n99.as_secs_f64().max(1e-9)
        );
    };
    line("GET conversation (visitor)", &none_get, &held_get);
    line("GET /healthz", &none_health, &held_health);
    for stream in streams {
        stream.abort();
    }
    drop(server);
    Ok(())
}

/// `count` sequential GETs of `url`, each one's latency.
async fn timed(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    count: usize,
) -> Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let mut request = client.get(url);
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        response.bytes().await?;
        ensure!(status.is_success(), "{url}: {status}");
        latencies.push(started.elapsed());
    }
    Ok(latencies)
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
