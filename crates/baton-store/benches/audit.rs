//! One page of the audit log — the newest page, the page below an id in the middle, and
//! the newest page of one kind — on a log of 100 vs 100,000 rows, on a SQLite file and,
//! when `BATON_TEST_POSTGRES_URL` is set, in a fresh PostgreSQL schema (dropped
//! afterwards). A keyset page is one index range, so its cost must not grow with the
//! log: the run ends by printing the ratio of the criterion medians, 100,000 / 100, per
//! case (the target is at most 2x), and the same ratio from calls alternating between
//! the two logs, which a burst of other work on a shared machine cannot skew.
//!
//! The log is mostly `handoff` rows, one in twenty `settings_changed` and one in a
//! hundred `user_changed`, written by multi-row INSERTs outside the timed loop.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a benchmark: its report

use std::path::PathBuf;
use std::time::SystemTime;

use baton_engine::Store;
use baton_store::SeaStore;
use criterion::{BenchmarkId, Criterion};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

const SIZES: [u64; 2] = [100, 100_000];
const PAGE: u64 = 50;
/// Rows per INSERT statement while filling.
const BATCH: u64 = 1_000;

/// The pages timed: (case name, `before` given, `kind` given). `settings_changed` is one
/// row in twenty, so on the small log its page holds 5 rows, not 50; `handoff` fills its
/// page at both sizes, the like-for-like comparison of a filtered page.
const CASES: [(&str, bool, Option<&str>); 4] = [
    ("newest", false, None),
    ("before_mid", true, None),
    ("kind_settings_changed", false, Some("settings_changed")),
    ("kind_handoff", false, Some("handoff")),
];

fn kind_of(i: u64) -> &'static str {
    if i % 100 == 7 {
        "user_changed"
    } else if i % 20 == 3 {
        "settings_changed"
    } else {
        "handoff"
    }
}

struct Log {
    store: SeaStore,
    /// An id with half the log below it.
    mid: i64,
    /// The PostgreSQL schema holding it, dropped at the end.
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// A backend to run on: SQLite files in a temporary directory, or PostgreSQL at a URL.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite(tempfile::tempdir().expect("tempdir"))];
    if let Ok(url) = std::env::var("BATON_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        backends.push(Backend::Postgres(url));
    }
    backends
}

/// A fresh store (a new SQLite file, or a new PostgreSQL schema) with `n` audit rows.
async fn fill(backend: &Backend, n: u64) -> Log {
    let (store, schema, dir) = match backend {
        Backend::Sqlite(parent) => {
            let dir = tempfile::tempdir_in(parent.path()).expect("tempdir");
            let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
            let store = SeaStore::connect(&url, None).await.expect("sqlite");
            (store, None, Some(dir))
        }
        Backend::Postgres(url) => {
            let schema = format!(
                "bench_audit_{}_{}_{n}",
                std::process::id(),
                chrono::Utc::now().timestamp_micros()
            );
            let store = SeaStore::connect(url, Some(&schema))
                .await
                .expect("postgres");
            (store, Some(schema), None)
        }
    };
    let db = store.connection();
    let txn = db.begin().await.expect("begin");
    let start = chrono::Utc::now().timestamp_micros() - i64::try_from(n).unwrap_or(0);
    let mut i = 0;
    while i < n {
        let end = (i + BATCH).min(n);
        let rows: Vec<String> = (i..end)
            .map(|i| {
                let at = start + i64::try_from(i).unwrap_or(0);
                match kind_of(i) {
                    "handoff" => format!(
                        "({at}, 'handoff', NULL, {i}, '{{\"trigger\":\"custom\",\"assignee\":{}}}')",
                        i % 40
                    ),
                    kind => format!("({at}, '{kind}', 1, NULL, '{{\"changed\":[\"process\"]}}')"),
                }
            })
            .collect();
        txn.execute_unprepared(&format!(
            "INSERT INTO audit_events (at, kind, actor_user_id, conversation_id, detail) VALUES {}",
            rows.join(", ")
        ))
        .await
        .expect("insert");
        i = end;
    }
    txn.commit().await.expect("commit");
    let backend_kind = db.get_database_backend();
    if backend_kind == DbBackend::Postgres {
        // Autovacuum would have analysed a table this size long before anyone reads it.
        db.execute_unprepared("ANALYZE audit_events")
            .await
            .expect("analyze");
    }
    let row = db
        .query_one_raw(Statement::from_string(
            backend_kind,
            "SELECT MIN(id) AS lo, COUNT(*) AS n FROM audit_events",
        ))
        .await
        .expect("min id")
        .expect("a row");
    let lo: i64 = row.try_get("", "lo").expect("lo");
    let count: i64 = row.try_get("", "n").expect("n");
    assert_eq!(u64::try_from(count).ok(), Some(n), "rows filled");
    Log {
        store,
        mid: lo + i64::try_from(n / 2).unwrap_or(0),
        schema,
        _dir: dir,
    }
}

async fn drop_schema(url: &str, schema: &str) {
    let mut options = sea_orm::ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false);
    let db = sea_orm::Database::connect(options).await.expect("postgres");
    db.execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await
        .expect("drop schema");
    let _ = db.close().await;
}

/// The query plan of each case's SQL (as sea-orm builds it), to stderr: the evidence that
/// a page is one index range.
async fn explain(log: &Log, label: &str) {
    let db = log.store.connection();
    let backend = db.get_database_backend();
    for (case, before, kind) in CASES {
        let mut sql = String::from(
            "SELECT id, at, kind, actor_user_id, conversation_id, detail FROM audit_events",
        );
        let mut filters = Vec::new();
        if let Some(kind) = kind {
            filters.push(format!("kind = '{kind}'"));
        }
        if before {
            filters.push(format!("id < {}", log.mid));
        }
        if !filters.is_empty() {
            sql.push_str(&format!(" WHERE {}", filters.join(" AND ")));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {PAGE}"));
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
}

/// Rounds of the interleaved comparison.
const ROUNDS: usize = 1_000;

/// One case's medians (nanoseconds) on the small and the large log, timed in alternation
/// so that a burst of other work on the machine weighs on both alike.
struct Interleaved {
    label: String,
    small: f64,
    large: f64,
}

fn bench(c: &mut Criterion) -> Vec<Interleaved> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut interleaved = Vec::new();
    for backend in backends() {
        let name = backend.name();
        let logs: Vec<(u64, Log)> = SIZES
            .iter()
            .map(|&n| (n, runtime.block_on(fill(&backend, n))))
            .collect();
        let mut group = c.benchmark_group(format!("audit-{name}"));
        for (n, log) in &logs {
            runtime.block_on(explain(log, &format!("{name}/{n}")));
            for (case, before, kind) in CASES {
                let before = before.then_some(log.mid);
                let rows = runtime
                    .block_on(log.store.audit(PAGE, before, kind))
                    .expect("audit");
                eprintln!("audit-{name}/{case}/{n}: a page of {} rows", rows.len());
                group.bench_with_input(BenchmarkId::new(case, n), n, |b, _| {
                    b.iter(|| {
                        runtime
                            .block_on(log.store.audit(PAGE, before, kind))
                            .expect("audit")
                    });
                });
            }
        }
        group.finish();
        if measuring() {
            for (case, before, kind) in CASES {
                let mut times = [Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS)];
                for round in 0..ROUNDS {
                    // Alternate which size goes first.
                    for turn in 0..2 {
                        let which = (round + turn) % 2;
                        let log = &logs[which].1;
                        let started = std::time::Instant::now();
                        runtime
                            .block_on(log.store.audit(PAGE, before.then_some(log.mid), kind))
                            .expect("audit");
                        times[which].push(started.elapsed().as_secs_f64() * 1e9);
                    }
                }
                let [small, large] = times.map(|mut t| {
                    t.sort_by(f64::total_cmp);
                    t[t.len() / 2]
                });
                interleaved.push(Interleaved {
                    label: format!("audit-{name}/{case}"),
                    small,
                    large,
                });
            }
        }
        for (_, log) in logs {
            if let (Backend::Postgres(url), Some(schema)) = (&backend, &log.schema) {
                runtime.block_on(drop_schema(url, schema));
            }
        }
    }
    interleaved
}

/// Whether this run measures (not `--test` or `--list`): only then the interleaved
/// comparison runs too.
fn measuring() -> bool {
    !std::env::args().any(|arg| arg == "--test" || arg == "--list")
}

/// Where criterion wrote its estimates: `CRITERION_HOME`, else `criterion/` in the target
/// directory this benchmark runs from (`target/release/deps/audit-…`).
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

fn report(since: SystemTime, interleaved: &[Interleaved]) {
    if let Some(dir) = criterion_dir() {
        println!(
            "\naudit page cost, criterion medians, {} rows -> {} rows:",
            SIZES[0], SIZES[1]
        );
        for backend in ["sqlite", "postgres"] {
            let group = format!("audit-{backend}");
            for (case, _, _) in CASES {
                if let (Some(small), Some(large)) = (
                    median(&dir, &group, case, SIZES[0], since),
                    median(&dir, &group, case, SIZES[1], since),
                ) {
                    line(&format!("{group}/{case}"), small, large);
                }
            }
        }
    }
    if !interleaved.is_empty() {
        println!(
            "audit page cost, medians of {ROUNDS} alternating calls on each log, {} rows -> {} rows:",
            SIZES[0], SIZES[1]
        );
        for case in interleaved {
            line(&case.label, case.small, case.large);
        }
    }
}

fn main() {
    let since = SystemTime::now();
    let mut criterion = Criterion::default().configure_from_args();
    let interleaved = bench(&mut criterion);
    criterion.final_summary();
    report(since, &interleaved);
}
