//! `GET /api/v1/plugins`: the plugins this host loaded — kind, SDK and ABI versions,
//! health — and the entries that failed to load, with why.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use baton_http::{ApiError, ApiJson};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/plugins", get(list))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    pub plugins: Vec<PluginDto>,
    /// `[[plugins]]` entries that did not load; the host serves without them.
    pub failed: Vec<FailedPluginDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginDto {
    /// The entry's name (webhook path and trigger kind `plugin:<name>`).
    pub name: String,
    /// `channel` or `trigger_matcher`.
    pub kind: String,
    /// The plugin crate's own name.
    pub crate_name: String,
    pub sdk_version: String,
    pub abi_version: u32,
    pub path: String,
    /// `{"state": "healthy"|"disabled", "reason"?, "calls", "errors", "panics"}`.
    #[schema(value_type = Object)]
    pub health: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailedPluginDto {
    pub name: String,
    pub path: String,
    pub error: String,
}

#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins",
    responses((status = 200, body = PluginList)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<PluginList>, ApiError> {
    let plugins = state
        .plugins
        .loaded
        .iter()
        .map(|p| {
            Ok(PluginDto {
                name: p.name().to_owned(),
                kind: p.kind().as_str().to_owned(),
                crate_name: p.crate_name().to_owned(),
                sdk_version: p.sdk_version().to_owned(),
                abi_version: p.abi_version(),
                path: p.path().display().to_string(),
                health: serde_json::to_value(p.health())
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let failed = state
        .plugins
        .failed
        .iter()
        .map(|f| FailedPluginDto {
            name: f.name.clone(),
            path: f.path.clone(),
            error: f.error.clone(),
        })
        .collect();
    Ok(ApiJson(PluginList { plugins, failed }))
}
