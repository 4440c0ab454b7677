//! `baton-load sign-in`: a burst of concurrent sign-ins must not stall other requests.
//!
//! Password verification is argon2id at the production cost, tens to hundreds of
//! milliseconds of CPU each; `baton-auth` runs it on the blocking pool so that the async
//! workers keep serving everything else. This run checks that from outside:
//!
//! 1. starts the real `baton` binary on a fresh SQLite database on `127.0.0.1:0`, reads
//!    the owner's set-password link it prints and sets the password through it;
//! 2. measures `GET /healthz` latency, one request after the other, alone (the baseline);
//! 3. the same again while `--concurrency` workers sign in as the owner in a loop
//!    (`POST /login`, each answered `303` with a session cookie);
//! 4. prints p50/p99 of both, their ratio, and the sign-ins/s achieved meanwhile.
//!
//! Everything stays on 127.0.0.1 and every loop is bounded.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::Args;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, ORIGIN, SET_COOKIE};

use crate::percentile;

#[derive(Debug, Args)]
pub(crate) struct SignInArgs {
    /// Sequential `GET /healthz` requests timed alone, then again during the sign-ins.
    #[arg(long, default_value_t = 400)]
    requests: usize,
    /// Milliseconds from the start of one `GET /healthz` to the next (a slower answer
    /// makes the next start at once): a steady loop that spans several sign-ins.
    #[arg(long, default_value_t = 10)]
    interval_ms: u64,
    /// Concurrent sign-in loops.
    #[arg(long, default_value_t = 20)]
    concurrency: usize,
    /// The `baton` binary (default: next to this one).
    #[arg(long)]
    baton: Option<PathBuf>,
}

const PASSWORD: &str = "load-run owner password";
/// Most sign-ins one loop makes: a bound should the healthz loop never finish.
const MAX_SIGN_INS_PER_LOOP: usize = 10_000;
/// Time for the sign-in loops to get going before the healthz loop starts.
const RAMP_UP: Duration = Duration::from_millis(500);

pub(crate) async fn run(args: SignInArgs) -> Result<()> {
    if args.requests == 0 || args.concurrency == 0 {
        bail!("--requests and --concurrency must be at least 1");
    }
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}/sign-in.db?mode=rwc", dir.path().display());
    let server = start(&crate::baton_binary(args.baton.as_deref())?, &database)?;
    let base = server.url.clone();
    // No redirects followed: a sign-in's answer is the 303 itself, with its cookie.
    let client = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
    };
    let sign_in_client = client()?;
    let health_client = client()?;

    // The owner's password, through the link the server printed.
    let response = post_form(
        &sign_in_client,
        &base,
        &server.password_link,
        &[("password", PASSWORD), ("repeat", PASSWORD)],
    )
    .await?;
    ensure!(
        response.status() == StatusCode::SEE_OTHER,
        "setting the owner's password: {} {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    let email = server.owner_email.clone();
    let one = sign_in(&sign_in_client, &base, &email).await?;
    println!(
        "sign-in load: baton at {base}, owner {email}; one sign-in alone took {:.1} ms",
        one.as_secs_f64() * 1e3
    );

    // Warm the healthz connection, then the baseline.
    for _ in 0..20 {
        health(&health_client, &base).await?;
    }
    let interval = Duration::from_millis(args.interval_ms);
    let alone = health_loop(&health_client, &base, args.requests, interval).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let mut loops = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let client = sign_in_client.clone();
        let base = base.clone();
        let email = email.clone();
        let stop = stop.clone();
        loops.push(tokio::spawn(async move {
            // (when it finished, how long it took) per sign-in
            let mut done: Vec<(Instant, Duration)> = Vec::new();
            while !stop.load(Ordering::Relaxed) && done.len() < MAX_SIGN_INS_PER_LOOP {
                let took = sign_in(&client, &base, &email).await?;
                done.push((Instant::now(), took));
            }
            anyhow::Ok(done)
        }));
    }
    tokio::time::sleep(RAMP_UP).await;
    let window_start = Instant::now();
    let during = health_loop(&health_client, &base, args.requests, interval).await;
    let window = window_start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut sign_ins = Vec::new();
    for task in loops {
        sign_ins.extend(task.await??);
    }
    let during = during?;
    drop(server);

    let in_window: Vec<Duration> = sign_ins
        .iter()
        .filter(|(at, _)| *at >= window_start && *at <= window_start + window)
        .map(|(_, took)| *took)
        .collect();
    let rate = in_window.len() as f64 / window.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (alone_p50, alone_p99) = (percentile(alone.clone(), 0.5), percentile(alone, 0.99));
    let (during_p50, during_p99) = (
        percentile(during.clone(), 0.5),
        percentile(during.clone(), 0.99),
    );
    let during_max = during.iter().max().copied().unwrap_or_default();
    println!(
        "GET /healthz alone:  p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, one per {} ms)",
        ms(alone_p50),
        ms(alone_p99),
        args.requests,
        args.interval_ms
    );
    println!(
        "GET /healthz during {} concurrent sign-ins: p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   ({} requests in {:.2} s)",
        args.concurrency,
        ms(during_p50),
        ms(during_p99),
        ms(during_max),
        args.requests,
        window.as_secs_f64()
    );
    println!(
        "ratio during/alone: p50 {:.2}x   p99 {:.2}x",
        during_p50.as_secs_f64() / alone_p50.as_secs_f64().max(1e-9),
        during_p99.as_secs_f64() / alone_p99.as_secs_f64().max(1e-9)
    );
    println!(
        "sign-ins: {rate:.1}/s during the healthz window ({} completed in {:.2} s; {} in all), each p50 {:.0} ms, p99 {:.0} ms",
        in_window.len(),
        window.as_secs_f64(),
        sign_ins.len(),
        ms(percentile(in_window.clone(), 0.5)),
        ms(percentile(in_window, 0.99)),
    );
    Ok(())
}

/// `n` sequential `GET /healthz`, one per `interval`, each one's latency.
async fn health_loop(
    client: &reqwest::Client,
    base: &str,
    n: usize,
    interval: Duration,
) -> Result<Vec<Duration>> {
    let mut ticks = tokio::time::interval(interval.max(Duration::from_micros(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        ticks.tick().await;
        latencies.push(health(client, base).await?);
    }
    Ok(latencies)
}

async fn health(client: &reqwest::Client, base: &str) -> Result<Duration> {
    let sent = Instant::now();
    let response = client.get(format!("{base}/healthz")).send().await?;
    let status = response.status();
    response.bytes().await?;
    let took = sent.elapsed();
    ensure!(status.is_success(), "GET /healthz: {status}");
    Ok(took)
}

/// One sign-in as `email` with the right password (wrong ones would lock the account
/// after five): `303` with a session cookie, or an error.
async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> Result<Duration> {
    let sent = Instant::now();
    let response = post_form(
        client,
        base,
        &format!("{base}/login"),
        &[("email", email), ("password", PASSWORD)],
    )
    .await?;
    let status = response.status();
    let cookie = response.headers().contains_key(SET_COOKIE);
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await?;
    let took = sent.elapsed();
    ensure!(
        status == StatusCode::SEE_OTHER && cookie,
        "POST /login: {status} (location {location:?}, cookie {cookie}): {}",
        String::from_utf8_lossy(&body)
            .chars()
            .take(300)
            .collect::<String>()
    );
    Ok(took)
}

/// A form POST as the console's own pages send it: same origin, by both headers the
/// origin check reads.
async fn post_form(
    client: &reqwest::Client,
    base: &str,
    url: &str,
    fields: &[(&str, &str)],
) -> Result<reqwest::Response> {
    let body = fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    Ok(client
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ORIGIN, base)
        .header("Sec-Fetch-Site", "same-origin")
        .body(body)
        .send()
        .await?)
}

/// `application/x-www-form-urlencoded` encoding of one name or value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

struct Server {
    child: Child,
    url: String,
    owner_email: String,
    password_link: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `baton serve` on a fresh database and reads what it prints up to the owner's
/// set-password link.
fn start(binary: &Path, database: &str) -> Result<Server> {
    let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/kb");
    let mut child = Command::new(binary)
        .arg("serve")
        .env("BATON_HTTP__ADDR", "127.0.0.1:0")
        .env("BATON_DATABASE__URL", database)
        .env("BATON_KB__DIR", kb)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut server = Server {
        child,
        url: String::new(),
        owner_email: String::new(),
        password_link: String::new(),
    };
    let mut lines = BufReader::new(stdout).lines();
    while server.password_link.is_empty() {
        let line = lines
            .next()
            .ok_or_else(|| anyhow!("baton exited before printing the owner's password link"))??;
        if let Some(url) = line.strip_prefix("Baton listening on ") {
            server.url = url.trim().to_owned();
        } else if let Some(email) = line.strip_prefix("Owner: ") {
            server.owner_email = email.trim().to_owned();
        } else if let Some(link) = line.strip_prefix("Set the owner's password: ") {
            server.password_link = link.trim().to_owned();
        }
    }
    ensure!(
        !server.url.is_empty() && !server.owner_email.is_empty(),
        "baton printed the password link without its address or the owner's email"
    );
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(server)
}
