//! The staff console (B9, B13): sign-in, set-password links, and the admin pages —
//! the handoff settings as the reference product lays them out, users, teams, inboxes
//! and help desks, workflows, the audit log, plugins and the agent switch.
//!
//! Pages are server-rendered from askama templates (checked at compile time) with a
//! stylesheet and one small script compiled into the binary; every form works as a
//! plain form post. Handlers call the engine exactly as the JSON API does: a page is a
//! view of the same use case.
//!
//! Invariants: no business rule lives here (validation errors come from core and the
//! store, and are shown next to the field they name); every response carries a strict
//! Content-Security-Policy (no inline script or style); a cookie-authenticated request
//! that changes state passed the origin check before it reaches a handler.

mod assets;
mod audit;
mod form;
mod handoff;
mod home;
mod inbox;
mod page;
mod pages;
mod people;
mod sign_in;
mod system;
mod webhooks;
mod workflows;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use baton_auth::AuthState;
use baton_core::ids::ConversationId;
use baton_engine::Engine;
use baton_workflows::Definition;

pub use page::not_found_page;
pub use pages::pages;

/// What the console shows that the host owns: plugins and workflow templates.
pub trait Catalog: Send + Sync + std::fmt::Debug {
    fn plugins(&self) -> PluginReport;
    /// Every template offered: id, name, definition.
    fn templates(&self) -> Vec<(String, Definition)>;
    /// The staff stream's current position (an SSE id), which live pages resume after;
    /// `None` makes them re-read once when the stream opens instead.
    fn stream_position(&self) -> Option<String> {
        None
    }
    /// The mails of an email conversation as they were received, oldest first: its
    /// messages hold only what the customer newly wrote, staff see the whole mail here.
    fn received_mails(&self, conversation: ConversationId) -> MailsFuture<'_> {
        let _ = conversation;
        Box::pin(std::future::ready(Vec::new()))
    }
}

/// What [`Catalog::received_mails`] answers.
pub type MailsFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Vec<ReceivedMail>> + Send + 'a>>;

/// One inbound mail as staff see it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub subject: String,
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// The whole text, quoted history and signature included.
    pub text: String,
    /// "name (type, size)" per attachment.
    pub attachments: Vec<String>,
}

/// The plugins of this host, as the plugins page lists them.
#[derive(Debug, Clone, Default)]
pub struct PluginReport {
    pub loaded: Vec<LoadedPlugin>,
    pub failed: Vec<FailedPlugin>,
}

#[derive(Debug, Clone)]
pub struct LoadedPlugin {
    pub name: String,
    pub kind: String,
    pub crate_name: String,
    pub sdk_version: String,
    pub state: String,
    pub reason: Option<String>,
    pub calls: u64,
    pub errors: u64,
    pub panics: u64,
}

#[derive(Debug, Clone)]
pub struct FailedPlugin {
    pub name: String,
    pub path: String,
    pub error: String,
}

/// The console's state.
#[derive(Debug, Clone)]
pub struct Console {
    pub auth: AuthState,
    pub catalog: Arc<dyn Catalog>,
}

impl Console {
    pub(crate) fn engine(&self) -> &Engine {
        &self.auth.engine
    }
}

impl FromRef<Console> for AuthState {
    fn from_ref(console: &Console) -> Self {
        console.auth.clone()
    }
}

/// Every page of the console, with its security headers.
pub fn router(console: Console) -> Router {
    Router::new()
        .merge(home::routes())
        .merge(inbox::routes())
        .merge(sign_in::routes())
        .merge(handoff::routes())
        .merge(people::routes())
        .merge(workflows::routes())
        .merge(audit::routes())
        .merge(system::routes())
        .merge(webhooks::routes())
        .merge(assets::routes())
        .layer(axum::middleware::from_fn(page::security_headers))
        .with_state(console)
}
