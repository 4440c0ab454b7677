//! Handoff settings (F1–F8, F10), simulate (B5) and the agent switch (F2c).

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::IF_MATCH;
use axum::routing::{get, post};
use baton_core::decision::{Decision, Trigger};
use baton_core::ids::{InboxId, TeamId, UserId, WorkflowId};
use baton_core::people::{Permission, can_edit_settings};
use baton_core::settings::{
    DefaultTriggers, Destination, HandoffMessages, HandoffSettings, Process, Strategy,
    UnassignedChat,
};
use baton_engine::model::VersionedSettings;
use baton_http::{ApiError, ApiJson, MAX_TEXT_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::Staff;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/handoff/settings",
            get(get_settings).put(put_settings),
        )
        .route("/api/v1/handoff/simulate", post(simulate))
        .route("/api/v1/agent/state", get(get_agent).put(put_agent))
}

/// The handoff settings document, as `API.md` shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsDoc {
    /// Returned by GET; ignored on PUT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    pub default_triggers: DefaultTriggersDto,
    pub custom_triggers: Vec<String>,
    pub process: ProcessDto,
    /// Omitted or null when `process` is `none`.
    #[serde(default)]
    pub destination: Option<DestinationDto>,
    pub messages: MessagesDto,
    #[serde(default = "keep_open")]
    pub unassigned_chat: UnassignedChatDto,
    /// A live conversation whose assignee has not replied within this many seconds goes
    /// to the next eligible user; 0 never re-routes (default 300).
    #[serde(default = "reply_timeout")]
    pub live_reply_timeout_seconds: u32,
    /// The chat widget offers "chat with the assistant" or "talk to a person" before the
    /// first message (B16); a person is a handoff with trigger `visitor_choice` under the
    /// same process, destination and messages. Never offered with process `none`.
    /// Optional in PUT (default false).
    #[serde(default)]
    pub visitor_choice: bool,
}

fn reply_timeout() -> u32 {
    baton_core::settings::DEFAULT_REPLY_TIMEOUT_SECONDS
}

fn keep_open() -> UnassignedChatDto {
    UnassignedChatDto::KeepOpen
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultTriggersDto {
    pub cannot_answer: bool,
    pub asks_for_human: bool,
    pub agent_paused: bool,
    /// The visitor is plainly frustrated or repeating themselves (B17): hands off even
    /// when the agent has an answer. Optional in PUT (default true).
    #[serde(default = "frustrated_on")]
    #[schema(default = true)]
    pub frustrated: bool,
}

fn frustrated_on() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessDto {
    Live,
    Async,
    None,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    UsersAndTeams,
    Workflow,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestinationDto {
    pub kind: DestinationKind,
    /// An inbox or a help desk (`users_and_teams`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_ids: Option<Vec<i64>>,
    /// How the assignee is chosen (`users_and_teams`): `round_robin` (default) or
    /// `balanced` (fewest open conversations, then longest idle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyDto>,
    /// A ticket-based workflow (`workflow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StrategyDto {
    RoundRobin,
    Balanced,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagesDto {
    /// Not blank unless `process` is `none`.
    #[schema(max_length = 2000)]
    pub available: String,
    /// Not blank unless `process` is `none`.
    #[schema(max_length = 2000)]
    pub unavailable: String,
    #[schema(max_length = 2000)]
    pub unassigned_by_workflow: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedChatDto {
    KeepOpen,
    Close,
}

impl SettingsDoc {
    fn into_domain(self) -> Result<HandoffSettings, ApiError> {
        let destination = match self.destination {
            None => None,
            Some(d) => Some(match d.kind {
                DestinationKind::UsersAndTeams => Destination::UsersAndTeams {
                    inbox_id: InboxId(d.inbox_id.ok_or_else(|| {
                        ApiError::invalid(
                            "destination.inbox_id",
                            "a users_and_teams destination names an inbox or help desk",
                        )
                    })?),
                    user_ids: d
                        .user_ids
                        .unwrap_or_default()
                        .into_iter()
                        .map(UserId)
                        .collect(),
                    team_ids: d
                        .team_ids
                        .unwrap_or_default()
                        .into_iter()
                        .map(TeamId)
                        .collect(),
                    strategy: match d.strategy {
                        None | Some(StrategyDto::RoundRobin) => Strategy::RoundRobin,
                        Some(StrategyDto::Balanced) => Strategy::Balanced,
                    },
                },
                DestinationKind::Workflow => Destination::Workflow {
                    workflow_id: WorkflowId(d.workflow_id.ok_or_else(|| {
                        ApiError::invalid(
                            "destination.workflow_id",
                            "a workflow destination names a workflow",
                        )
                    })?),
                },
            }),
        };
        Ok(HandoffSettings {
            default_triggers: DefaultTriggers {
                cannot_answer: self.default_triggers.cannot_answer,
                asks_for_human: self.default_triggers.asks_for_human,
                agent_paused: self.default_triggers.agent_paused,
                frustrated: self.default_triggers.frustrated,
            },
            custom_triggers: self.custom_triggers,
            process: match self.process {
                ProcessDto::Live => Process::Live,
                ProcessDto::Async => Process::Async,
                ProcessDto::None => Process::None,
            },
            destination,
            messages: HandoffMessages {
                available: self.messages.available,
                unavailable: self.messages.unavailable,
                unassigned_by_workflow: self.messages.unassigned_by_workflow,
            },
            unassigned_chat: match self.unassigned_chat {
                UnassignedChatDto::KeepOpen => UnassignedChat::KeepOpen,
                UnassignedChatDto::Close => UnassignedChat::Close,
            },
            live_reply_timeout_seconds: self.live_reply_timeout_seconds,
            visitor_choice: self.visitor_choice,
        })
    }
}

impl From<VersionedSettings> for SettingsDoc {
    fn from(v: VersionedSettings) -> Self {
        let s = v.settings;
        SettingsDoc {
            version: Some(v.version),
            default_triggers: DefaultTriggersDto {
                cannot_answer: s.default_triggers.cannot_answer,
                asks_for_human: s.default_triggers.asks_for_human,
                agent_paused: s.default_triggers.agent_paused,
                frustrated: s.default_triggers.frustrated,
            },
            custom_triggers: s.custom_triggers,
            process: match s.process {
                Process::Live => ProcessDto::Live,
                Process::Async => ProcessDto::Async,
                Process::None => ProcessDto::None,
            },
            destination: s.destination.map(|d| match d {
                Destination::UsersAndTeams {
                    inbox_id,
                    user_ids,
                    team_ids,
                    strategy,
                } => DestinationDto {
                    kind: DestinationKind::UsersAndTeams,
                    inbox_id: Some(inbox_id.0),
                    user_ids: Some(user_ids.into_iter().map(|u| u.0).collect()),
                    team_ids: Some(team_ids.into_iter().map(|t| t.0).collect()),
                    strategy: Some(match strategy {
                        Strategy::RoundRobin => StrategyDto::RoundRobin,
                        Strategy::Balanced => StrategyDto::Balanced,
                    }),
                    workflow_id: None,
                },
                Destination::Workflow { workflow_id } => DestinationDto {
                    kind: DestinationKind::Workflow,
                    inbox_id: None,
                    user_ids: None,
                    team_ids: None,
                    strategy: None,
                    workflow_id: Some(workflow_id.0),
                },
            }),
            messages: MessagesDto {
                available: s.messages.available,
                unavailable: s.messages.unavailable,
                unassigned_by_workflow: s.messages.unassigned_by_workflow,
            },
            unassigned_chat: match s.unassigned_chat {
                UnassignedChat::KeepOpen => UnassignedChatDto::KeepOpen,
                UnassignedChat::Close => UnassignedChatDto::Close,
            },
            live_reply_timeout_seconds: s.live_reply_timeout_seconds,
            visitor_choice: s.visitor_choice,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/handoff/settings", tag = "handoff",
    responses((status = 200, body = SettingsDoc)), security(("bearer" = [])))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<SettingsDoc>, ApiError> {
    Ok(ApiJson(state.engine.settings().await?.into()))
}

/// `If-Match: "3"` (or `3`): store only over version 3; `*` or no header: always.
fn if_match_version(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default().trim();
    if value == "*" {
        return Ok(None);
    }
    value
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ApiError::invalid(
                "If-Match",
                "If-Match names the settings version the change is based on, e.g. \"3\"",
            )
        })
}

#[utoipa::path(put, path = "/api/v1/handoff/settings", tag = "handoff", request_body = SettingsDoc,
    params(("If-Match" = Option<String>, Header,
        description = "The version the change is based on; 409 when the stored one is another")),
    responses((status = 200, body = SettingsDoc), (status = 403, body = baton_http::ErrorBody),
        (status = 409, body = baton_http::ErrorBody), (status = 422, body = baton_http::ErrorBody,
        description = "A value out of its range, a blank handoff message while `process` is \
        not `none`, a destination missing or incomplete for its kind, or a reference that \
        does not hold: an inbox, team or workflow that does not exist, a routed user without \
        a paid seat, a workflow that is not ticket-based or not complete, a workflow \
        destination without a help desk")),
    security(("bearer" = [])))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    Staff(user): Staff,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SettingsDoc>,
) -> Result<ApiJson<SettingsDoc>, ApiError> {
    let expected_version = if_match_version(&headers)?;
    if !can_edit_settings(user.seat, &user.permissions) {
        return Err(ApiError::forbidden(
            "editing handoff settings needs the customer_agent_editor permission and a paid \
             (sales or service) seat",
        ));
    }
    let settings = body.into_domain()?;
    Ok(ApiJson(
        state
            .engine
            .put_settings(user.id, settings, expected_version)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    /// The channel the message would arrive on (settings are shared, so this only
    /// labels the explanation).
    #[serde(default = "chat")]
    pub channel: String,
    #[schema(pattern = r"\S")]
    pub text: String,
    /// Overrides the stored "agent paused" switch for this simulation.
    pub agent_paused: Option<bool>,
    /// Draft settings (the PUT document) to decide under instead of the stored ones;
    /// nothing is stored.
    #[serde(default)]
    pub settings: Option<SettingsDoc>,
}

fn chat() -> String {
    "chat".into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimulateResponse {
    pub handoff: bool,
    /// Null when there is no handoff.
    pub trigger: Option<TriggerDto>,
    /// The configured handoff process.
    pub process: ProcessDto,
    pub explanation: String,
    /// What the customer agent would answer, when it answers.
    pub reply: Option<String>,
    pub settings_version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerDto {
    /// `cannot_answer`, `asks_for_human`, `agent_paused`, `frustrated`, `custom`,
    /// `visitor_choice` or `plugin:<name>`.
    pub kind: String,
    pub matched: Option<String>,
    /// `[start, end)` in characters of the text.
    pub text_span: Option<[usize; 2]>,
}

fn char_span(text: &str, trigger: &Trigger) -> Option<[usize; 2]> {
    let span = trigger.span()?;
    let start = text.get(..span.start)?.chars().count();
    let len = text.get(span.clone())?.chars().count();
    Some([start, start + len])
}

#[utoipa::path(post, path = "/api/v1/handoff/simulate", tag = "handoff", request_body = SimulateRequest,
    responses((status = 200, body = SimulateResponse), (status = 422, body = baton_http::ErrorBody,
        description = "A blank text, or a draft destination without the inbox or workflow \
        its kind names")),
    security(("bearer" = [])))]
pub(crate) async fn simulate(
    State(state): State<AppState>,
    _staff: Staff,
    ApiJson(body): ApiJson<SimulateRequest>,
) -> Result<ApiJson<SimulateResponse>, ApiError> {
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(ApiError::TooLarge(
            Some("text".into()),
            format!("a message has at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    if body.text.trim().is_empty() {
        return Err(ApiError::invalid("text", "the message is empty"));
    }
    let simulation = match body.settings {
        None => {
            state
                .engine
                .simulate(&body.text, &body.channel, body.agent_paused)
                .await?
        }
        Some(draft) => {
            let draft = draft.into_domain().map_err(|e| e.under("settings"))?;
            state
                .engine
                .simulate_draft(&body.text, &body.channel, body.agent_paused, draft)
                .await?
        }
    };
    let process = match simulation.process {
        Process::Live => ProcessDto::Live,
        Process::Async => ProcessDto::Async,
        Process::None => ProcessDto::None,
    };
    let (trigger, reply) = match &simulation.decision {
        Decision::Handoff { trigger, .. } => (
            Some(TriggerDto {
                kind: trigger.kind(),
                matched: trigger.matched().map(str::to_owned),
                text_span: char_span(&body.text, trigger),
            }),
            None,
        ),
        Decision::Reply { text, .. } => (None, Some(text.clone())),
        Decision::Silent { .. } => (None, None),
    };
    Ok(ApiJson(SimulateResponse {
        handoff: trigger.is_some(),
        trigger,
        process,
        explanation: format!("[{}] {}", body.channel, simulation.decision.explanation()),
        reply,
        settings_version: simulation.settings_version,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentState {
    pub paused: bool,
}

#[utoipa::path(get, path = "/api/v1/agent/state", tag = "agent",
    responses((status = 200, body = AgentState)), security(("bearer" = [])))]
pub(crate) async fn get_agent(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<ApiJson<AgentState>, ApiError> {
    Ok(ApiJson(AgentState {
        paused: state.engine.agent_paused().await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/agent/state", tag = "agent", request_body = AgentState,
    responses((status = 200, body = AgentState), (status = 403, body = baton_http::ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn put_agent(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<AgentState>,
) -> Result<ApiJson<AgentState>, ApiError> {
    staff.require(Permission::CustomerAgentEditor)?;
    Ok(ApiJson(AgentState {
        paused: state
            .engine
            .set_agent_paused(staff.0.id, body.paused)
            .await?,
    }))
}
