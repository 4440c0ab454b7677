//! The handoff settings as the form holds them: what was stored, or what the person
//! typed (kept when a save is refused), and the conversion to the domain document.

use baton_core::ids::{InboxId, TeamId, UserId, WorkflowId};
use baton_core::settings::{
    DefaultTriggers, Destination, FieldError, HandoffMessages, HandoffSettings, Process, Strategy,
    UnassignedChat,
};
use baton_engine::model::VersionedSettings;

use crate::form::Form;

#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) version: i64,
    pub(crate) cannot_answer: bool,
    pub(crate) asks_for_human: bool,
    pub(crate) agent_paused: bool,
    pub(crate) frustrated: bool,
    pub(crate) triggers: Vec<String>,
    /// `live`, `async` or `none`.
    pub(crate) process: String,
    /// `users_and_teams` or `workflow`.
    pub(crate) destination_kind: String,
    pub(crate) inbox_id: Option<i64>,
    pub(crate) user_ids: Vec<i64>,
    pub(crate) team_ids: Vec<i64>,
    /// `round_robin` or `balanced`.
    pub(crate) strategy: String,
    pub(crate) workflow_id: Option<i64>,
    pub(crate) available: String,
    pub(crate) unavailable: String,
    pub(crate) unassigned_by_workflow: String,
    /// `keep_open` or `close`.
    pub(crate) unassigned_chat: String,
    pub(crate) timeout: String,
    /// Offer "assistant or person" before the first message (B16).
    pub(crate) visitor_choice: bool,
}

impl Draft {
    pub(crate) fn stored(v: &VersionedSettings) -> Self {
        let s = &v.settings;
        let mut draft = Draft {
            version: v.version,
            cannot_answer: s.default_triggers.cannot_answer,
            asks_for_human: s.default_triggers.asks_for_human,
            agent_paused: s.default_triggers.agent_paused,
            frustrated: s.default_triggers.frustrated,
            triggers: s.custom_triggers.clone(),
            process: s.process.as_str().to_owned(),
            destination_kind: "users_and_teams".into(),
            inbox_id: None,
            user_ids: Vec::new(),
            team_ids: Vec::new(),
            strategy: Strategy::RoundRobin.as_str().into(),
            workflow_id: None,
            available: s.messages.available.clone(),
            unavailable: s.messages.unavailable.clone(),
            unassigned_by_workflow: s.messages.unassigned_by_workflow.clone(),
            unassigned_chat: match s.unassigned_chat {
                UnassignedChat::KeepOpen => "keep_open".into(),
                UnassignedChat::Close => "close".into(),
            },
            timeout: s.live_reply_timeout_seconds.to_string(),
            visitor_choice: s.visitor_choice,
        };
        match &s.destination {
            Some(Destination::UsersAndTeams {
                inbox_id,
                user_ids,
                team_ids,
                strategy,
            }) => {
                draft.inbox_id = Some(inbox_id.0);
                draft.user_ids = user_ids.iter().map(|u| u.0).collect();
                draft.team_ids = team_ids.iter().map(|t| t.0).collect();
                draft.strategy = strategy.as_str().into();
            }
            Some(Destination::Workflow { workflow_id }) => {
                draft.destination_kind = "workflow".into();
                draft.workflow_id = Some(workflow_id.0);
            }
            None => {}
        }
        draft
    }

    /// The main form over `stored`: what the form does not carry (the triggers, which
    /// the side panel saves, and boxes hidden for the chosen process) stays as stored.
    pub(crate) fn from_form(form: &Form, stored: &Draft) -> Self {
        let text = |name: &str, kept: &str| {
            if form.has(name) {
                form.get(name).to_owned()
            } else {
                kept.to_owned()
            }
        };
        let ids = |name: &str| {
            form.all(name)
                .iter()
                .filter_map(|v| v.trim().parse().ok())
                .collect()
        };
        Draft {
            version: form.get("version").parse().unwrap_or(stored.version),
            cannot_answer: form.has("cannot_answer"),
            asks_for_human: form.has("asks_for_human"),
            agent_paused: form.has("agent_paused"),
            frustrated: form.has("frustrated"),
            triggers: stored.triggers.clone(),
            process: text("process", &stored.process),
            destination_kind: text("destination_kind", &stored.destination_kind),
            inbox_id: if form.has("inbox_id") {
                form.get("inbox_id").trim().parse().ok()
            } else {
                stored.inbox_id
            },
            user_ids: ids("user_id"),
            team_ids: ids("team_id"),
            strategy: text("strategy", &stored.strategy),
            workflow_id: if form.has("workflow_id") {
                form.get("workflow_id").trim().parse().ok()
            } else {
                stored.workflow_id
            },
            available: text("available", &stored.available),
            unavailable: text("unavailable", &stored.unavailable),
            unassigned_by_workflow: text("unassigned_by_workflow", &stored.unassigned_by_workflow),
            unassigned_chat: text("unassigned_chat", &stored.unassigned_chat),
            timeout: text("live_reply_timeout_seconds", &stored.timeout),
            // The box is in the form only while the process hands off: keep the stored
            // value when it is not (a disabled checkbox sends nothing either way).
            visitor_choice: if form.has("visitor_choice_shown") {
                form.has("visitor_choice")
            } else {
                stored.visitor_choice
            },
        }
    }

    /// The document a save stores; values the form cannot express are named by field.
    /// References (who exists, who has a seat) are the store's to check.
    pub(crate) fn to_settings(&self) -> Result<HandoffSettings, FieldError> {
        let process = match self.process.as_str() {
            "live" => Process::Live,
            "async" => Process::Async,
            "none" => Process::None,
            _ => return Err(FieldError::new("process", "choose live, async or none")),
        };
        let destination = match (process, self.destination_kind.as_str()) {
            (Process::None, _) => None,
            (_, "workflow") => Some(Destination::Workflow {
                workflow_id: WorkflowId(self.workflow_id.ok_or_else(|| {
                    FieldError::new("destination.workflow_id", "choose a ticket-based workflow")
                })?),
            }),
            (_, "users_and_teams") => Some(Destination::UsersAndTeams {
                inbox_id: InboxId(self.inbox_id.ok_or_else(|| {
                    FieldError::new(
                        "destination.inbox_id",
                        "choose the inbox or help desk the conversation goes to",
                    )
                })?),
                user_ids: self.user_ids.iter().copied().map(UserId).collect(),
                team_ids: self.team_ids.iter().copied().map(TeamId).collect(),
                strategy: match self.strategy.as_str() {
                    "balanced" => Strategy::Balanced,
                    _ => Strategy::RoundRobin,
                },
            }),
            _ => {
                return Err(FieldError::new(
                    "destination",
                    "choose the same users or teams, or conditions",
                ));
            }
        };
        let live_reply_timeout_seconds = self.timeout.trim().parse::<u32>().map_err(|_| {
            FieldError::new(
                "live_reply_timeout_seconds",
                "a whole number of seconds (0 never re-routes)",
            )
        })?;
        Ok(HandoffSettings {
            default_triggers: DefaultTriggers {
                cannot_answer: self.cannot_answer,
                asks_for_human: self.asks_for_human,
                agent_paused: self.agent_paused,
                frustrated: self.frustrated,
            },
            custom_triggers: self.triggers.clone(),
            process,
            destination,
            messages: HandoffMessages {
                available: self.available.clone(),
                unavailable: self.unavailable.clone(),
                unassigned_by_workflow: self.unassigned_by_workflow.clone(),
            },
            unassigned_chat: if self.unassigned_chat == "close" {
                UnassignedChat::Close
            } else {
                UnassignedChat::KeepOpen
            },
            live_reply_timeout_seconds,
            visitor_choice: self.visitor_choice,
        })
    }
}
