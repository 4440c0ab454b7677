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

use std::time::SystemTime;

use baton_engine::Store;
use baton_store::SeaStore;
use criterion::{BenchmarkId, Criterion};
use scale::{Backend, Interleaved, Subject, alternate, backends, drop_schema, measuring};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

mod scale;

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

/// A fresh store (a new SQLite file, or a new PostgreSQL schema) with `n` audit rows.
async fn fill(backend: &Backend, n: u64) -> Log {
    let (store, schema, dir) = scale::fresh(backend, "audit", n).await;
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

/// The query plan of each case's SQL (as sea-orm builds it), to stderr: the evidence that
/// a page is one index range.
async fn explain(log: &Log, label: &str) {
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
        scale::plan(log.store.connection(), label, case, &sql).await;
    }
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
                interleaved.push(alternate(format!("audit-{name}/{case}"), |which| {
                    let log = &logs[which].1;
                    runtime
                        .block_on(log.store.audit(PAGE, before.then_some(log.mid), kind))
                        .expect("audit");
                }));
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

fn main() {
    let since = SystemTime::now();
    let mut criterion = Criterion::default().configure_from_args();
    let interleaved = bench(&mut criterion);
    criterion.final_summary();
    let cases: Vec<&str> = CASES.iter().map(|(case, _, _)| *case).collect();
    let subject = Subject {
        prefix: "audit",
        what: "audit page",
        unit: "rows",
        sizes: SIZES,
        cases: &cases,
    };
    scale::report(&subject, since, &interleaved);
}
