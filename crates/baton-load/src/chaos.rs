//! `baton-load chaos`: web chat visitors, Telegram chats (`chaos_telegram`), email
//! customers (`chaos_email`) and staff (claims, replies, closes, handbacks) drive the real
//! binary while it is killed with SIGKILL at random moments and started again on the same
//! address and database; at the end the database is read directly and every invariant is
//! checked (see [`check`], and each channel's own check). Exits 1 on any violation.
//!
//! Not in the mix (yet): the other messaging plugins (WhatsApp).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use baton_store::SeaStore;
use reqwest::Method;
use sea_orm::{ConnectionTrait, QueryResult, Statement};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::{Server, TOKEN, baton_binary, start_binary_on};

#[derive(Debug, clap::Args)]
pub(crate) struct ChaosArgs {
    /// SIGKILLs (one host at a time).
    #[arg(long, default_value_t = 20)]
    kills: usize,
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Hosts sharing the database (PostgreSQL only).
    #[arg(long, default_value_t = 1)]
    hosts: usize,
    /// Concurrent web chat visitors.
    #[arg(long, default_value_t = 12)]
    visitors: usize,
    /// Staff members claiming, answering, closing and handing back.
    #[arg(long, default_value_t = 3)]
    staff: usize,
    /// Telegram chats sending updates through the shipped plugin (0: none).
    #[arg(long, default_value_t = 4)]
    telegram_chats: usize,
    /// Email customers putting mails into a real Dovecot mailbox (0: none, and no mail
    /// servers needed).
    #[arg(long, default_value_t = 3)]
    email_customers: usize,
    /// Mean time between kills.
    #[arg(long, default_value_t = 1500)]
    interval_ms: u64,
    #[arg(
        long,
        env = "BATON_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// The `baton` binary (default: next to this one).
    #[arg(long)]
    baton: Option<std::path::PathBuf>,
}

/// Requests sent again after a connection error or a 5xx: shows the kills met requests
/// in flight.
static RETRIES: AtomicU64 = AtomicU64::new(0);

pub(crate) fn retried() {
    RETRIES.fetch_add(1, Ordering::Relaxed);
}

/// How long before a kill a send may have been answered and yet not recorded: the
/// moments between a provider's answer and the commit that marks the row delivered.
const IN_FLIGHT: Duration = Duration::from_secs(2);

/// Whether the receipts of one outbox row beyond the rows marked delivered are sends a
/// kill caught in flight: the outbox is at least once (no provider here can make a send
/// idempotent), so a row may be sent again after its host died between the provider's
/// answer and the commit. Each repeat must follow a kill that came within [`IN_FLIGHT`]
/// of the receipt before it (before it too: a host killed right after sending the end of
/// a mail leaves the server to accept it after the kill); any other repeat is a delivery
/// made twice. `times` in arrival order.
pub(crate) fn resent_after_kills(times: &[SystemTime], rows: usize, kills: &[SystemTime]) -> bool {
    let repeats = times.len().saturating_sub(rows.max(1));
    // A kill explains one repeat at most.
    let mut used = vec![false; kills.len()];
    let mut explained = 0;
    for pair in times.windows(2) {
        let found = kills.iter().enumerate().position(|(i, kill)| {
            let near = match kill.duration_since(pair[0]) {
                Ok(after) => after <= IN_FLIGHT,
                Err(before) => before.duration() <= IN_FLIGHT,
            };
            !used[i] && near && *kill <= pair[1]
        });
        if let Some(i) = found {
            used[i] = true;
            explained += 1;
        }
    }
    repeats > 0 && explained >= repeats
}

/// Receipt and kill times, in seconds since the epoch, for a violation's message.
pub(crate) fn moments(times: &[SystemTime], kills: &[SystemTime]) -> String {
    let secs = |t: &SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    let list = |ts: &[SystemTime]| {
        ts.iter()
            .map(|t| format!("{:.3}", secs(t)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("received at {}; kills at {}", list(times), list(kills))
}

/// Conversations each staff member may hold: small, so the capacity rule is exercised.
const CAPACITY: usize = 2;

/// A small xorshift: the moments need only vary, not be unpredictable.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(salt: u64) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Rng((nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// An acknowledged visitor message and the replies the visitor was told about.
struct Acked {
    conversation: i64,
    client_message_id: String,
    replies: Vec<(String, String)>,
}

#[derive(Default)]
struct Tally {
    acked: Vec<Acked>,
    /// Messages answered 409 because the conversation had been closed meanwhile.
    refused_closed: u64,
}

/// The hosts' addresses and one HTTP client; a request moves to the next host on a
/// connection error, as a load balancer would.
pub(crate) struct Hosts {
    pub(crate) client: reqwest::Client,
    urls: Vec<String>,
}

impl Hosts {
    pub(crate) fn at(&self, i: usize) -> &str {
        &self.urls[i % self.urls.len()]
    }
}

enum Outcome {
    Ok(Value),
    /// The server answered with this status (not 5xx).
    Status(reqwest::StatusCode, Value),
}

/// One request, retried on connection errors and 5xx (on the next host) until `deadline`.
async fn send(
    hosts: &Hosts,
    start: usize,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    deadline: Instant,
) -> Result<Outcome> {
    let mut host = start;
    loop {
        let mut request = hosts
            .client
            .request(method.clone(), format!("{}{path}", hosts.at(host)))
            .bearer_auth(token);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let last = match request.send().await {
            Ok(response) if !response.status().is_server_error() => {
                let status = response.status();
                let value: Value = response.json().await.unwrap_or(Value::Null);
                return Ok(if status.is_success() {
                    Outcome::Ok(value)
                } else {
                    Outcome::Status(status, value)
                });
            }
            Ok(response) => format!("{}", response.status()),
            Err(error) => error.to_string(),
        };
        if Instant::now() > deadline {
            bail!("{method} {path}: gave up after retries: {last}");
        }
        host += 1;
        RETRIES.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ok(outcome: Outcome, what: &str) -> Result<Value> {
    match outcome {
        Outcome::Ok(v) => Ok(v),
        Outcome::Status(s, v) => bail!("{what}: {s} {v}"),
    }
}

pub(crate) fn text(rng: &mut Rng, n: usize) -> String {
    match rng.below(4) {
        0 => format!("I want a refund for order {n}"),
        1 => format!("How long does shipping take? ({n})"),
        _ => format!("Still here, message {n}"),
    }
}

async fn visitor(
    index: usize,
    hosts: Arc<Hosts>,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) -> Result<()> {
    let mut rng = Rng::new(index as u64 + 1);
    let mut sequence = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let created = ok(
            send(
                &hosts,
                index,
                Method::POST,
                "/api/v1/chat/conversations",
                "",
                Some(json!({"visitor": {"name": format!("chaos {index}")}})),
                deadline,
            )
            .await?,
            "create conversation",
        )?;
        let id = created["conversation_id"]
            .as_i64()
            .ok_or_else(|| anyhow!("no conversation_id in {created}"))?;
        let token = created["visitor_token"].as_str().unwrap_or_default();
        let path = format!("/api/v1/chat/conversations/{id}/messages");
        for _ in 0..(3 + rng.below(5)) {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            sequence += 1;
            let client_message_id = format!("v{index}-{sequence}");
            // Retried with the same id until acknowledged, even across kills.
            let body =
                json!({"text": text(&mut rng, sequence), "client_message_id": client_message_id});
            let deadline = Instant::now() + Duration::from_secs(60);
            match send(
                &hosts,
                index,
                Method::POST,
                &path,
                token,
                Some(body),
                deadline,
            )
            .await?
            {
                Outcome::Ok(answer) => {
                    let replies = answer["replies"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            (
                                r["author"].as_str().unwrap_or_default().to_owned(),
                                r["text"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    tally.lock().await.acked.push(Acked {
                        conversation: id,
                        client_message_id,
                        replies,
                    });
                }
                Outcome::Status(s, _) if s == reqwest::StatusCode::CONFLICT => {
                    tally.lock().await.refused_closed += 1;
                    break;
                }
                Outcome::Status(s, v) => bail!("visitor message: {s} {v}"),
            }
        }
    }
    Ok(())
}

/// Claims from the queue, answers, closes or hands back what it holds. Failures after a
/// kill are expected: the next round carries on.
async fn staff(
    index: usize,
    token: String,
    hosts: Arc<Hosts>,
    stop: Arc<AtomicBool>,
    actions: Arc<AtomicU64>,
) -> Result<()> {
    let mut rng = Rng::new(1000 + index as u64);
    while !stop.load(Ordering::Relaxed) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut round = async || -> Result<()> {
            let unassigned = ok(
                send(
                    &hosts,
                    index,
                    Method::GET,
                    "/api/v1/conversations?view=unassigned",
                    &token,
                    None,
                    deadline,
                )
                .await?,
                "list unassigned",
            )?;
            let queue: Vec<i64> = unassigned["conversations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["id"].as_i64())
                .collect();
            if !queue.is_empty() {
                let id = queue[rng.below(queue.len() as u64) as usize];
                let path = format!("/api/v1/conversations/{id}/claim");
                // 409 (at capacity, or someone else was quicker) is an answer, not a fault.
                send(&hosts, index, Method::POST, &path, &token, None, deadline).await?;
                actions.fetch_add(1, Ordering::Relaxed);
            }
            let mine = ok(
                send(
                    &hosts,
                    index,
                    Method::GET,
                    "/api/v1/conversations?view=mine",
                    &token,
                    None,
                    deadline,
                )
                .await?,
                "list mine",
            )?;
            for c in mine["conversations"].as_array().into_iter().flatten() {
                let Some(id) = c["id"].as_i64() else { continue };
                let (path, body) = match rng.below(4) {
                    0 => (format!("/api/v1/conversations/{id}/close"), None),
                    1 => (format!("/api/v1/conversations/{id}/handback"), None),
                    _ => (
                        format!("/api/v1/conversations/{id}/messages"),
                        Some(json!({"text": format!("staff {index} here")})),
                    ),
                };
                send(&hosts, index, Method::POST, &path, &token, body, deadline).await?;
                actions.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        };
        if let Err(error) = round().await {
            eprintln!("staff {index}: {error:#}");
        }
        tokio::time::sleep(Duration::from_millis(50 + rng.below(100))).await;
    }
    Ok(())
}

pub(crate) async fn run(args: ChaosArgs) -> Result<()> {
    if args.hosts == 0 || args.visitors == 0 {
        bail!("--hosts and --visitors must be at least 1");
    }
    if args.hosts > 1 && args.database != "postgres" {
        bail!("several hosts share a PostgreSQL database: add --database postgres");
    }
    let binary = baton_binary(args.baton.as_deref())?;
    let dir = tempfile::tempdir()?;
    let database = match args.database.as_str() {
        "sqlite" => (
            format!("sqlite://{}/chaos.db?mode=rwc", dir.path().display()),
            None,
        ),
        "postgres" => (
            args.postgres_url.clone(),
            Some(format!(
                "chaos_{}_{}",
                std::process::id(),
                chrono::Utc::now().timestamp()
            )),
        ),
        other => bail!("--database must be sqlite or postgres, not {other}"),
    };
    println!(
        "chaos: {} kills, {} on {} host(s); mix: {} web chat visitors (unique client_message_id, \
         retried on connection errors and 5xx), {} staff claiming from the queue, replying, \
         closing and handing back, {} Telegram chats (signed updates through the shipped plugin, \
         replies to a loopback Bot API), {} email customers (mails with unique Message-IDs put \
         into a real Dovecot mailbox read over IMAP, replies to a real SMTP sink)",
        args.kills,
        args.database,
        args.hosts,
        args.visitors,
        args.staff,
        args.telegram_chats,
        args.email_customers
    );
    let (config, sent) = crate::chaos_telegram::provider(&binary, dir.path()).await?;
    let mail = match args.email_customers {
        0 => None,
        _ => {
            let mail = crate::chaos_email::MailServers::start().await?;
            mail.add_to(&config)?;
            Some(mail)
        }
    };

    let mut servers: Vec<Server> = Vec::new();
    for _ in 0..args.hosts {
        servers.push(start_binary_on(
            &binary,
            &database,
            "127.0.0.1:0",
            Some(&config),
        )?);
    }
    let hosts = Arc::new(Hosts {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        urls: servers.iter().map(|s| s.url.clone()).collect(),
    });
    let tokens = set_up(&hosts, args.staff).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let actions = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..args.visitors {
        tasks.push(tokio::spawn(visitor(
            i,
            hosts.clone(),
            stop.clone(),
            tally.clone(),
        )));
    }
    for (i, token) in tokens.into_iter().enumerate() {
        tasks.push(tokio::spawn(staff(
            i,
            token,
            hosts.clone(),
            stop.clone(),
            actions.clone(),
        )));
    }

    let telegram_acked: Arc<Mutex<Vec<String>>> = Arc::default();
    for i in 0..args.telegram_chats {
        tasks.push(tokio::spawn(crate::chaos_telegram::chat(
            i,
            hosts.clone(),
            stop.clone(),
            telegram_acked.clone(),
        )));
    }
    let mails_put: Arc<Mutex<Vec<String>>> = Arc::default();
    for i in 0..args.email_customers {
        if let Some(mail) = &mail {
            tasks.push(tokio::spawn(crate::chaos_email::customer(
                i,
                mail.clone(),
                stop.clone(),
                mails_put.clone(),
            )));
        }
    }
    let mut rng = Rng::new(7);
    let mut survived = 0usize;
    let mut kills = Vec::with_capacity(args.kills);
    for k in 0..args.kills {
        let wait = args.interval_ms / 2 + rng.below(args.interval_ms.max(1));
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let victim = k % servers.len();
        let addr = servers[victim]
            .url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        // SIGKILL: no shutdown, no flush, as a crash.
        kills.push(SystemTime::now());
        servers[victim].child.kill()?;
        servers[victim].child.wait()?;
        // Down for a moment, so that requests meet a refused connection.
        tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
        servers[victim] = restart(&binary, &database, &addr, &config).await?;
        survived += 1;
        println!(
            "chaos: kill {} of {}: host {victim} back on {addr}",
            k + 1,
            args.kills
        );
    }
    tokio::time::sleep(Duration::from_millis(args.interval_ms)).await;
    stop.store(true, Ordering::Relaxed);
    let mut load_errors = Vec::new();
    for task in tasks {
        if let Err(error) = task.await? {
            load_errors.push(format!("{error:#}"));
        }
    }
    let mails_put = std::mem::take(&mut *mails_put.lock().await);
    // The mail first: a mail handled late adds outbox rows.
    let unhandled =
        crate::chaos_email::wait_for_mail(&connect(&database).await?, &mails_put).await?;
    let pending = wait_for_outbox(&database).await?;
    drop(servers);
    // Read after the hosts are gone, so no send is still on its way.
    let receipts = match &mail {
        Some(mail) => mail.receipts().await?,
        None => Vec::new(),
    };
    // Stopped here: `exit` below runs no destructor.
    drop(mail);

    let tally = std::mem::take(&mut *tally.lock().await);
    let report = check(&database, &tally).await?;
    let telegram = crate::chaos_telegram::check(
        &connect(&database).await?,
        &telegram_acked.lock().await,
        &sent.lock().await,
        &kills,
    )
    .await?;
    let email =
        crate::chaos_email::check(&connect(&database).await?, &mails_put, &receipts, &kills)
            .await?;
    println!(
        "chaos: mails put {}, stored {}, lost {}, duplicated {}, not done {} (unhandled after \
         120 s: {unhandled}); SMTP receipts {} for {} email outbox rows marked delivered \
         (sent again after a kill caught it in flight, same Message-ID: {})",
        email.put,
        email.stored,
        email.lost,
        email.duplicated,
        email.not_done,
        email.receipts,
        email.delivered_rows,
        email.resent_after_kill,
    );
    println!(
        "chaos: Telegram updates acknowledged {}, lost {}, duplicated {}; sendMessage calls {} \
         for {} outbox rows marked delivered (sent again after a kill caught it in flight: {})",
        telegram.acked,
        telegram.lost,
        telegram.duplicated,
        telegram.sent,
        telegram.delivered_rows,
        telegram.resent_after_kill,
    );
    println!(
        "chaos: kills survived {survived}/{}; messages acknowledged {}, lost {}, duplicated {}; \
         replies told {}, lost {}, duplicated {}; staff actions {}; requests retried after a connection error or 5xx {}; visitor messages refused \
         as closed {}; outbox rows {} (still pending after 120 s: {pending}); open handed-off conversations \
         {}; assignment events replayed {}",
        args.kills,
        tally.acked.len(),
        report.lost,
        report.duplicated,
        report.replies,
        report.replies_lost,
        report.replies_duplicated,
        actions.load(Ordering::Relaxed),
        RETRIES.load(Ordering::Relaxed),
        tally.refused_closed,
        report.outbox_rows,
        report.handoffs,
        report.audit_events,
    );
    let mut violations = report.violations;
    violations.extend(telegram.violations);
    violations.extend(email.violations);
    violations.extend(load_errors.into_iter().map(|e| format!("load client: {e}")));
    for violation in &violations {
        println!("VIOLATION: {violation}");
    }
    if violations.is_empty() {
        println!("chaos: every invariant holds");
        if let (url, Some(schema)) = &database {
            crate::drop_schema(url, schema).await?;
        }
        Ok(())
    } else {
        match &database {
            (_, Some(schema)) => println!("chaos: database kept: schema {schema}"),
            (_, None) => println!("chaos: database kept: {}", dir.keep().display()),
        }
        std::process::exit(1);
    }
}

/// Staff members with a paid seat and [`CAPACITY`], each with a token; the handoff
/// settings route to them.
async fn set_up(hosts: &Hosts, staff: usize) -> Result<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let call = async |method: Method, path: &str, body: Value| -> Result<Value> {
        ok(
            send(hosts, 0, method, path, TOKEN, Some(body), deadline).await?,
            path,
        )
    };
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..staff {
        let user = call(
            Method::POST,
            "/api/v1/users",
            json!({"name": format!("staff {i}"), "email": format!("s{i}@example.com"),
                   "seat": "service", "capacity": CAPACITY}),
        )
        .await?;
        let id = user["id"].as_i64().context("user id")?;
        let token = call(
            Method::POST,
            &format!("/api/v1/users/{id}/tokens"),
            json!({}),
        )
        .await?;
        tokens.push(token["token"].as_str().context("token")?.to_owned());
        ids.push(id);
    }
    let inbox = call(
        Method::POST,
        "/api/v1/inboxes",
        json!({"name": "Support", "kind": "help_desk"}),
    )
    .await?;
    call(
        Method::PUT,
        "/api/v1/handoff/settings",
        json!({
            "default_triggers": {"cannot_answer": false, "asks_for_human": true, "agent_paused": true},
            "custom_triggers": ["refund"],
            "process": "live",
            "destination": {"kind": "users_and_teams", "inbox_id": inbox["id"], "user_ids": ids},
            "messages": {"available": "Connecting you.", "unavailable": "Later.", "unassigned_by_workflow": "Logged."}
        }),
    )
    .await?;
    Ok(tokens)
}

/// Starts `baton` again on `addr`; the killed socket may hold the port a moment.
async fn restart(
    binary: &Path,
    database: &(String, Option<String>),
    addr: &str,
    config: &Path,
) -> Result<Server> {
    let mut last = None;
    for _ in 0..40 {
        match start_binary_on(binary, database, addr, Some(config)) {
            Ok(server) => return Ok(server),
            Err(error) => last = Some(error),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(last.unwrap_or_else(|| anyhow!("no attempt")))
        .with_context(|| format!("restarting on {addr}"))
}

async fn connect(database: &(String, Option<String>)) -> Result<SeaStore> {
    Ok(SeaStore::connect(&database.0, database.1.as_deref()).await?)
}

pub(crate) async fn rows(store: &SeaStore, sql: &str) -> Result<Vec<QueryResult>> {
    let db = store.connection();
    Ok(db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?)
}

fn int(row: &QueryResult, column: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>>("", column)?)
}

pub(crate) fn string(row: &QueryResult, column: &str) -> Result<String> {
    Ok(row
        .try_get::<Option<String>>("", column)?
        .unwrap_or_default())
}

const PENDING: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM outbox \
                       WHERE delivered_at IS NULL AND failed_at IS NULL";

/// Gives the dispatchers up to 120 s to finish the outbox; the rows still pending. Long
/// enough for a row claimed by a killed host to come back when its lease (60 s) runs out.
async fn wait_for_outbox(database: &(String, Option<String>)) -> Result<i64> {
    let store = connect(database).await?;
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let pending = rows(&store, PENDING)
            .await?
            .first()
            .map(|r| int(r, "n"))
            .transpose()?
            .flatten()
            .unwrap_or_default();
        if pending == 0 || Instant::now() > until {
            return Ok(pending);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[derive(Default)]
struct Report {
    lost: usize,
    duplicated: usize,
    replies: usize,
    replies_lost: usize,
    replies_duplicated: usize,
    outbox_rows: usize,
    handoffs: usize,
    audit_events: usize,
    violations: Vec<String>,
}

/// Reads the database and checks every invariant.
async fn check(database: &(String, Option<String>), tally: &Tally) -> Result<Report> {
    let store = connect(database).await?;
    let mut report = Report::default();

    // Acknowledged messages, stored exactly once; the replies the visitor was told about.
    let mut stored: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    for row in rows(
        &store,
        "SELECT CAST(id AS BIGINT) AS id, CAST(conversation_id AS BIGINT) AS c, client_message_id \
         FROM messages WHERE author = 'visitor' AND client_message_id IS NOT NULL",
    )
    .await?
    {
        let key = (
            int(&row, "c")?.unwrap_or_default(),
            string(&row, "client_message_id")?,
        );
        stored
            .entry(key)
            .or_default()
            .push(int(&row, "id")?.unwrap_or_default());
    }
    let mut replies: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for row in rows(
        &store,
        "SELECT CAST(reply_to AS BIGINT) AS r, author, text FROM messages WHERE reply_to IS NOT NULL",
    )
    .await?
    {
        replies
            .entry(int(&row, "r")?.unwrap_or_default())
            .or_default()
            .push((string(&row, "author")?, string(&row, "text")?));
    }
    for acked in &tally.acked {
        let key = (acked.conversation, acked.client_message_id.clone());
        let ids = stored.get(&key).map(Vec::as_slice).unwrap_or_default();
        match ids.len() {
            1 => {}
            0 => {
                report.lost += 1;
                report.violations.push(format!(
                    "acknowledged message {} of conversation {} is not stored",
                    key.1, key.0
                ));
            }
            n => {
                report.duplicated += 1;
                report.violations.push(format!(
                    "acknowledged message {} of conversation {} is stored {n} times (rows {ids:?})",
                    key.1, key.0
                ));
            }
        }
        let Some(id) = ids.first() else { continue };
        let found = replies.get(id).map(Vec::as_slice).unwrap_or_default();
        for told in &acked.replies {
            report.replies += 1;
            match found.iter().filter(|r| *r == told).count() {
                1 => {}
                0 => {
                    report.replies_lost += 1;
                    report.violations.push(format!(
                        "reply {told:?} to message {id} (conversation {}) was told, not stored",
                        key.0
                    ));
                }
                n => {
                    report.replies_duplicated += 1;
                    report.violations.push(format!(
                        "reply {told:?} to message {id} (conversation {}) is stored {n} times",
                        key.0
                    ));
                }
            }
        }
    }

    // Outbox: one row per message and channel, none stuck.
    let mut outbox: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    for row in rows(
        &store,
        "SELECT CAST(id AS BIGINT) AS id, CAST(message_id AS BIGINT) AS m, channel, \
         CAST(delivered_at AS BIGINT) AS d, CAST(failed_at AS BIGINT) AS f FROM outbox",
    )
    .await?
    {
        report.outbox_rows += 1;
        let id = int(&row, "id")?.unwrap_or_default();
        if int(&row, "d")?.is_none() && int(&row, "f")?.is_none() {
            report
                .violations
                .push(format!("outbox row {id} is neither delivered nor failed"));
        }
        outbox
            .entry((
                int(&row, "m")?.unwrap_or_default(),
                string(&row, "channel")?,
            ))
            .or_default()
            .push(id);
    }
    for ((message, channel), ids) in &outbox {
        if ids.len() > 1 {
            report.violations.push(format!(
                "message {message} has {} outbox rows on {channel}: {ids:?}",
                ids.len()
            ));
        }
    }

    // Every handoff ended assigned, queued, or handed back to the agent.
    for row in rows(
        &store,
        "SELECT CAST(id AS BIGINT) AS id, assignee_kind, CAST(assignee_user_id AS BIGINT) AS u, \
         CASE WHEN queued THEN 1 ELSE 0 END AS q FROM conversations \
         WHERE handoff_at IS NOT NULL AND status = 'open'",
    )
    .await?
    {
        report.handoffs += 1;
        let id = int(&row, "id")?.unwrap_or_default();
        let kind = string(&row, "assignee_kind")?;
        let user = int(&row, "u")?;
        let queued = row.try_get::<i32>("", "q")? == 1;
        let fine = match kind.as_str() {
            "user" => user.is_some() && !queued,
            "none" => queued,
            "agent" => !queued,
            _ => false,
        };
        if !fine {
            report.violations.push(format!(
                "conversation {id} handed off ended neither assigned nor queued: \
                 assignee_kind {kind}, assignee_user_id {user:?}, queued {queued}"
            ));
        }
    }

    replay_audit(&store, &mut report).await?;
    Ok(report)
}

/// Replays the audit log in order: who holds each conversation and how many each user
/// holds. Over capacity, or a new assignee while another holds it, is a violation.
async fn replay_audit(store: &SeaStore, report: &mut Report) -> Result<()> {
    let mut capacity: HashMap<i64, i64> = HashMap::new();
    let mut open_count: HashMap<i64, i64> = HashMap::new();
    for row in rows(
        store,
        "SELECT CAST(id AS BIGINT) AS id, CAST(capacity AS BIGINT) AS c, \
         CAST(open_count AS BIGINT) AS o FROM users",
    )
    .await?
    {
        let id = int(&row, "id")?.unwrap_or_default();
        capacity.insert(id, int(&row, "c")?.unwrap_or_default());
        open_count.insert(id, int(&row, "o")?.unwrap_or_default());
    }
    let mut holder: HashMap<i64, i64> = HashMap::new();
    let mut held: HashMap<i64, i64> = HashMap::new();
    let field = |detail: &Value, name: &str| detail[name].as_i64();
    for row in rows(
        store,
        "SELECT CAST(id AS BIGINT) AS id, kind, CAST(conversation_id AS BIGINT) AS c, detail \
         FROM audit_events ORDER BY id",
    )
    .await?
    {
        let event = int(&row, "id")?.unwrap_or_default();
        let Some(conversation) = int(&row, "c")? else {
            continue;
        };
        let kind = string(&row, "kind")?;
        let detail: Value = serde_json::from_str(&string(&row, "detail")?).unwrap_or_default();
        let (from, to) = match kind.as_str() {
            "handoff" => (None, field(&detail, "assignee_user_id")),
            "assignment" | "rerouted" => (
                field(&detail, "from_user_id"),
                field(&detail, "assignee_user_id"),
            ),
            "requeued" | "handed_back" => (field(&detail, "from_user_id"), None),
            "closed" => (field(&detail, "released_user_id"), None),
            "reopened" => (None, None),
            _ => continue,
        };
        report.audit_events += 1;
        let current = holder.get(&conversation).copied();
        if let Some(current) = current {
            // Whatever this event does, the one holding it must be the one it moves from.
            if to.is_some() && from != Some(current) {
                report.violations.push(format!(
                    "audit event {event} ({kind}) gives conversation {conversation} to {to:?} \
                     while user {current} holds it: two assignees"
                ));
            }
            *held.entry(current).or_default() -= 1;
            holder.remove(&conversation);
        }
        if let Some(to) = to {
            holder.insert(conversation, to);
            let count = held.entry(to).or_default();
            *count += 1;
            let limit = capacity.get(&to).copied().unwrap_or_default();
            if *count > limit {
                report.violations.push(format!(
                    "audit event {event} ({kind}): user {to} holds {count} conversations, \
                     capacity {limit}"
                ));
            }
        }
    }
    for row in rows(
        store,
        "SELECT CAST(id AS BIGINT) AS id, CAST(assignee_user_id AS BIGINT) AS u FROM conversations \
         WHERE status = 'open' AND assignee_kind = 'user'",
    )
    .await?
    {
        let id = int(&row, "id")?.unwrap_or_default();
        let user = int(&row, "u")?;
        if holder.get(&id).copied() != user {
            report.violations.push(format!(
                "conversation {id} is assigned to {user:?} but the audit log replays to {:?}",
                holder.get(&id)
            ));
        }
    }
    for (user, count) in held {
        let stored = open_count.get(&user).copied().unwrap_or_default();
        if count != stored {
            report.violations.push(format!(
                "user {user} holds {count} conversations by the audit log, open_count says {stored}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_repeat_after_a_kill_that_caught_the_send_in_flight_is_excused() {
        let t = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_000 + ms);
        // Sent at 0, killed at 300 ms, sent again after the restart.
        assert!(resent_after_kills(&[t(0), t(900)], 1, &[t(300)]));
        // No kill between the two: sent twice by a live host.
        assert!(!resent_after_kills(&[t(0), t(900)], 1, &[t(950)]));
        // A kill between them, but long after the first send was answered and recorded.
        assert!(!resent_after_kills(&[t(0), t(9_000)], 1, &[t(5_000)]));
        // Killed just after sending the end of the mail: the server accepts it after.
        assert!(resent_after_kills(&[t(2_050), t(2_900)], 1, &[t(2_000)]));
        assert!(!resent_after_kills(&[t(9_000), t(9_900)], 1, &[t(2_000)]));
        // Two repeats need two kills that caught a send.
        assert!(!resent_after_kills(&[t(0), t(900), t(1_800)], 1, &[t(300)]));
        assert!(resent_after_kills(
            &[t(0), t(900), t(1_800)],
            1,
            &[t(300), t(1_000)]
        ));
        // Not a repeat at all.
        assert!(!resent_after_kills(&[t(0)], 1, &[t(300)]));
    }
}
