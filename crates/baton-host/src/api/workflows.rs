//! Ticket-based workflows (F9): definitions from scratch or from a template; actions are
//! added, edited and removed by replacing the definition.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use baton_core::ids::WorkflowId;
use baton_core::people::Permission;
use baton_engine::model::Workflow;
use baton_http::{ApiError, ApiJson, ApiPath};
use baton_workflows::Definition;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/workflows", get(list).post(create))
        .route("/api/v1/workflows/templates", get(templates))
        .route("/api/v1/workflows/from-template", post(from_template))
        .route("/api/v1/workflows/{id}", get(get_one).put(update))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowDto {
    pub id: i64,
    pub name: String,
    /// `ticket` or `contact`; only ticket-based workflows can be a handoff destination.
    pub object: String,
    /// False while an owner rotation names nobody (a template's placeholders).
    pub complete: bool,
    /// The definition: name, object, enrollment and actions.
    #[schema(value_type = Object)]
    pub definition: Definition,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Workflow> for WorkflowDto {
    fn from(w: Workflow) -> Self {
        WorkflowDto {
            id: w.id.0,
            name: w.definition.name.clone(),
            object: if w.definition.is_ticket_based() {
                "ticket".into()
            } else {
                "contact".into()
            },
            complete: w.definition.is_complete(),
            definition: w.definition,
            created_at: w.created_at.to_rfc3339(),
            updated_at: w.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Workflows {
    pub workflows: Vec<WorkflowDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateDto {
    pub id: String,
    pub name: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub definition: Definition,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Templates {
    pub templates: Vec<TemplateDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromTemplate {
    /// A template id from `GET /api/v1/workflows/templates`.
    pub template: String,
}

#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows",
    responses((status = 200, body = Workflows)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<Workflows>, ApiError> {
    let workflows = state.engine.store().workflows().await?;
    Ok(ApiJson(Workflows {
        workflows: workflows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows",
    request_body(content = Object, description = "A workflow definition"),
    responses((status = 201, body = WorkflowDto), (status = 422, body = baton_http::ErrorBody,
        description = "A name blank once trimmed, a user or team that does not exist, an \
        owner without a paid seat, or a `set_property` name over 100 bytes")),
    security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(definition): ApiJson<Definition>,
) -> Result<(StatusCode, ApiJson<WorkflowDto>), ApiError> {
    staff.require(Permission::Admin)?;
    let workflow = state
        .engine
        .store()
        .create_workflow(definition, Utc::now())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(workflow.into())))
}

#[utoipa::path(get, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = i64, Path)),
    responses((status = 200, body = WorkflowDto), (status = 404, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    _staff: Staff,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<WorkflowDto>, ApiError> {
    let workflow = state.engine.store().workflow(WorkflowId(id)).await?;
    Ok(ApiJson(workflow.into()))
}

#[utoipa::path(put, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = i64, Path)),
    request_body(content = Object, description = "The whole new definition"),
    responses((status = 200, body = WorkflowDto), (status = 422, body = baton_http::ErrorBody,
        description = "A name blank once trimmed, a user or team that does not exist, an \
        owner without a paid seat, or a `set_property` name over 100 bytes")),
    security(("bearer" = [])))]
pub(crate) async fn update(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<i64>,
    ApiJson(definition): ApiJson<Definition>,
) -> Result<ApiJson<WorkflowDto>, ApiError> {
    staff.require(Permission::Admin)?;
    let workflow = state
        .engine
        .store()
        .update_workflow(WorkflowId(id), definition, Utc::now())
        .await?;
    Ok(ApiJson(workflow.into()))
}

#[utoipa::path(get, path = "/api/v1/workflows/templates", tag = "workflows",
    responses((status = 200, body = Templates)), security(("bearer" = [])))]
pub(crate) async fn templates(State(state): State<AppState>, _staff: Staff) -> ApiJson<Templates> {
    ApiJson(Templates {
        templates: crate::templates::catalogue(&state.templates)
            .into_iter()
            .map(|t| TemplateDto {
                id: t.id,
                name: t.name,
                description: t.description,
                definition: t.definition,
            })
            .collect(),
    })
}

/// A template's definition by id: built in, or shipped in `workflows.dir`.
fn find_template(state: &AppState, id: &str) -> Option<Definition> {
    crate::templates::catalogue(&state.templates)
        .into_iter()
        .find(|t| t.id == id)
        .map(|t| t.definition)
}

#[utoipa::path(post, path = "/api/v1/workflows/from-template", tag = "workflows",
    request_body = FromTemplate,
    responses((status = 201, body = WorkflowDto), (status = 422, body = baton_http::ErrorBody,
        description = "No template has this id (built-in ones and those of `workflows.dir`)")),
    security(("bearer" = [])))]
pub(crate) async fn from_template(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<FromTemplate>,
) -> Result<(StatusCode, ApiJson<WorkflowDto>), ApiError> {
    staff.require(Permission::Admin)?;
    let definition = find_template(&state, &body.template).ok_or_else(|| {
        ApiError::invalid(
            "template",
            format!(
                "no template \"{}\"; see GET /api/v1/workflows/templates",
                body.template
            ),
        )
    })?;
    let workflow = state
        .engine
        .store()
        .create_workflow(definition, Utc::now())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(workflow.into())))
}
