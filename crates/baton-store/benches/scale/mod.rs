//! What the store's "small vs large" benchmarks share: the backends they run on, query
//! plans as evidence, the interleaved comparison and the ratio report.
//!
//! Each benchmark times its cases with criterion on a small and a large store, then the
//! same cases in alternation ([`alternate`]), which a burst of other work on a shared
//! machine cannot skew, and prints the ratio large / small per case (the target is at
//! most 2x).
#![allow(dead_code)] // each benchmark uses its part

use std::path::PathBuf;
use std::time::SystemTime;

use baton_store::SeaStore;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// A backend to run on: SQLite files in a temporary directory, or PostgreSQL at a URL.
pub(crate) enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// SQLite always; PostgreSQL when `BATON_TEST_POSTGRES_URL` is set.
pub(crate) fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite(tempfile::tempdir().expect("tempdir"))];
    if let Ok(url) = std::env::var("BATON_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        backends.push(Backend::Postgres(url));
    }
    backends
}

/// A fresh store on `backend`: a new SQLite file, or a new PostgreSQL schema named
/// after `label` and `n` (drop it with [`drop_schema`]). Returns the store, the schema
/// and the SQLite file's directory (kept alive by the caller).
pub(crate) async fn fresh(
    backend: &Backend,
    label: &str,
    n: u64,
) -> (SeaStore, Option<String>, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite(parent) => {
            let dir = tempfile::tempdir_in(parent.path()).expect("tempdir");
            let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
            let store = SeaStore::connect(&url, None).await.expect("sqlite");
            (store, None, Some(dir))
        }
        Backend::Postgres(url) => {
            let schema = format!(
                "bench_{label}_{}_{}_{n}",
                std::process::id(),
                chrono::Utc::now().timestamp_micros()
            );
            let store = SeaStore::connect(url, Some(&schema))
                .await
                .expect("postgres");
            (store, Some(schema), None)
        }
    }
}

pub(crate) async fn drop_schema(url: &str, schema: &str) {
    let mut options = sea_orm::ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false);
    let db = sea_orm::Database::connect(options).await.expect("postgres");
    db.execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("drop schema");
    let _ = db.close().await;
}

/// The query plan of `sql`, to stderr: the evidence that a read is one index range.
pub(crate) async fn plan(db: &DatabaseConnection, label: &str, case: &str, sql: &str) {
    let backend = db.get_database_backend();
    let explain = match backend {
        DbBackend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        _ => format!("EXPLAIN {sql}"),
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, explain))
        .await
        .expect("explain");
    let plan: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            row.try_get::<String>("", "detail")
                .or_else(|_| row.try_get::<String>("", "QUERY PLAN"))
                .ok()
        })
        .collect();
    eprintln!("plan {label} {case}: {}", plan.join(" | "));
}

/// Rounds of the interleaved comparison.
pub(crate) const ROUNDS: usize = 1_000;

/// One case's medians (nanoseconds) on the small and the large store, timed in
/// alternation so that a burst of other work on the machine weighs on both alike.
pub(crate) struct Interleaved {
    pub(crate) label: String,
    pub(crate) small: f64,
    pub(crate) large: f64,
}

/// Times `call(0)` (the small store) and `call(1)` (the large one) [`ROUNDS`] times
/// each, alternating which goes first, and keeps each side's median.
pub(crate) fn alternate(label: String, mut call: impl FnMut(usize)) -> Interleaved {
    let mut times = [Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS)];
    for round in 0..ROUNDS {
        for turn in 0..2 {
            let which = (round + turn) % 2;
            let started = std::time::Instant::now();
            call(which);
            times[which].push(started.elapsed().as_secs_f64() * 1e9);
        }
    }
    let [small, large] = times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    });
    Interleaved {
        label,
        small,
        large,
    }
}

/// Whether this run measures (not `--test` or `--list`): only then the interleaved
/// comparison runs too.
pub(crate) fn measuring() -> bool {
    !std::env::args().any(|arg| arg == "--test" || arg == "--list")
}

/// Where criterion wrote its estimates: `CRITERION_HOME`, else `criterion/` in the target
/// directory this benchmark runs from (`target/release/deps/<bench>-…`).
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The median of one benchmark, in nanoseconds, from criterion's `estimates.json` when
/// this run wrote it (not a stale one from an earlier, differently filtered run).
fn median(
    dir: &std::path::Path,
    group: &str,
    case: &str,
    n: u64,
    since: SystemTime,
) -> Option<f64> {
    let path = dir
        .join(group)
        .join(case)
        .join(n.to_string())
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["median"]["point_estimate"].as_f64()
}

fn line(label: &str, small: f64, large: f64) {
    let ratio = large / small;
    println!(
        "  {label:<37} {:>8.1} us -> {:>8.1} us   ratio {ratio:.2}x  {}",
        small / 1e3,
        large / 1e3,
        if ratio <= 2.0 {
            "ok (<= 2x)"
        } else {
            "OVER 2x"
        }
    );
}

/// What a report is about: criterion groups `{prefix}-{backend}`, `cases` in each, run
/// at `sizes` of `unit` ("rows", "conversations").
pub(crate) struct Subject<'a> {
    pub(crate) prefix: &'a str,
    pub(crate) what: &'a str,
    pub(crate) unit: &'a str,
    pub(crate) sizes: [u64; 2],
    pub(crate) cases: &'a [&'a str],
}

/// Prints the ratios, large / small: criterion's medians of this run, then the
/// interleaved ones.
pub(crate) fn report(subject: &Subject<'_>, since: SystemTime, interleaved: &[Interleaved]) {
    let [small, large] = subject.sizes;
    let unit = subject.unit;
    if let Some(dir) = criterion_dir() {
        println!(
            "\n{} cost, criterion medians, {small} {unit} -> {large} {unit}:",
            subject.what
        );
        for backend in ["sqlite", "postgres"] {
            let group = format!("{}-{backend}", subject.prefix);
            for case in subject.cases {
                if let (Some(s), Some(l)) = (
                    median(&dir, &group, case, small, since),
                    median(&dir, &group, case, large, since),
                ) {
                    line(&format!("{group}/{case}"), s, l);
                }
            }
        }
    }
    if !interleaved.is_empty() {
        println!(
            "{} cost, medians of {ROUNDS} alternating calls on each, {small} {unit} -> {large} {unit}:",
            subject.what
        );
        for case in interleaved {
            line(&case.label, case.small, case.large);
        }
    }
}
