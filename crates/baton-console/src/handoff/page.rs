//! The handoff settings page as the template sees it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::decision::Decision;
use baton_core::settings::FieldError;
use baton_engine::StoreResult;
use baton_engine::model::InboxKind;

use super::draft::Draft;
use crate::Console;
use crate::page::{Layout, Section, SignedIn, render};

pub(crate) struct UserOption {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) paid: bool,
    pub(crate) checked: bool,
}

pub(crate) struct TeamOption {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) checked: bool,
}

pub(crate) struct InboxOption {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) selected: bool,
}

pub(crate) struct WorkflowOption {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) selected: bool,
    /// Why it cannot be chosen, when it cannot.
    pub(crate) unavailable: Option<&'static str>,
}

/// "Try a message": the decision, with the matched span marked in the text.
pub(crate) struct TryResult {
    pub(crate) text: String,
    pub(crate) handoff: bool,
    pub(crate) headline: String,
    pub(crate) trigger: Option<String>,
    pub(crate) before: String,
    pub(crate) matched: String,
    pub(crate) after: String,
    pub(crate) explanation: String,
    pub(crate) error: Option<String>,
}

impl TryResult {
    pub(crate) fn error(text: &str, message: &str) -> Self {
        TryResult {
            text: text.to_owned(),
            handoff: false,
            headline: String::new(),
            trigger: None,
            before: String::new(),
            matched: String::new(),
            after: String::new(),
            explanation: String::new(),
            error: Some(message.to_owned()),
        }
    }

    pub(crate) fn from_decision(text: &str, decision: &Decision) -> Self {
        let mut result = TryResult::error(text, "");
        result.error = None;
        result.explanation = decision.explanation().to_owned();
        result.before = text.to_owned();
        match decision {
            Decision::Handoff { trigger, .. } => {
                result.handoff = true;
                result.headline = "Hands off to a human".into();
                result.trigger = Some(trigger.kind());
                if let Some(span) = trigger.span()
                    && let (Some(before), Some(matched), Some(after)) = (
                        text.get(..span.start),
                        text.get(span.clone()),
                        text.get(span.end..),
                    )
                {
                    result.before = before.to_owned();
                    result.matched = matched.to_owned();
                    result.after = after.to_owned();
                }
            }
            Decision::Reply { .. } => result.headline = "The customer agent answers".into(),
            Decision::Silent { .. } => result.headline = "Nobody answers".into(),
        }
        result
    }
}

#[derive(Template)]
#[template(path = "handoff.html")]
pub(crate) struct HandoffPage {
    pub(crate) layout: Layout,
    pub(crate) draft: Draft,
    pub(crate) editable: bool,
    pub(crate) readonly_reason: Option<&'static str>,
    pub(crate) users: Vec<UserOption>,
    pub(crate) teams: Vec<TeamOption>,
    pub(crate) inboxes: Vec<InboxOption>,
    pub(crate) help_desks: Vec<InboxOption>,
    pub(crate) workflows: Vec<WorkflowOption>,
    pub(crate) panel_open: bool,
    pub(crate) error: Option<FieldError>,
    /// Someone saved meanwhile; the stored version is now this.
    pub(crate) conflict: Option<i64>,
    pub(crate) try_result: Option<TryResult>,
}

impl HandoffPage {
    pub(crate) async fn build(
        console: &Console,
        who: &SignedIn,
        draft: Draft,
        flash: Option<String>,
    ) -> StoreResult<Self> {
        let store = console.engine().store();
        let users = store.users().await?;
        let teams = store.teams().await?;
        let inboxes = store.inboxes().await?;
        let workflows = store.workflows().await?;
        let editable = who.can_edit_settings();
        let readonly_reason = if editable {
            None
        } else if !who.user.seat.is_paid() {
            Some(
                "You see these settings read-only: editing them needs a paid (sales or service) seat.",
            )
        } else {
            Some(
                "You see these settings read-only: editing them needs the customer agent editor permission.",
            )
        };
        let inbox = |i: &baton_engine::model::Inbox| InboxOption {
            id: i.id.0,
            name: i.name.clone(),
            selected: draft.inbox_id == Some(i.id.0),
        };
        Ok(HandoffPage {
            layout: Layout::new("Human handoff", Section::Handoff, who).with_flash(flash),
            users: users
                .iter()
                .map(|u| UserOption {
                    id: u.id.0,
                    name: u.name.clone(),
                    paid: u.seat.is_paid(),
                    checked: draft.user_ids.contains(&u.id.0),
                })
                .collect(),
            teams: teams
                .iter()
                .map(|t| TeamOption {
                    id: t.id.0,
                    name: t.name.clone(),
                    checked: draft.team_ids.contains(&t.id.0),
                })
                .collect(),
            inboxes: inboxes
                .iter()
                .filter(|i| i.kind == InboxKind::Inbox)
                .map(inbox)
                .collect(),
            help_desks: inboxes
                .iter()
                .filter(|i| i.kind == InboxKind::HelpDesk)
                .map(inbox)
                .collect(),
            workflows: workflows
                .iter()
                .map(|w| WorkflowOption {
                    id: w.id.0,
                    name: w.definition.name.clone(),
                    selected: draft.workflow_id == Some(w.id.0),
                    unavailable: if !w.definition.is_ticket_based() {
                        Some("not ticket-based")
                    } else if !w.definition.is_complete() {
                        Some("incomplete: owner rotations name nobody yet")
                    } else {
                        None
                    },
                })
                .collect(),
            draft,
            editable,
            readonly_reason,
            panel_open: false,
            error: None,
            conflict: None,
            try_result: None,
        })
    }

    pub(crate) fn respond(&self, status: StatusCode) -> Response {
        render(status, self)
    }

    /// The error message for the field `key` names: itself, an element of it
    /// (`key[2]`) or a part of it (`key.x`).
    pub(crate) fn error_for(&self, key: &str) -> Option<&str> {
        let error = self.error.as_ref()?;
        let field = error.field.as_str();
        let hit = field == key
            || field
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'));
        hit.then_some(error.message.as_str())
    }

    /// The users-and-teams group's error: no one named, or a user or team refused.
    pub(crate) fn assignees_error(&self) -> Option<&str> {
        self.error_for("destination.user_ids")
            .or_else(|| self.error_for("destination.team_ids"))
            .or_else(|| {
                self.error
                    .as_ref()
                    .filter(|e| e.field == "destination")
                    .map(|e| e.message.as_str())
            })
    }

    pub(crate) fn trigger_error(&self, index: &usize) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.field == format!("custom_triggers[{index}]"))
            .map(|e| e.message.as_str())
    }

    pub(crate) fn has_help_desk(&self) -> bool {
        !self.help_desks.is_empty()
    }

    pub(crate) fn shown(&self, rule: &str) -> bool {
        // Mirrors console.js's `data-show-when`, so the first render is right without
        // the script: `name=v1,v2;other=v3`.
        rule.split(';').all(|clause| {
            let Some((name, values)) = clause.split_once('=') else {
                return true;
            };
            let value = match name {
                "process" => self.draft.process.as_str(),
                "destination_kind" => self.draft.destination_kind.as_str(),
                _ => "",
            };
            values.split(',').any(|v| v == value)
        })
    }
}
