//! The HTTP application: shared state, the router of every API surface, and `serve`.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use baton_engine::Engine;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::api;
use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Engine,
    pub metrics: Arc<Metrics>,
    /// Workflow templates from `workflows.dir`, beside the built-in ones.
    pub templates: Arc<Vec<crate::templates::FileTemplate>>,
    /// The plugins loaded at start, and those that failed.
    pub plugins: Arc<crate::plugins::Plugins>,
    /// Staff authentication, shared with the console.
    pub auth: baton_auth::AuthState,
    /// The staff stream's numbered recent events, for `Last-Event-ID`.
    pub journal: crate::journal::Journal,
    /// Outgoing webhooks: their settings and the dispatcher `serve` runs.
    pub webhooks: crate::webhooks::Dispatcher,
    /// The email channel's mailboxes: read by `serve`, shown by the channels API.
    pub email: baton_channel_email::Email,
    /// The abuse limits at the HTTP edge (`[limits]`).
    pub limits: Arc<crate::limits::Limits>,
}

/// Every route of the server. Tests call it in-process; `serve` puts it on a socket.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::ops::routes())
        .merge(api::settings::routes())
        .merge(api::people::routes())
        .merge(api::conversations::routes())
        .merge(api::events::routes())
        .merge(api::workflows::routes())
        .merge(api::plugins::routes())
        .merge(api::webhooks::routes())
        .merge(api::channels::routes())
        .with_state(state.clone())
        .merge(baton_channel_chat::router(state.engine.clone()))
        .merge(baton_channel_messaging::router(
            state.engine.clone(),
            state.plugins.channels(),
        ))
        .merge(baton_console::router(baton_console::Console {
            auth: state.auth.clone(),
            catalog: Arc::new(crate::catalog::HostCatalog {
                plugins: state.plugins.clone(),
                templates: state.templates.clone(),
                journal: state.journal.clone(),
                email: state.email.clone(),
            }),
        }))
        .fallback(api::ops::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.limits.clone(),
            crate::limits::enforce,
        ))
        .layer(DefaultBodyLimit::max(state.limits.config().max_body_bytes))
        .layer(TraceLayer::new_for_http())
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::spawn(state.webhooks.clone().run());
    state.email.spawn();
    // The server gives each request its peer's address for the rate limits.
    let limits = state.limits.clone();
    crate::server::run(listener, router(state), limits.config(), shutdown).await
}
