//! API conformance: schemathesis against the real binary, with every check on, a fixed
//! seed and a bounded number of examples, once with the owner's token (every operation)
//! and once with a visitor's token (the chat operations, on the visitor's conversation).
//! `/openapi.json` must describe every status, constraint and error body the server
//! gives: the run must end with no failure and no server error.
//!
//! schemathesis is `$BATON_SCHEMATHESIS`, else `st` on the `PATH`; `.ci/run` installs it
//! in a virtualenv and sets `BATON_REQUIRE_SCHEMATHESIS=1`. Elsewhere the test says it is
//! skipped when there is none.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use baton_e2e::{Backend, Server};

/// The same seed every run: a failure is reproduced by running the test again.
const SEED: &str = "1";
/// Examples per operation and phase: enough to reach every branch the schemas describe,
/// few enough that both runs take about a minute and a half on two cores.
const MAX_EXAMPLES: &str = "20";

/// Rate limits high enough that thousands of requests from one address do not trip
/// them (the limits have their own tests), and webhook targets that need no DNS.
const SERVER_CONFIG: &str = "\
[limits]
conversations_per_minute_per_address = 1000000
messages_per_minute_per_address = 1000000
webhooks_per_minute_per_address = 1000000

[webhooks]
allow_private_targets = true
";

/// schemathesis's configuration. Only data can refuse some schema-valid requests: an id
/// that does not exist, an email another user has, the last admin, a template that is
/// not installed. These operations document that 422, and only for them is a 422 an
/// accepted answer to valid data; every other check stays as it is.
const ST_CONFIG: &str = r#"
[[operations]]
include-name = [
    "POST /api/v1/users",
    "PATCH /api/v1/users/{id}",
    "PUT /api/v1/users/{id}/working_hours",
    "POST /api/v1/teams",
    "PUT /api/v1/handoff/settings",
    "POST /api/v1/conversations/{id}/assign",
    "POST /api/v1/webhooks",
    "POST /api/v1/workflows",
    "PUT /api/v1/workflows/{id}",
    "POST /api/v1/workflows/from-template",
    "POST /api/v1/chat/conversations",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# Event streams stay open: read what arrives within a second.
[[operations]]
include-path-regex = "/events$"
request-timeout = 1.0
max-stream-events = 1
"#;

/// The schemathesis CLI, or `None` (after saying why) when there is none. Panics instead
/// when `BATON_REQUIRE_SCHEMATHESIS=1`.
fn schemathesis_or_skip() -> Option<PathBuf> {
    let found = match std::env::var_os("BATON_SCHEMATHESIS") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        _ => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("st"))
                .find(|p| p.is_file())
        }),
    };
    if found.is_none() {
        let why = "no schemathesis: set BATON_SCHEMATHESIS to its `st`, or put `st` on the \
                   PATH (pip install 'schemathesis>=4.32,<5')";
        assert!(
            std::env::var("BATON_REQUIRE_SCHEMATHESIS").as_deref() != Ok("1"),
            "BATON_REQUIRE_SCHEMATHESIS=1 but {why}"
        );
        eprintln!("skipped: {why}");
    }
    found
}

/// One `st run` against `server` with `token`; panics with its output unless it passes.
fn run(st: &Path, config: &Path, server: &Server, token: &str, extra: &[&str], what: &str) {
    let started = Instant::now();
    let output = Command::new(st)
        // schemathesis keeps a `.schemathesis/` cache in its working directory.
        .current_dir(config.parent().unwrap())
        .arg("--no-color")
        .arg("--config-file")
        .arg(config)
        .arg("run")
        .arg(server.url("/openapi.json"))
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "all",
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
        ])
        // One worker: the same seed gives the same run, and hypothesis is not safe across
        // schemathesis's worker threads (internal errors, or a search that never ends).
        .args(["--workers", "1"])
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", st.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "schemathesis, {what}: {:?} in {:.0?}",
        output.status,
        started.elapsed()
    );
    assert!(
        output.status.success(),
        "schemathesis found failures ({what}):\n{stdout}\n{stderr}\nserver stderr:\n{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_does_what_its_openapi_document_says() {
    let Some(st) = schemathesis_or_skip() else {
        return;
    };
    let server = Server::start_with_config(Backend::Sqlite, SERVER_CONFIG.into()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(&config, ST_CONFIG).unwrap();
    // `st` runs to its end; the server is another process, so blocking here stops nothing.
    tokio::task::block_in_place(|| {
        run(
            &st,
            &config,
            &server,
            &server.token,
            &[],
            "owner token, every operation",
        )
    });

    // A visitor who arrives after the owner's run (which closes the conversations it
    // finds), on their own conversation: any other id is a 404.
    let visitor = server.visitor().await;
    let visitor_config = dir.path().join("schemathesis-visitor.toml");
    std::fs::write(
        &visitor_config,
        format!(
            "{ST_CONFIG}\n[[operations]]\ninclude-path-regex = \"^/api/v1/chat/conversations/\\\\{{id\\\\}}\"\nparameters = {{ \"path.id\" = {} }}\n",
            visitor.id
        ),
    )
    .unwrap();
    tokio::task::block_in_place(|| {
        run(
            &st,
            &visitor_config,
            &server,
            &visitor.token,
            &["--include-path-regex", "^/api/v1/chat/"],
            "visitor token, the chat operations",
        )
    });
    drop(dir);
}
