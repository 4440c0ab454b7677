//! Start-up: open the store, create the owner on first start, load the knowledge base
//! and build the engine.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DbBackend;

use anyhow::Context;
use baton_agent::llm::LlmAnswerer;
use baton_agent::{KbError, KnowledgeBase};
use baton_engine::ports::Answerer;
use baton_engine::{Engine, EngineConfig};
use baton_http::{hash_token, new_token};
use baton_store::SeaStore;

use crate::app::AppState;
use crate::config::{AgentKind, Config};
use crate::metrics::Metrics;
use crate::plugins::Plugins;

/// How the owner's token reached the operator on this start.
#[derive(Debug)]
pub enum OwnerToken {
    /// Created now with a generated token, shown once.
    Generated(String),
    /// Created now with `BATON_BOOTSTRAP_TOKEN`.
    FromConfig,
    /// The database already had users.
    Existing,
}

pub async fn open_store(config: &Config) -> anyhow::Result<SeaStore> {
    if let Some(dir) = config.sqlite_dir() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    SeaStore::connect(&config.database.url, config.database.schema.as_deref())
        .await
        .context("opening the database")
}

/// Creates the owner on first start (an empty database), with `BATON_BOOTSTRAP_TOKEN` or
/// a generated token.
pub async fn bootstrap(store: &SeaStore, config: &Config) -> anyhow::Result<OwnerToken> {
    let (token, announced) = match &config.bootstrap_token {
        Some(token) => (token.clone(), OwnerToken::FromConfig),
        None => {
            let token = new_token();
            (token.clone(), OwnerToken::Generated(token))
        }
    };
    let owner = baton_engine::Store::bootstrap_owner(store, &hash_token(&token)).await?;
    Ok(if owner.is_some() {
        announced
    } else {
        OwnerToken::Existing
    })
}

/// How long the owner's first set-password link works.
const OWNER_LINK_HOURS: i64 = 24;

/// The owner's sign-in email and a fresh one-time link to set their password, while the
/// owner has none (the first start, or a later one before they used it; each start
/// replaces the previous link). `None` once the owner has a password.
pub async fn owner_password_link(
    store: &SeaStore,
    base_url: &str,
) -> anyhow::Result<Option<(String, String)>> {
    use baton_engine::Store;
    let owner = store
        .users()
        .await?
        .into_iter()
        .find(|u| u.has(baton_core::people::Permission::Admin));
    let Some(owner) = owner else {
        return Ok(None);
    };
    let credentials = store.user_credentials(&owner.email).await?;
    if credentials.is_some_and(|c| c.password_hash.is_some()) {
        return Ok(None);
    }
    let token = new_token();
    let now = chrono::Utc::now();
    store
        .create_password_link(
            owner.id,
            &hash_token(&token),
            now + chrono::Duration::hours(OWNER_LINK_HOURS),
            now,
        )
        .await?;
    Ok(Some((owner.email, format!("{base_url}/password/{token}"))))
}

/// Loads the knowledge base and wires the engine over `store`.
pub fn build(config: &Config, store: SeaStore) -> anyhow::Result<AppState> {
    let kb = match KnowledgeBase::load_dir(&config.kb.dir) {
        Ok(kb) => kb,
        // A first start outside the repository has no demo folder: run, and say so. A
        // folder the operator named and that is missing is a configuration error.
        Err(KbError::MissingDir { .. }) if config.kb.dir == Config::default().kb.dir => {
            tracing::warn!(
                dir = %config.kb.dir.display(),
                "no knowledge base folder: the agent cannot answer and every question \
                 hands off (set kb.dir)"
            );
            KnowledgeBase::from_articles(Vec::new())
        }
        Err(error) => {
            return Err(error).with_context(|| {
                format!(
                    "loading the knowledge base (kb.dir = {})",
                    config.kb.dir.display()
                )
            });
        }
    };
    tracing::info!(passages = kb.len(), dir = %config.kb.dir.display(), "knowledge base loaded");
    let answerer: Arc<dyn Answerer> = match config.agent.kind {
        AgentKind::Kb => Arc::new(kb),
        AgentKind::Llm => {
            let llm = LlmAnswerer::new(config.agent.llm.answerer(), Arc::new(kb))
                .context("building the LLM answerer (agent.llm)")?;
            // The config's Debug form: the API key stays out of the log.
            tracing::info!(config = ?llm.config(), "customer agent: OpenAI-compatible model");
            Arc::new(llm)
        }
    };
    let metrics = Arc::new(Metrics::new());
    // One SQLite host invalidates its own snapshot on every change; on PostgreSQL other
    // hosts' changes arrive through the relay, and the TTL only bounds a missed one.
    let snapshot_ttl = match store.backend() {
        DbBackend::Sqlite => Duration::from_secs(60),
        _ => Duration::from_secs(30),
    };
    let plugins = Plugins::load(&config.plugins);
    let client = baton_channel_messaging::http_client()
        .context("building the HTTP client for messaging channels")?;
    let email_config = Arc::new(config.email.clone());
    let email_trust = baton_channel_email::Trust::load(&email_config)?;
    let mut extensions = plugins.extensions(&client);
    if !email_config.mailboxes.is_empty() {
        let deliverer = baton_channel_email::EmailDeliverer::new(
            store.clone(),
            email_config.clone(),
            &email_trust,
        )?;
        extensions
            .deliverers
            .insert("email".into(), Arc::new(deliverer));
    }
    let email_store = store.clone();
    let engine = Engine::new(
        Arc::new(store),
        answerer,
        metrics.clone(),
        EngineConfig {
            snapshot_ttl,
            extensions,
            ..EngineConfig::default()
        },
    );
    let email =
        baton_channel_email::Email::new(engine.clone(), email_store, email_config, email_trust);
    let templates = crate::templates::load(&config.workflows.dir)?;
    tracing::info!(templates = templates.len(), dir = %config.workflows.dir.display(), "workflow templates loaded");
    let mut auth = baton_auth::AuthState::new(engine.clone());
    auth.sessions = config.auth.sessions();
    let journal = crate::journal::Journal::spawn(&engine);
    let webhooks = crate::webhooks::Dispatcher::new(engine.clone(), config.webhooks.clone())
        .context("building the HTTP client for webhooks")?;
    Ok(AppState {
        email,
        webhooks,
        journal,
        engine,
        metrics,
        templates: Arc::new(templates),
        plugins: Arc::new(plugins),
        auth,
        limits: Arc::new(crate::limits::Limits::new(config.limits.clone())),
    })
}
