//! The end-to-end harness: starts the real `baton` binary on `127.0.0.1:0` with a fresh
//! database (a SQLite file, or a PostgreSQL schema of its own) and drives it over HTTP.
//!
//! Tests are written once as `async fn scenario(server: &Server)` and run on both backends
//! through [`scenarios!`]. Nothing here knows the server's internals: only the HTTP contract
//! (`shared/API.md`) and the process contract (env vars, the "Baton listening on" line).

#![allow(clippy::unwrap_used)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use reqwest::Method;
pub use reqwest::StatusCode;
use serde_json::{Value, json};

pub mod browser;
pub mod console;
pub mod mail;
pub mod model;
pub mod provider;

/// How long the server may take to print its listening line.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Deadline for anything the server does asynchronously (queue drains, metrics).
pub const POLL_TIMEOUT: Duration = Duration::from_secs(20);
/// The handoff messages every scenario configures, so replies can be told apart.
pub const AVAILABLE_MSG: &str = "E2E available: a teammate is joining the chat now.";
pub const UNAVAILABLE_MSG: &str = "E2E unavailable: we will get back to you soon.";
pub const UNASSIGNED_MSG: &str = "E2E unassigned by workflow.";
/// The knowledge base every test server gets.
pub const KB_SHIPPING: &str = "# Shipping times\n\nOrders ship within 2 business days. \
Delivery in Europe takes 3 to 5 days, and delivery to the rest of the world takes 7 to 10 days. \
Every order gets a tracking number by email as soon as it ships.\n";
pub const KB_RETURNS: &str = "# Returns\n\nYou can return any item within 30 days of delivery. \
Print the return label from your account page and drop the parcel at any post office.\n";

/// Which database a test server uses.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The PostgreSQL URL; the harness adds a schema of its own per server.
    Postgres(String),
}

/// The PostgreSQL URL for the PostgreSQL variant of a scenario, or `None` to skip it.
/// Panics when `BATON_REQUIRE_POSTGRES=1` and no URL is set, so CI cannot skip silently.
pub fn postgres_url_or_skip() -> Option<String> {
    match std::env::var("BATON_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("BATON_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("BATON_REQUIRE_POSTGRES=1 but BATON_TEST_POSTGRES_URL is not set")
        }
        _ => {
            eprintln!("skipped: BATON_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// Generates, for each named `async fn name(server: &Server)` in the calling file, a test
/// `sqlite::name` and a test `postgres::name`.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = $crate::Server::start($crate::Backend::Sqlite).await;
                    super::$name(&server).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(url) = $crate::postgres_url_or_skip() else { return };
                    let server = $crate::Server::start($crate::Backend::Postgres(url)).await;
                    super::$name(&server).await;
                }
            )+
        }
    };
}

// ---------------------------------------------------------------------------------------
// The binary and its process
// ---------------------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The path of the `baton` binary, built once per test binary.
pub fn baton_binary() -> PathBuf {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(build_baton)
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn build_baton() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_baton") {
        return Ok(PathBuf::from(path));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = workspace_root();
    let output = Command::new(&cargo)
        .args(["build", "-p", "baton-host", "--bin", "baton"])
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{cargo} build -p baton-host --bin baton` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let path = target
        .join("debug")
        .join(format!("baton{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "built baton but found no binary at {}",
            path.display()
        ))
    }
}

/// A child process whose stdout and stderr are drained by background threads.
/// Killed on drop.
#[derive(Debug)]
pub struct Process {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    lines: Receiver<String>,
}

impl Process {
    /// Spawns `cmd` with piped output.
    pub fn spawn(mut cmd: Command) -> Process {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let out_log = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                out_log.lock().unwrap().push(line.clone());
                // The receiver may be gone; keep draining regardless.
                let _ = tx.send(line);
            }
        });
        let mut err = child.stderr.take().unwrap();
        let err_log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match err.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => err_log
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        Process {
            child,
            stdout,
            stderr,
            lines,
        }
    }

    /// Waits for a stdout line starting with `prefix` and returns it.
    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return Ok(line),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "no line starting with {prefix:?} within {timeout:?}\n{}",
                        self.describe()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // Give the stderr thread a moment to collect the last words.
                    let status = self.wait_exit(Duration::from_secs(5));
                    return Err(format!(
                        "the process closed stdout ({status:?}) before printing {prefix:?}\n{}",
                        self.describe()
                    ));
                }
            }
        }
    }

    /// Waits for the process to exit; `None` if it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads reach end of file.
                std::thread::sleep(Duration::from_millis(100));
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn describe(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout(),
            tail(&self.stderr(), 8000)
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("server output at failure:\n{}", self.describe());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// A random-enough string for tokens and names, without a dependency.
pub fn random_hex() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut a = RandomState::new().build_hasher();
    a.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut b = RandomState::new().build_hasher();
    b.write_u32(std::process::id());
    format!("{:016x}{:016x}", a.finish(), b.finish())
}

/// The shared library of a plugin crate of this workspace (`plugins/<name>`), built
/// beside the binary by `cargo xtask test` (or `cargo xtask build-plugins`).
pub fn plugin_library(crate_name: &str) -> PathBuf {
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        crate_name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    let path = baton_binary().parent().unwrap().join(file);
    assert!(
        path.is_file(),
        "{} is missing: build the plugins first (`cargo xtask test` does, or \
         `cargo build -p {crate_name}`)",
        path.display()
    );
    path
}

/// Runs `cmd` to its end off the async runtime and returns its stdout, failing the test
/// with both streams when it does not succeed.
pub async fn run_to_success(mut cmd: Command) -> String {
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the command ended with {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A `Command` for the binary with every inherited `BATON_*` variable removed, so the
/// developer's environment cannot leak into a test server.
pub fn baton_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(baton_binary());
    cmd.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BATON_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

// ---------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------

/// A running `baton serve` with a fresh database; stopped (and its PostgreSQL schema
/// dropped, best effort) on drop.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The owner's token (user id 1: admin + customer_agent_editor, seat service).
    pub token: String,
    pub client: reqwest::Client,
    pub dir: PathBuf,
    process: Process,
    /// The schema this server drops when it stops (not set on peers).
    postgres: Option<(String, String)>,
    database: Database,
    _tempdir: tempfile::TempDir,
}

/// Where a server's data lives, so that a peer can share it.
#[derive(Debug, Clone)]
enum Database {
    /// The SQLite file (`None`: a new one in the server's folder).
    Sqlite(Option<PathBuf>),
    /// URL and schema.
    Postgres(String, String),
}

impl Server {
    /// Starts a server on `backend`; panics with the server's stderr if it does not come up.
    pub async fn start(backend: Backend) -> Server {
        tokio::task::spawn_blocking(move || Server::start_blocking(backend, None))
            .await
            .unwrap()
    }

    /// [`Server::start`] with a configuration file holding `toml` (e.g. `[[plugins]]`
    /// entries), passed with `--config`.
    pub async fn start_with_config(backend: Backend, toml: String) -> Server {
        tokio::task::spawn_blocking(move || Server::start_blocking(backend, Some(toml)))
            .await
            .unwrap()
    }

    /// Starts a second host on this server's database (the same PostgreSQL schema, or
    /// the same SQLite file), as several `baton` processes behind a load balancer are.
    /// The peer leaves the schema to this server.
    pub async fn start_peer(&self) -> Server {
        let database = self.database.clone();
        let token = self.token.clone();
        tokio::task::spawn_blocking(move || Server::launch(database, token, false, None))
            .await
            .unwrap()
    }

    fn start_blocking(backend: Backend, config: Option<String>) -> Server {
        let token = format!("e2e-owner-{}", random_hex());
        let database = match backend {
            Backend::Sqlite => Database::Sqlite(None),
            Backend::Postgres(url) => Database::Postgres(url, unique_schema()),
        };
        Server::launch(database, token, true, config)
    }

    fn launch(
        database: Database,
        token: String,
        owns_schema: bool,
        config: Option<String>,
    ) -> Server {
        let tempdir = tempfile::Builder::new()
            .prefix("baton-e2e-")
            .tempdir()
            .unwrap();
        let dir = tempdir.path().to_path_buf();
        let kb = dir.join("kb");
        std::fs::create_dir_all(&kb).unwrap();
        std::fs::write(kb.join("shipping.md"), KB_SHIPPING).unwrap();
        std::fs::write(kb.join("returns.md"), KB_RETURNS).unwrap();

        if let Some(toml) = config {
            std::fs::write(dir.join(CONFIG_FILE), toml).unwrap();
        }
        let database = match database {
            Database::Sqlite(file) => {
                Database::Sqlite(Some(file.unwrap_or_else(|| dir.join("baton.db"))))
            }
            postgres @ Database::Postgres(..) => postgres,
        };
        let cmd = serve_command(&dir, &token, &database, "127.0.0.1:0");
        let postgres = match (&database, owns_schema) {
            (Database::Postgres(url, schema), true) => Some((url.clone(), schema.clone())),
            _ => None,
        };
        let mut process = Process::spawn(cmd);
        let line = match process.wait_for_line("Baton listening on ", START_TIMEOUT) {
            Ok(line) => line,
            Err(e) => {
                if let Some((url, schema)) = &postgres {
                    drop_schema(url, schema);
                }
                panic!("the server did not start: {e}");
            }
        };
        let base = line["Baton listening on ".len()..]
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Server {
            base,
            token,
            client,
            dir,
            process,
            postgres,
            database,
            _tempdir: tempdir,
        }
    }

    /// Kills the process (SIGKILL, as a crash) and starts it again on the same address
    /// and the same database, so that clients already connected can reconnect to the
    /// URL they know.
    pub async fn restart(&mut self) {
        self.kill();
        let addr = self
            .base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut last = String::new();
        // The old socket may hold the port a moment after the kill.
        for _ in 0..40 {
            let cmd = serve_command(&self.dir, &self.token, &self.database, &addr);
            let mut process = Process::spawn(cmd);
            match process.wait_for_line("Baton listening on ", START_TIMEOUT) {
                Ok(_) => {
                    self.process = process;
                    return;
                }
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the server did not start again on {addr}: {last}");
    }

    /// Kills the process at once (SIGKILL): no shutdown, no flush, as a crash would. The
    /// database stays for [`Server::start_peer`] to reopen.
    pub fn kill(&mut self) {
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.process.stderr()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// One request; the body is parsed as JSON when it is JSON, else returned as a string.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method.clone(), self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// A request with a raw body (for malformed JSON and oversized bodies).
    pub async fn request_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (status, value)
            }
            Err(e) => panic!("{path}: {e}"),
        }
    }

    /// The owner's one-time set-password link, as the start printed it (the line
    /// `Set the owner's password: URL`).
    pub async fn owner_password_link(&self) -> String {
        const PREFIX: &str = "Set the owner's password: ";
        for _ in 0..200 {
            if let Some(line) = self
                .process
                .stdout()
                .lines()
                .find(|l| l.starts_with(PREFIX))
            {
                return line[PREFIX.len()..].trim().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no owner link printed:\n{}", self.process.stdout());
    }

    /// Everything the server printed so far.
    pub fn stdout(&self) -> String {
        self.process.stdout()
    }

    /// GET as the owner.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(&self.token), None)
            .await
    }
    pub async fn get_as(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(token), None).await
    }
    /// POST as the owner.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(&self.token), Some(&body))
            .await
    }
    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(token), Some(&body))
            .await
    }
    /// PUT as the owner.
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(&self.token), Some(&body))
            .await
    }
    pub async fn put_as(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PUT, path, Some(token), Some(&body))
            .await
    }

    /// GET as the owner, asserting 200.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// A plain-text GET (metrics).
    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let resp = self.client.get(self.url(path)).send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    // --- staff setup -------------------------------------------------------------------

    /// Creates a user as the owner and returns its id.
    pub async fn create_user(
        &self,
        name: &str,
        seat: &str,
        permissions: &[&str],
        capacity: Option<u32>,
    ) -> i64 {
        let mut body = json!({
            "name": name,
            "email": format!("{}@e2e.example", name.to_lowercase().replace(' ', ".")),
            "seat": seat,
            "permissions": permissions,
        });
        if let Some(capacity) = capacity {
            body["capacity"] = json!(capacity);
        }
        let (status, user) = self.post("/api/v1/users", body).await;
        assert_eq!(status, StatusCode::CREATED, "create user {name}: {user}");
        id_of(&user)
    }

    /// Issues a token for user `id` as the owner.
    pub async fn token_for(&self, id: i64) -> String {
        let (status, body) = self
            .post(&format!("/api/v1/users/{id}/tokens"), json!({}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "token for user {id}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a staff user with a paid seat and returns (id, token).
    pub async fn agent(&self, name: &str, capacity: u32) -> (i64, String) {
        let id = self.create_user(name, "service", &[], Some(capacity)).await;
        (id, self.token_for(id).await)
    }

    pub async fn create_inbox(&self, name: &str) -> i64 {
        let (status, inbox) = self
            .post("/api/v1/inboxes", json!({"name": name, "kind": "inbox"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "create inbox: {inbox}");
        id_of(&inbox)
    }

    /// Creates a team as the owner and returns its id.
    pub async fn create_team(&self, name: &str, user_ids: &[i64]) -> i64 {
        let (status, team) = self
            .post("/api/v1/teams", json!({"name": name, "user_ids": user_ids}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "create team: {team}");
        id_of(&team)
    }

    pub async fn user(&self, id: i64) -> Value {
        self.get_ok(&format!("/api/v1/users/{id}")).await
    }

    pub async fn set_availability(&self, token: &str, id: i64, availability: &str) -> Value {
        let (status, user) = self
            .put_as(
                token,
                &format!("/api/v1/users/{id}/availability"),
                json!({"availability": availability}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "availability of {id}: {user}");
        user
    }

    // --- settings ----------------------------------------------------------------------

    pub async fn settings(&self) -> Value {
        self.get_ok("/api/v1/handoff/settings").await
    }

    /// PUTs `settings` (its `version` removed) as the owner, asserting 200.
    pub async fn put_settings(&self, mut settings: Value) -> Value {
        if let Some(map) = settings.as_object_mut() {
            map.remove("version");
        }
        let (status, body) = self.put("/api/v1/handoff/settings", settings).await;
        assert_eq!(status, StatusCode::OK, "PUT settings: {body}");
        body
    }

    /// Live (or async) handoff to `user_ids` in a fresh inbox, with the e2e messages and
    /// the given custom triggers; all default triggers on.
    pub async fn route_to(&self, process: &str, user_ids: &[i64], custom: &[&str]) -> Value {
        self.route_to_teams(process, user_ids, &[], custom).await
    }

    /// [`Server::route_to`] with teams in the destination too.
    pub async fn route_to_teams(
        &self,
        process: &str,
        user_ids: &[i64],
        team_ids: &[i64],
        custom: &[&str],
    ) -> Value {
        let inbox = self.create_inbox(&format!("inbox-{}", random_hex())).await;
        let mut settings = self.settings().await;
        settings["default_triggers"] =
            json!({"cannot_answer": true, "asks_for_human": true, "agent_paused": true});
        settings["custom_triggers"] = json!(custom);
        settings["process"] = json!(process);
        settings["destination"] = json!({
            "kind": "users_and_teams",
            "inbox_id": inbox,
            "user_ids": user_ids,
            "team_ids": team_ids,
        });
        settings["messages"] = json!({
            "available": AVAILABLE_MSG,
            "unavailable": UNAVAILABLE_MSG,
            "unassigned_by_workflow": UNASSIGNED_MSG,
        });
        settings["unassigned_chat"] = json!("keep_open");
        self.put_settings(settings).await
    }

    // --- conversations -----------------------------------------------------------------

    /// A new visitor conversation.
    pub async fn visitor(&self) -> Visitor<'_> {
        let (status, body) = self
            .request(
                Method::POST,
                "/api/v1/chat/conversations",
                None,
                Some(&json!({"visitor": {"name": "Ada Visitor", "email": "ada@visitor.example"}})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create conversation: {body}");
        Visitor {
            server: self,
            id: body["conversation_id"].as_i64().unwrap(),
            token: body["visitor_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn conversation(&self, id: i64) -> Value {
        self.get_ok(&format!("/api/v1/conversations/{id}")).await
    }

    /// The conversations of a view (`unassigned`, `mine`, `open`, `all`) as the owner.
    pub async fn view(&self, view: &str) -> Vec<Value> {
        self.view_as(&self.token, view).await
    }

    pub async fn view_as(&self, token: &str, view: &str) -> Vec<Value> {
        let (status, body) = self
            .get_as(token, &format!("/api/v1/conversations?view={view}"))
            .await;
        assert_eq!(status, StatusCode::OK, "view {view}: {body}");
        body["conversations"].as_array().unwrap().clone()
    }

    pub async fn audit(&self, limit: u32) -> Vec<Value> {
        let body = self.get_ok(&format!("/api/v1/audit?limit={limit}")).await;
        body["events"].as_array().unwrap().clone()
    }

    /// Opens the SSE stream of a conversation, replaying after `last_event_id`.
    pub async fn events(&self, visitor: &Visitor<'_>, last_event_id: Option<i64>) -> EventStream {
        let path = format!("/api/v1/chat/conversations/{}/events", visitor.id);
        self.sse(&path, &visitor.token, last_event_id).await
    }

    /// Opens any server-sent event stream of the server with `token`.
    pub async fn sse(&self, path: &str, token: &str, last_event_id: Option<i64>) -> EventStream {
        self.sse_after(
            path,
            token,
            last_event_id.map(|id| id.to_string()).as_deref(),
        )
        .await
    }

    /// Opens a server-sent event stream, sending `last_event_id` as it is.
    pub async fn sse_after(
        &self,
        path: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> EventStream {
        let mut req = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            // The stream stays open: no overall timeout, `next` has its own.
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "SSE status");
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "SSE content-type: {content_type:?}"
        );
        EventStream {
            stream: resp
                .bytes_stream()
                .map(|chunk| chunk.map(|b| b.to_vec()))
                .boxed(),
            buf: String::new(),
        }
    }

    /// Polls `check` until it returns `Some`, or panics with `what` after [`POLL_TIMEOUT`].
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + POLL_TIMEOUT;
        loop {
            if let Some(value) = check().await {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {POLL_TIMEOUT:?} waiting for: {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Stop the server before dropping its schema.
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
        if let Some((url, schema)) = &self.postgres {
            drop_schema(url, schema);
        }
    }
}

/// The `--config` file of a server started with one, in its folder.
const CONFIG_FILE: &str = "baton.toml";

/// `baton serve` on `addr` for the server whose folder is `dir`.
fn serve_command(dir: &Path, token: &str, database: &Database, addr: &str) -> Command {
    let mut cmd = baton_command(&["serve"]);
    cmd.current_dir(dir)
        .env("BATON_HTTP__ADDR", addr)
        .env("BATON_BOOTSTRAP_TOKEN", token)
        .env("BATON_KB__DIR", dir.join("kb"))
        .env("RUST_LOG", "warn");
    let config = dir.join(CONFIG_FILE);
    if config.is_file() {
        cmd.arg("--config").arg(config);
    }
    match database {
        Database::Sqlite(file) => {
            let file = file.clone().unwrap_or_else(|| dir.join("baton.db"));
            cmd.env(
                "BATON_DATABASE__URL",
                format!("sqlite://{}?mode=rwc", file.display()),
            );
        }
        Database::Postgres(url, schema) => {
            cmd.env("BATON_DATABASE__URL", url)
                .env("BATON_DATABASE__SCHEMA", schema);
        }
    }
    cmd
}

fn unique_schema() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "e2e_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Drops a test schema with `psql` if it is installed; otherwise leaves it.
fn drop_schema(url: &str, schema: &str) {
    let result = Command::new("psql")
        .arg(url)
        .args([
            "-q",
            "-c",
            &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Ok(status) = result
        && !status.success()
    {
        eprintln!("note: could not drop schema {schema}");
    }
}

/// The integer `id` of a JSON object.
pub fn id_of(value: &Value) -> i64 {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {value}"))
}

/// Asserts an error response: the status, the error code is a non-empty string, the message
/// is a string, and `field` (when given) names the field.
#[track_caller]
pub fn assert_error(response: &(StatusCode, Value), status: StatusCode, field: Option<&str>) {
    let (got, body) = response;
    assert_eq!(*got, status, "status; body: {body}");
    let error = &body["error"];
    assert!(
        error["code"].as_str().is_some_and(|c| !c.is_empty()),
        "error.code missing in {body}"
    );
    assert!(
        error["message"].is_string(),
        "error.message missing in {body}"
    );
    if let Some(field) = field {
        assert_eq!(error["field"], json!(field), "error.field in {body}");
    }
}

// ---------------------------------------------------------------------------------------
// Visitor
// ---------------------------------------------------------------------------------------

/// One visitor's chat conversation.
#[derive(Debug)]
pub struct Visitor<'a> {
    pub server: &'a Server,
    pub id: i64,
    pub token: String,
}

impl Visitor<'_> {
    fn messages_path(&self) -> String {
        format!("/api/v1/chat/conversations/{}/messages", self.id)
    }

    /// Posts a message; returns the raw response.
    pub async fn send(&self, text: &str, client_message_id: Option<&str>) -> (StatusCode, Value) {
        let mut body = json!({"text": text});
        if let Some(id) = client_message_id {
            body["client_message_id"] = json!(id);
        }
        self.server
            .request(
                Method::POST,
                &self.messages_path(),
                Some(&self.token),
                Some(&body),
            )
            .await
    }

    /// Posts a message, asserting 200, and returns the replies.
    pub async fn say(&self, text: &str) -> Vec<Value> {
        let (status, body) = self.send(text, None).await;
        assert_eq!(status, StatusCode::OK, "visitor message {text:?}: {body}");
        body["replies"]
            .as_array()
            .unwrap_or_else(|| panic!("no replies array in {body}"))
            .clone()
    }

    /// Posts a message and asserts the one reply is a system handoff message; returns it.
    pub async fn say_expect_handoff(&self, text: &str) -> String {
        let replies = self.say(text).await;
        assert_eq!(
            replies.len(),
            1,
            "one handoff reply to {text:?}: {replies:?}"
        );
        assert_eq!(
            replies[0]["author"], "system",
            "reply to {text:?}: {replies:?}"
        );
        replies[0]["text"].as_str().unwrap().to_owned()
    }

    /// The conversation's messages, oldest first.
    pub async fn messages(&self) -> Vec<Value> {
        let (status, body) = self
            .server
            .request(Method::GET, &self.messages_path(), Some(&self.token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "visitor messages: {body}");
        body["messages"].as_array().unwrap().clone()
    }

    /// The staff view of this conversation.
    pub async fn conversation(&self) -> Value {
        self.server.conversation(self.id).await
    }
}

// ---------------------------------------------------------------------------------------
// Server-sent events
// ---------------------------------------------------------------------------------------

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SseEvent {
    pub event: String,
    pub id: String,
    pub data: String,
}

type ByteStream = futures_util::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>;

/// An open SSE stream.
pub struct EventStream {
    stream: ByteStream,
    buf: String,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("buf", &self.buf)
            .finish()
    }
}

impl EventStream {
    /// The next event other than comments/keep-alives; panics after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> SseEvent {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(event) = self.parse_one() {
                return event;
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .unwrap_or_else(|_| panic!("no SSE event within {timeout:?}"))
                .expect("the SSE stream ended")
                .expect("the SSE stream failed");
            self.buf
                .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        }
    }

    /// The next `message` event of a visitor stream, skipping `state` events.
    pub async fn next_message(&mut self, timeout: Duration) -> SseEvent {
        self.next_of("message", timeout).await
    }

    /// The next event named `kind`, skipping others; panics after `timeout`.
    pub async fn next_of(&mut self, kind: &str, timeout: Duration) -> SseEvent {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = self.next(left).await;
            if event.event == kind {
                return event;
            }
        }
    }

    fn parse_one(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buf.find("\n\n")?;
            let block: String = self.buf.drain(..end + 2).collect();
            let mut event = SseEvent::default();
            let mut data = Vec::new();
            for line in block.lines() {
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match name {
                    "event" => event.event = value.to_owned(),
                    "id" => event.id = value.to_owned(),
                    "data" => data.push(value.to_owned()),
                    _ => {}
                }
            }
            if !data.is_empty() || !event.event.is_empty() {
                event.data = data.join("\n");
                return Some(event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(text: &str) -> EventStream {
        EventStream {
            stream: futures_util::stream::empty().boxed(),
            buf: text.to_owned(),
        }
    }

    #[test]
    fn sse_blocks_are_parsed_and_keep_alives_skipped() {
        let mut s = stream_of(
            ": keep-alive\n\nevent: message\nid: 7\ndata: {\"a\":1}\n\nid: 8\ndata:x\ndata: y\n\nevent: mess",
        );
        assert_eq!(
            s.parse_one(),
            Some(SseEvent {
                event: "message".into(),
                id: "7".into(),
                data: "{\"a\":1}".into()
            })
        );
        assert_eq!(
            s.parse_one(),
            Some(SseEvent {
                event: String::new(),
                id: "8".into(),
                data: "x\ny".into()
            })
        );
        assert_eq!(s.parse_one(), None, "an incomplete block waits for more");
        assert_eq!(s.buf, "event: mess");
    }

    #[test]
    fn schema_names_are_unique_and_plain() {
        let a = unique_schema();
        let b = unique_schema();
        assert_ne!(a, b);
        assert!(a.starts_with("e2e_"));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }
}
