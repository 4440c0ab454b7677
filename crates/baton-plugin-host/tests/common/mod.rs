//! What the plugin-host tests share: finding the built `.so` files, running one test in a
//! child process, a healthy matcher to load beside the broken ones, and log capture.
//!
//! Why child processes: a fault fixture that misbehaves worse than designed (a crash, an
//! abort from an unwind across the boundary) takes its whole process down; in a child, it
//! fails one test and the rest of the run reports normally.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baton_plugin_host::{Hit, Matcher, PluginSpec};

/// Set in a child process: its inner test runs instead of returning at once.
pub(crate) const CHILD_ENV: &str = "BATON_FAULT_CHILD";

/// Longest a child may take (the slow fixture sleeps 2 s).
const CHILD_DEADLINE: Duration = Duration::from_secs(60);

pub(crate) fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// The cdylib `lib<name>.so` that cargo built for this test binary. The fixtures and
/// matcher-regex are dev-dependencies, so `cargo test` builds them into
/// `target/<profile>/deps`, next to the test binary (preferred: always current); a
/// `cargo build -p <crate>` puts them in `target/<profile>`.
pub(crate) fn cdylib(crate_name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's own path");
    let deps = exe
        .parent()
        .expect("test binaries live in target/<profile>/deps");
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        crate_name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    let candidates = [Some(deps.join(&file)), deps.parent().map(|p| p.join(&file))];
    candidates
        .into_iter()
        .flatten()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{file} is missing from {}: run `cargo build -p {crate_name}` (or `cargo xtask \
                 build-plugins`) before these tests",
                deps.display()
            )
        })
}

pub(crate) fn spec(name: &str, crate_name: &str, config: serde_json::Value) -> PluginSpec {
    PluginSpec {
        name: name.to_owned(),
        path: cdylib(crate_name),
        config,
    }
}

/// What a child run printed, stdout then stderr.
#[derive(Debug)]
pub(crate) struct ChildOutput {
    pub(crate) success: bool,
    pub(crate) output: String,
}

/// Runs the inner test `test` (its full path, e.g. `child::panics`) alone in a fresh
/// process and returns how it ended. Fails if the filter did not select exactly that test
/// (a renamed test would otherwise pass by running nothing) or the child hangs.
pub(crate) fn run_child(test: &str) -> ChildOutput {
    let exe = std::env::current_exe().expect("the test binary's own path");
    let mut child = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts again");
    // Read both pipes while waiting, so a chatty child cannot block on a full pipe.
    let readers = [
        drain(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ),
        drain(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ),
    ];
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if started.elapsed() > CHILD_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output: String = readers
        .into_iter()
        .map(|reader| reader.join().expect("reader thread"))
        .collect::<Vec<_>>()
        .join("\n");
    let Some(status) = status else {
        panic!("child {test} did not finish within {CHILD_DEADLINE:?}:\n{output}");
    };
    assert!(
        output.contains("running 1 test"),
        "the child ran no test named {test}:\n{output}"
    );
    ChildOutput {
        success: status.success(),
        output,
    }
}

/// Runs `test` in a child and requires it to pass: the host survived the fault.
pub(crate) fn child_passes(test: &str) -> String {
    let child = run_child(test);
    assert!(child.success, "child {test} failed:\n{}", child.output);
    child.output
}

fn drain(pipe: Option<Box<dyn Read + Send>>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// A working matcher-regex instance, loaded beside each broken plugin.
pub(crate) fn healthy() -> Matcher {
    let spec = spec(
        "healthy",
        "matcher-regex",
        serde_json::json!({ "patterns": ["refund"] }),
    );
    let plugin = baton_plugin_host::load(&spec).expect("matcher-regex loads");
    Matcher::new(plugin).expect("matcher-regex is a trigger matcher")
}

/// The healthy matcher still answers, and answers right.
pub(crate) fn assert_healthy(matcher: &Matcher) {
    let hit = matcher
        .find_blocking("I want a refund", Some("chat"))
        .expect("the healthy matcher answers");
    assert_eq!(
        hit,
        Some(Hit {
            matched: "refund".into(),
            start: 9,
            end: 15,
        })
    );
    assert_eq!(
        matcher
            .find_blocking("just saying hello", None)
            .expect("answers"),
        None
    );
}

/// Log lines captured as JSON objects, one per event.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Installs a global JSON subscriber writing here (children only: one per process).
    pub(crate) fn install() -> Logs {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .init();
        logs
    }

    pub(crate) fn events(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().expect("log buffer").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON log line"))
            .collect()
    }

    /// Events whose `plugin` field is `plugin`.
    pub(crate) fn of(&self, plugin: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["fields"]["plugin"] == plugin)
            .collect()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
