//! `baton-load`: the throughput figure of the pipeline, as a ratio against a baseline
//! measured in the same run on the same kind of database.
//!
//! 1. Starts the real `baton` binary on a fresh database and drives it over HTTP with
//!    `--conversations` concurrent chat conversations of `--messages` messages each: half
//!    of them hand off on their first message (a human then holds them and later messages
//!    are stored silently), the other half get answers from the knowledge base.
//! 2. On a second fresh database, performs the same row writes directly through the store
//!    (`Store::commit_turn` with the same actions, same concurrency).
//! 3. Prints messages/s and latency percentiles for both, and the ratio.
//!
//! `baton-load sign-in` is another run: `GET /healthz` latency alone and during a burst
//! of concurrent password sign-ins ([`sign_in`]). `baton-load fanout`: one handoff
//! reaching 1 vs 1,000 staff streams, and memory per idle stream ([`fanout`]).
//! `baton-load idle-streams`: memory per idle visitor stream and request p99 with
//! 10,000 held ([`idle`]).
#![allow(clippy::print_stdout)] // a command-line tool: stdout is its report

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use baton_core::decision::{HandoffProcess, Trigger};
use baton_core::ids::{ConversationId, InboxId};
use baton_core::people::{Permission, Seat};
use baton_core::settings::{Destination, HandoffSettings, Process};
use baton_engine::Store;
use baton_engine::model::{HandoffPlan, InboxKind, NewUser, Turn, TurnAction, Visitor};
use baton_store::SeaStore;
use clap::Parser;
use serde_json::{Value, json};

mod chaos;
mod chaos_email;
mod chaos_telegram;
mod fanout;
mod idle;
mod sign_in;
mod webhooks;

#[derive(Debug, Parser)]
#[command(about = "Load run: HTTP pipeline vs raw store writes, same database kind, same run")]
struct Args {
    #[command(subcommand)]
    command: Option<Run>,
    /// Concurrent conversations.
    #[arg(long, default_value_t = 64)]
    conversations: usize,
    /// Messages per conversation.
    #[arg(long, default_value_t = 10)]
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
    baton: Option<PathBuf>,
    /// Hosts sharing the database (PostgreSQL only); above 1 the run is also made on one
    /// host, for the comparison.
    #[arg(long, default_value_t = 1)]
    hosts: usize,
}

#[derive(Debug, clap::Subcommand)]
enum Run {
    /// `GET /healthz` latency alone vs during concurrent password sign-ins (SQLite).
    SignIn(sign_in::SignInArgs),
    /// One handoff reaching 1 vs 1,000 connected staff streams, and memory per idle
    /// stream (SQLite).
    Fanout(fanout::FanoutArgs),
    /// The pipeline's rate with one webhook subscriber vs none, and the first attempts'
    /// latency after commit.
    Webhooks(webhooks::WebhooksArgs),
    /// Memory per idle visitor stream, and request p99 with 10,000 of them held vs none.
    IdleStreams(idle::IdleArgs),
    /// Mixed load while the server is killed (SIGKILL) and restarted N times; then every
    /// invariant is checked in the database. Exits 1 on a violation.
    Chaos(chaos::ChaosArgs),
}

const TOKEN: &str = "load-run-owner-token-0123456789";
const USERS: usize = 8;

fn main() -> Result<()> {
    let mut args = Args::parse();
    match args.command.take() {
        Some(Run::SignIn(sign_in)) => {
            return tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(sign_in::run(sign_in));
        }
        Some(Run::Fanout(fanout)) => {
            return tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(fanout::run(fanout));
        }
        Some(Run::Webhooks(webhooks)) => {
            return tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(webhooks::run(webhooks));
        }
        Some(Run::IdleStreams(idle)) => {
            return tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(idle::run(idle));
        }
        Some(Run::Chaos(chaos)) => {
            return tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(chaos::run(chaos));
        }
        None => {}
    }
    if args.conversations == 0 || args.messages == 0 || args.hosts == 0 {
        bail!("--conversations, --messages and --hosts must be at least 1");
    }
    if args.hosts > 1 && args.database != "postgres" {
        bail!("several hosts share a PostgreSQL database: add --database postgres");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let total = args.conversations * args.messages;
    println!(
        "load run: {} conversations x {} messages = {total} messages on {} (half hand off)",
        args.conversations, args.messages, args.database
    );

    let mut databases = Vec::new();
    let http_url = database_url(&args, dir.path(), "http")?;
    let http = http_run(&args, &http_url, 1).await?;
    http.print("HTTP, 1 host");
    databases.push(http_url);
    let several = if args.hosts > 1 {
        let url = database_url(&args, dir.path(), "hosts")?;
        let figures = http_run(&args, &url, args.hosts).await?;
        figures.print(&format!("HTTP, {} hosts", args.hosts));
        databases.push(url);
        Some(figures)
    } else {
        None
    };

    let raw_url = database_url(&args, dir.path(), "raw")?;
    let raw = raw_run(&args, &raw_url).await?;
    raw.print("raw store writes");
    databases.push(raw_url);

    println!(
        "ratio: HTTP pipeline on 1 host reaches {:.0}% of the raw store write rate",
        100.0 * http.rate() / raw.rate()
    );
    if let Some(several) = several {
        println!(
            "ratio: {} hosts reach {:.0}% of the raw rate; handoffs/s {:.2}x and p99 handoff latency {:.2}x of one host",
            args.hosts,
            100.0 * several.rate() / raw.rate(),
            several.handoff_rate() / http.handoff_rate(),
            several.handoff_percentile(0.99).as_secs_f64()
                / http.handoff_percentile(0.99).as_secs_f64().max(1e-9),
        );
    }
    for (url, schema) in databases {
        if let Some(schema) = schema {
            drop_schema(&url, &schema).await?;
        }
    }
    Ok(())
}

async fn drop_schema(url: &str, schema: &str) -> Result<()> {
    use sea_orm::ConnectionTrait;
    let store = SeaStore::connect(url, Some(schema)).await?;
    store
        .connection()
        .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await?;
    Ok(())
}

/// (URL, schema) for one run.
fn database_url(args: &Args, dir: &Path, name: &str) -> Result<(String, Option<String>)> {
    match args.database.as_str() {
        "sqlite" => Ok((
            format!("sqlite://{}/{name}.db?mode=rwc", dir.display()),
            None,
        )),
        "postgres" => Ok((
            args.postgres_url.clone(),
            Some(format!(
                "load_{name}_{}_{}",
                std::process::id(),
                chrono::Utc::now().timestamp()
            )),
        )),
        other => bail!("--database must be sqlite or postgres, not {other}"),
    }
}

struct Figures {
    elapsed: Duration,
    /// Every message's latency, and whether it was a handoff.
    latencies: Vec<(Duration, bool)>,
}

fn percentile(mut sorted: Vec<Duration>, p: f64) -> Duration {
    sorted.sort();
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

impl Figures {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn handoff_rate(&self) -> f64 {
        self.latencies.iter().filter(|(_, h)| *h).count() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        percentile(self.latencies.iter().map(|(d, _)| *d).collect(), p)
    }

    /// Latency of the handoff requests: the assignment is made inside them.
    fn handoff_percentile(&self, p: f64) -> Duration {
        percentile(
            self.latencies
                .iter()
                .filter(|(_, h)| *h)
                .map(|(d, _)| *d)
                .collect(),
            p,
        )
    }

    fn print(&self, label: &str) {
        println!(
            "{label:>18}: {:>8.0} messages/s   p50 {:>7.2} ms   p99 {:>7.2} ms   handoffs {:>6.0}/s, p99 {:>7.2} ms   ({} messages in {:.2} s)",
            self.rate(),
            self.percentile(0.50).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.handoff_rate(),
            self.handoff_percentile(0.99).as_secs_f64() * 1e3,
            self.latencies.len(),
            self.elapsed.as_secs_f64()
        );
    }
}

/// Whether message `m` of conversation `index` hands off (see [`text`]).
fn hands_off(index: usize, m: usize) -> bool {
    index.is_multiple_of(2) && m == 0
}

fn text(conversation: usize, message: usize) -> String {
    match (conversation % 2, message) {
        (0, 0) => format!("I want a refund for order {conversation}"),
        (0, _) => format!("Any news about order {conversation}? ({message})"),
        _ => format!("How long does shipping take? ({conversation}-{message})"),
    }
}

type Task = tokio::task::JoinHandle<Result<Vec<(Duration, bool)>>>;

/// Waits for every conversation's task and pools their latencies.
async fn join(tasks: Vec<Task>) -> Result<Vec<(Duration, bool)>> {
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(latencies)
}

// --- HTTP -------------------------------------------------------------------------------

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn baton_binary(path: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = path {
        return Ok(path.to_path_buf());
    }
    let me = std::env::current_exe()?;
    let path = me.with_file_name("baton");
    if !path.exists() {
        bail!(
            "{} not found: build it first (cargo build --release -p baton-host)",
            path.display()
        );
    }
    Ok(path)
}

fn start(args: &Args, database: &(String, Option<String>)) -> Result<Server> {
    start_binary(&baton_binary(args.baton.as_deref())?, database)
}

/// Starts `baton serve` on `database` with the owner's token [`TOKEN`], on a free port.
fn start_binary(binary: &Path, database: &(String, Option<String>)) -> Result<Server> {
    start_binary_on(binary, database, "127.0.0.1:0", None)
}

/// [`start_binary`] on `addr` (a restart after a kill keeps the address clients know),
/// with a `--config` file when given.
fn start_binary_on(
    binary: &Path,
    (url, schema): &(String, Option<String>),
    addr: &str,
    config: Option<&Path>,
) -> Result<Server> {
    let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/kb");
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .env("BATON_HTTP__ADDR", addr)
        .env("BATON_DATABASE__URL", url)
        .env("BATON_BOOTSTRAP_TOKEN", TOKEN)
        .env("BATON_KB__DIR", kb)
        .env("RUST_LOG", "error")
        // One loopback address drives a whole site's traffic: the edge limits, sized for
        // one client each, would measure themselves.
        .env("BATON_LIMITS__MAX_CONNECTIONS", "30000")
        .env("BATON_LIMITS__MAX_STREAMS", "30000")
        .env("BATON_LIMITS__STREAMS_PER_ADDRESS", "30000")
        .env(
            "BATON_LIMITS__CONVERSATIONS_PER_MINUTE_PER_ADDRESS",
            "10000000",
        )
        .env("BATON_LIMITS__MESSAGES_PER_MINUTE_PER_ADDRESS", "10000000")
        .env("BATON_LIMITS__WEBHOOKS_PER_MINUTE_PER_ADDRESS", "10000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
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
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(Server { child, url })
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> Result<Value> {
    let response = client
        .request(method, &url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{url}: {status} {value}");
    }
    Ok(value)
}

async fn http_run(
    args: &Args,
    database: &(String, Option<String>),
    hosts: usize,
) -> Result<Figures> {
    // One after the other: the first runs the migrations the others find done.
    let mut servers = Vec::with_capacity(hosts);
    for _ in 0..hosts {
        servers.push(start(args, database)?);
    }
    let client = reqwest::Client::new();
    let base = servers[0].url.clone();
    let bases: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let conversations = prepare(&client, &base, args.conversations).await?;
    let messages = args.messages;
    let started = Instant::now();
    let mut tasks: Vec<Task> = Vec::new();
    for (index, (id, token)) in conversations.into_iter().enumerate() {
        let client = client.clone();
        // Conversations are spread over the hosts, as a load balancer would.
        let host = &bases[index % bases.len()];
        let url = format!("{host}/api/v1/chat/conversations/{id}/messages");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(messages);
            for m in 0..messages {
                let sent = Instant::now();
                call(
                    &client,
                    reqwest::Method::POST,
                    url.clone(),
                    &token,
                    json!({"text": text(index, m), "client_message_id": format!("{index}-{m}")}),
                )
                .await?;
                latencies.push((sent.elapsed(), hands_off(index, m)));
            }
            Ok(latencies)
        }));
    }
    let latencies = join(tasks).await?;
    let elapsed = started.elapsed();
    drop(servers);
    Ok(Figures { elapsed, latencies })
}

/// The HTTP runs' setup: `USERS` agents with room for every conversation, a help desk,
/// live settings that hand "refund" off to them, and `conversations` visitor
/// conversations (id, visitor token).
async fn prepare(
    client: &reqwest::Client,
    base: &str,
    conversations: usize,
) -> Result<Vec<(i64, String)>> {
    let post = reqwest::Method::POST;
    let mut users = Vec::new();
    for i in 0..USERS {
        let user = call(
            client,
            post.clone(),
            format!("{base}/api/v1/users"),
            TOKEN,
            json!({"name": format!("agent {i}"), "email": format!("a{i}@example.com"),
                   "seat": "service", "capacity": conversations}),
        )
        .await?;
        users.push(user["id"].clone());
    }
    let inbox = call(
        client,
        post.clone(),
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
            "destination": {"kind": "users_and_teams", "inbox_id": inbox["id"], "user_ids": users},
            "messages": {"available": "Connecting you.", "unavailable": "Later.", "unassigned_by_workflow": "Logged."}
        }),
    )
    .await?;
    let mut created_ids = Vec::new();
    for _ in 0..conversations {
        let created = call(
            client,
            post.clone(),
            format!("{base}/api/v1/chat/conversations"),
            "",
            json!({"visitor": {"name": "Load"}}),
        )
        .await?;
        let id = created["conversation_id"].as_i64().unwrap_or_default();
        let token = created["visitor_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        created_ids.push((id, token));
    }
    Ok(created_ids)
}

// --- raw store writes -------------------------------------------------------------------

async fn raw_run(args: &Args, (url, schema): &(String, Option<String>)) -> Result<Figures> {
    let store = Arc::new(SeaStore::connect(url, schema.as_deref()).await?);
    let owner = store
        .bootstrap_owner("raw-owner")
        .await?
        .ok_or_else(|| anyhow!("fresh database expected"))?;
    let mut users = Vec::new();
    for i in 0..USERS {
        let user = store
            .create_user(NewUser {
                name: format!("agent {i}"),
                email: format!("a{i}@example.com"),
                seat: Seat::Service,
                permissions: vec![Permission::CustomerAgentEditor],
                capacity: u32::try_from(args.conversations)?,
            })
            .await?;
        users.push(user.id);
    }
    let inbox = store.create_inbox("Support", InboxKind::HelpDesk).await?;
    let settings = store
        .put_settings(
            owner.id,
            HandoffSettings {
                custom_triggers: vec!["refund".into()],
                process: Process::Live,
                destination: Some(Destination::UsersAndTeams {
                    inbox_id: InboxId(inbox.id.0),
                    user_ids: users.clone(),
                    team_ids: Vec::new(),
                    strategy: Default::default(),
                }),
                ..HandoffSettings::default()
            },
            None,
            chrono::Utc::now(),
        )
        .await?;
    let mut conversations = Vec::new();
    for _ in 0..args.conversations {
        let c = store
            .create_conversation("chat", Visitor::default(), "raw", chrono::Utc::now())
            .await?;
        conversations.push(c.id);
    }
    let messages = args.messages;
    let started = Instant::now();
    let mut tasks: Vec<Task> = Vec::new();
    for (index, id) in conversations.into_iter().enumerate() {
        let store = store.clone();
        let settings = settings.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(messages);
            for m in 0..messages {
                let action = match (index % 2, m) {
                    (0, 0) => TurnAction::Handoff(Box::new(HandoffPlan {
                        trigger: Trigger::Custom {
                            matched: "refund".into(),
                            span: 10..16,
                        },
                        process: HandoffProcess::Live,
                        settings_version: settings.version,
                        settings: std::sync::Arc::new(settings.settings.clone()),
                        explanation: "load".into(),
                        summary: "load".into(),
                    })),
                    (0, _) => TurnAction::Store,
                    _ => TurnAction::Reply("Standard shipping takes 3 to 5 business days.".into()),
                };
                let sent = Instant::now();
                store
                    .commit_turn(Turn {
                        conversation_id: ConversationId(id.0),
                        text: text(index, m),
                        client_message_id: Some(format!("{index}-{m}")),
                        action,
                        now: chrono::Utc::now(),
                    })
                    .await?;
                latencies.push((sent.elapsed(), hands_off(index, m)));
            }
            Ok(latencies)
        }));
    }
    let latencies = join(tasks).await?;
    Ok(Figures {
        elapsed: started.elapsed(),
        latencies,
    })
}
