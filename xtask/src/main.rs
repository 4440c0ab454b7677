//! `cargo xtask`: the project's automation, written in Rust so it runs wherever cargo does.
//!
//! `cargo xtask test` is the one test command of the project; `cargo xtask tidy` checks the
//! structural rules (also run as a test, so `cargo test --workspace` includes it);
//! `cargo xtask build-plugins` and `cargo xtask plugin new` serve plugin authors.

#![allow(clippy::print_stdout)]

mod plugins;
mod scaffold;
mod tidy;

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{Context, bail};

const TASKS: &[(&str, &str)] = &[
    (
        "test",
        "run every test (unit, integration, end-to-end; SQLite, and PostgreSQL when reachable), then tidy",
    ),
    (
        "tidy",
        "check structural rules: pure crates stay pure, no crate cycles, module docs, workspace lints",
    ),
    (
        "load",
        "release build, then the HTTP pipeline vs raw store writes in one run (args go to baton-load, e.g. --database postgres); \
         `load sign-in [--requests 400] [--interval-ms 10] [--concurrency 20]`: GET /healthz latency alone vs during concurrent password sign-ins; \
         `load fanout [--streams 1000] [--rounds 20]`: one handoff reaching 1 vs 1,000 staff streams, memory per idle stream; \
         `load idle-streams [--streams 10000]`: memory per idle visitor stream and request p99 while they are held; \
         `load webhooks`: the pipeline with one webhook subscriber vs none",
    ),
    (
        "chaos",
        "release build, then web chat visitors, Telegram updates through the shipped plugin, email customers \
         (a real Dovecot mailbox and SMTP sink) and staff (claims, replies, closes, handbacks) while the server \
         is SIGKILLed and restarted N times; checks every invariant in the database, exit 1 on a violation \
         ([--kills 20] [--database sqlite|postgres] [--hosts 1|3] [--telegram-chats 4] [--email-customers 3])",
    ),
    (
        "bench",
        "criterion benchmarks: trigger matching (core), choosing an assignee among 100 vs 10,000 \
         (routing, store), an audit page on a log of 100 vs 100,000 rows and the inbox's first \
         pages and counts with 1,000 vs 100,000 conversations (store; PostgreSQL too with \
         BATON_TEST_POSTGRES_URL), one password verification at the production cost (auth), \
         a matcher call through the plugin ABI vs in-process (plugin-host)",
    ),
    (
        "build-plugins",
        "build every plugin crate under plugins/ and copy the libraries to target/plugins/ \
         ([--release] [--out DIR])",
    ),
    (
        "plugin new",
        "scaffold a plugin crate with ABI tests: NAME --kind channel|matcher [--path DIR]",
    ),
];

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            print_tasks();
            return ExitCode::SUCCESS;
        }
        Some("test") => test(&args[1..]),
        Some("tidy") => tidy_task(),
        Some("load") => load(&args[1..]),
        // The Telegram part loads the shipped plugin from target/plugins.
        Some("chaos") => {
            plugins::build_plugins(&["--release".to_owned()]).and_then(|built| match built {
                true => load(&[&["chaos".to_owned()], &args[1..]].concat()),
                false => Ok(false),
            })
        }
        Some("bench") => run(Command::new(cargo()).args([
            "bench",
            "-p",
            "baton-core",
            "-p",
            "baton-routing",
            "-p",
            "baton-store",
            "-p",
            "baton-auth",
            "-p",
            "baton-plugin-host",
            "-p",
            "baton-agent",
            "-p",
            "baton-channel-email",
        ])),
        Some("build-plugins") => plugins::build_plugins(&args[1..]),
        Some("plugin") => scaffold::plugin_task(&args[1..]),
        Some(other) => {
            eprintln!("xtask: unknown task `{other}`\n");
            print_tasks();
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_tasks() {
    println!("Usage: cargo xtask <task> [args]\n\nTasks:");
    let width = TASKS.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, about) in TASKS {
        println!("  {name:<width$}  {about}");
    }
    println!(
        "\n`cargo xtask test [args]` passes [args] on to `cargo test --workspace --no-fail-fast`,\n\
         e.g. `cargo xtask test -- --nocapture`."
    );
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo that runs us, so toolchain overrides carry through.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// A command-line argument as `(flag, inline value)`: `--out=DIR` is `("--out",
/// Some("DIR"))`, anything else is itself with no value.
pub(crate) fn split_flag(arg: &str) -> (&str, Option<&str>) {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
        _ => (arg, None),
    }
}

/// The value of `flag`: given inline (`--flag=value`) or as the next argument.
pub(crate) fn flag_value<'a>(
    flag: &str,
    inline: Option<&str>,
    rest: &mut impl Iterator<Item = &'a String>,
) -> anyhow::Result<String> {
    match inline {
        Some(value) => Ok(value.to_owned()),
        None => rest
            .next()
            .filter(|value| !value.starts_with("--"))
            .cloned()
            .with_context(|| format!("{flag} needs a value")),
    }
}

fn test(extra: &[String]) -> anyhow::Result<bool> {
    let root = workspace_root();
    let url = std::env::var("BATON_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned());
    let addr = postgres_addr(&url);
    let require = std::env::var("BATON_REQUIRE_POSTGRES").as_deref() == Ok("1");
    let reachable = reachable(&addr);
    if !reachable && require {
        bail!(
            "BATON_REQUIRE_POSTGRES=1 but no PostgreSQL server answers at {addr} \
             (from {url}); start PostgreSQL or unset BATON_REQUIRE_POSTGRES"
        );
    }

    // The end-to-end tests load the shipped plugins into the real binary; `cargo test`
    // builds a cdylib only for its own tests, so build the libraries first.
    if !plugins::build_plugins(&[])? {
        bail!("building the plugins failed");
    }

    let mut cmd = Command::new(cargo());
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .args(extra)
        .current_dir(&root);
    if reachable {
        println!("xtask: PostgreSQL answers at {addr}: the PostgreSQL variants run too");
        cmd.env("BATON_TEST_POSTGRES_URL", &url);
    } else {
        cmd.env_remove("BATON_TEST_POSTGRES_URL");
    }
    println!(
        "xtask: $ cargo test --workspace --no-fail-fast {}",
        extra.join(" ")
    );
    let tests_ok = cmd.status().context("cannot run `cargo test`")?.success();

    println!("xtask: $ cargo xtask tidy");
    let tidy_ok = tidy_task()?;

    println!();
    println!(
        "xtask: cargo test: {}; tidy: {}",
        if tests_ok { "ok" } else { "FAILED" },
        if tidy_ok { "ok" } else { "FAILED" }
    );
    if !reachable {
        println!(
            "PostgreSQL run SKIPPED: no server at {addr} \
             (set BATON_REQUIRE_POSTGRES=1 to make this an error)"
        );
    }
    Ok(tests_ok && tidy_ok)
}

fn run(cmd: &mut Command) -> anyhow::Result<bool> {
    cmd.current_dir(workspace_root());
    Ok(cmd.status().context("cannot run cargo")?.success())
}

/// Builds the server and the load driver in release mode and runs the load.
fn load(extra: &[String]) -> anyhow::Result<bool> {
    if !run(Command::new(cargo()).args([
        "build",
        "--release",
        "-p",
        "baton-host",
        "-p",
        "baton-load",
    ]))? {
        return Ok(false);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    run(Command::new(target.join("release").join("baton-load")).args(extra))
}

fn tidy_task() -> anyhow::Result<bool> {
    let violations = tidy::check_workspace(&workspace_root())?;
    for violation in &violations {
        println!("{violation}");
    }
    if violations.is_empty() {
        println!("tidy: ok");
    }
    Ok(violations.is_empty())
}

/// `host:port` of a PostgreSQL URL (`postgres://user:pw@host:port/db?x`), port 5432 when
/// absent.
fn postgres_addr(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host_port = if host_port.is_empty() {
        "127.0.0.1"
    } else {
        host_port
    };
    // An IPv6 literal is bracketed: its port follows "]:".
    let has_port = match host_port.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => host_port.contains(':'),
    };
    if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

fn reachable(addr: &str) -> bool {
    let Ok(addrs) = addr.to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::postgres_addr;

    #[test]
    fn postgres_addr_from_urls() {
        for (url, addr) in [
            ("postgres://postgres@127.0.0.1:5432/test", "127.0.0.1:5432"),
            (
                "postgres://u:pw@db.local:6543/x?sslmode=off",
                "db.local:6543",
            ),
            ("postgresql://localhost/test", "localhost:5432"),
            ("postgres://[::1]:5433/t", "[::1]:5433"),
            ("postgres://[::1]/t", "[::1]:5432"),
        ] {
            assert_eq!(postgres_addr(url), addr, "{url}");
        }
    }
}
