//! Opening the database: URL parsing, per-backend pool options, schema and migrations.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("database URL must start with sqlite:// or postgres://, got \"{0}\"")]
    UnsupportedUrl(String),
    #[error("schema name \"{0}\" must be letters, digits and underscores")]
    BadSchema(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migrations failed: {0}")]
    Migrate(String),
}

/// The sea-orm implementation of the engine's store port.
#[derive(Debug, Clone)]
pub struct SeaStore {
    pub(crate) db: DatabaseConnection,
}

impl SeaStore {
    /// Connects, creates the PostgreSQL `schema` if one is named, and runs migrations.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<SeaStore, ConnectError> {
        let db = if url.starts_with("sqlite:") {
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(1)
                .min_connections(1)
                .sqlx_logging(false)
                .idle_timeout(None::<Duration>)
                .max_lifetime(None::<Duration>)
                .map_sqlx_sqlite_opts(|o| {
                    o.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(10))
                        .create_if_missing(true)
                });
            Database::connect(options)
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            if let Some(schema) = schema {
                if schema.is_empty()
                    || !schema
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(ConnectError::BadSchema(schema.to_owned()));
                }
                let mut options = ConnectOptions::new(url);
                options.max_connections(1).sqlx_logging(false);
                let admin = Database::connect(options)
                    .await
                    .map_err(|e| ConnectError::Connect(e.to_string()))?;
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                    .await
                    .map_err(|e| ConnectError::Connect(e.to_string()))?;
                let _ = admin.close().await;
            }
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(16)
                .sqlx_logging(false)
                .acquire_timeout(Duration::from_secs(30));
            if let Some(schema) = schema {
                options.set_schema_search_path(schema);
            }
            Database::connect(options)
                .await
                .map_err(|e| ConnectError::Connect(e.to_string()))?
        } else {
            return Err(ConnectError::UnsupportedUrl(url.to_owned()));
        };
        Migrator::up(&db, None)
            .await
            .map_err(|e| ConnectError::Migrate(e.to_string()))?;
        crate::routing::ensure_cursor(&db)
            .await
            .map_err(|e| ConnectError::Migrate(e.to_string()))?;
        Ok(SeaStore { db })
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}
