//! The database harness shared by the store's integration tests: a fresh SQLite file per
//! case, and a fresh PostgreSQL schema per case when `BATON_TEST_POSTGRES_URL` is set
//! (required with `BATON_REQUIRE_POSTGRES=1`). `on_both!` runs each named case on both.

use std::sync::atomic::{AtomicU32, Ordering};

use baton_store::SeaStore;
use chrono::Utc;

pub(crate) struct Db {
    pub(crate) store: SeaStore,
    pub(crate) _dir: Option<tempfile::TempDir>,
    pub(crate) schema: Option<String>,
}

/// Drops a test's PostgreSQL schema once the test passed (a failed test leaves it to look at).
pub(crate) struct Cleanup(pub(crate) SeaStore, pub(crate) Option<String>);

impl Cleanup {
    pub(crate) async fn run(self) {
        if let Some(schema) = self.1 {
            use sea_orm::ConnectionTrait;
            let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            self.0
                .connection()
                .execute_unprepared(&sql)
                .await
                .expect("drop schema");
        }
    }
}

pub(crate) async fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/baton.db?mode=rwc", dir.path().display());
    Db {
        store: SeaStore::connect(&url, None).await.expect("sqlite"),
        _dir: Some(dir),
        schema: None,
    }
}

/// A fresh schema named `{schema_prefix}_{pid}_{counter}_{micros}`, or `None` (test skipped)
/// without `BATON_TEST_POSTGRES_URL`.
pub(crate) async fn postgres(schema_prefix: &str) -> Option<Db> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Ok(url) = std::env::var("BATON_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("BATON_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "BATON_REQUIRE_POSTGRES=1 but BATON_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: BATON_TEST_POSTGRES_URL not set");
        return None;
    };
    let schema = format!(
        "{schema_prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        Utc::now().timestamp_micros()
    );
    Some(Db {
        store: SeaStore::connect(&url, Some(&schema))
            .await
            .expect("postgres"),
        _dir: None,
        schema: Some(schema),
    })
}

/// `on_both!("prefix"; case, ...)` makes `on_sqlite::case` and `on_postgres::case` tests
/// for each `async fn case(db: Db)` at the crate root; PostgreSQL schemas start with `prefix`.
#[macro_export]
macro_rules! on_both {
    ($prefix:literal; $($name:ident),* $(,)?) => {
        mod on_sqlite { $( #[tokio::test] async fn $name() { super::$name($crate::common::sqlite().await).await } )* }
        mod on_postgres { $( #[tokio::test] async fn $name() {
            if let Some(db) = $crate::common::postgres($prefix).await {
                let cleanup = $crate::common::Cleanup(db.store.clone(), db.schema.clone());
                super::$name(db).await;
                cleanup.run().await;
            }
        } )* }
    };
}
