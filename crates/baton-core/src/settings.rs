//! The one handoff configuration shared by every channel (F1–F8), and its validation.
//!
//! Validation is pure: references (users, teams, inboxes) are checked against a
//! [`Directory`] snapshot the caller reads from the store in the same transaction as the
//! write, so a settings document is never stored pointing at something missing.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ids::{InboxId, TeamId, UserId, WorkflowId};

/// Longest custom phrase, in characters.
pub const MAX_PHRASE_CHARS: usize = 200;
/// Most custom phrases in one settings document.
pub const MAX_PHRASES: usize = 20_000;
/// Longest handoff message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffSettings {
    pub default_triggers: DefaultTriggers,
    pub custom_triggers: Vec<String>,
    pub process: Process,
    pub destination: Option<Destination>,
    pub messages: HandoffMessages,
    pub unassigned_chat: UnassignedChat,
    /// A live conversation whose assignee has not replied within this many seconds goes
    /// to the next eligible user (B7); 0 never re-routes.
    #[serde(default = "default_reply_timeout")]
    pub live_reply_timeout_seconds: u32,
    /// The chat widget offers "chat with the assistant" or "talk to a person" before the
    /// first message (B16); a person is a handoff with trigger `visitor_choice` under
    /// this same process, destination and messages. Never offered with process `none`.
    /// Documents stored before the field existed read as `false`.
    #[serde(default)]
    pub visitor_choice: bool,
}

/// Five minutes: long enough to read a summary, short enough that a visitor who was told
/// "connecting you now" is not left waiting on someone who stepped away.
pub const DEFAULT_REPLY_TIMEOUT_SECONDS: u32 = 300;
/// A day: beyond that a live handoff is not live any more.
pub const MAX_REPLY_TIMEOUT_SECONDS: u32 = 86_400;

fn default_reply_timeout() -> u32 {
    DEFAULT_REPLY_TIMEOUT_SECONDS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultTriggers {
    pub cannot_answer: bool,
    pub asks_for_human: bool,
    pub agent_paused: bool,
    /// The visitor is plainly frustrated or repeating themselves (B17): hands off even
    /// when the agent has an answer. Documents stored before the field existed read as
    /// `true`, like a new installation: it is one of the default triggers.
    #[serde(default = "on")]
    pub frustrated: bool,
}

fn on() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Process {
    Live,
    Async,
    None,
}

impl Process {
    pub fn as_str(self) -> &'static str {
        match self {
            Process::Live => "live",
            Process::Async => "async",
            Process::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Destination {
    UsersAndTeams {
        inbox_id: InboxId,
        user_ids: Vec<UserId>,
        team_ids: Vec<TeamId>,
        /// How the assignee is chosen among the eligible users (B7).
        #[serde(default)]
        strategy: Strategy,
    },
    Workflow {
        workflow_id: WorkflowId,
    },
}

/// How an assignee is chosen among the eligible users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// In turn, by user id, after the last user assigned (a persisted cursor).
    #[default]
    RoundRobin,
    /// The fewest open conversations; ties go to whoever waited longest since their
    /// last assignment.
    Balanced,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::RoundRobin => "round_robin",
            Strategy::Balanced => "balanced",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffMessages {
    pub available: String,
    pub unavailable: String,
    pub unassigned_by_workflow: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedChat {
    KeepOpen,
    Close,
}

impl Default for HandoffSettings {
    /// What a new installation starts with: every default trigger on, live handoff to
    /// whoever is routed once an admin names a destination.
    fn default() -> Self {
        HandoffSettings {
            default_triggers: DefaultTriggers {
                cannot_answer: true,
                asks_for_human: true,
                agent_paused: true,
                frustrated: true,
            },
            custom_triggers: Vec::new(),
            process: Process::None,
            destination: None,
            messages: HandoffMessages {
                available: "Thanks for your patience — I'm connecting you with a member of our \
                            team now."
                    .into(),
                unavailable: "Our team isn't available right now. We've passed your \
                              conversation on and someone will follow up with you soon."
                    .into(),
                unassigned_by_workflow: "Thanks — your request has been logged and our team \
                                         will pick it up shortly."
                    .into(),
            },
            unassigned_chat: UnassignedChat::KeepOpen,
            live_reply_timeout_seconds: DEFAULT_REPLY_TIMEOUT_SECONDS,
            visitor_choice: false,
        }
    }
}

/// A user as routing and validation see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryUser {
    pub paid_seat: bool,
}

/// A workflow as validation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryWorkflow {
    pub ticket_based: bool,
    /// Every owner rotation names someone (templates start with placeholders).
    pub complete: bool,
}

/// The facts validation needs about what exists.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub users: HashMap<UserId, DirectoryUser>,
    pub teams: HashSet<TeamId>,
    pub inboxes: HashSet<InboxId>,
    pub workflows: HashMap<WorkflowId, DirectoryWorkflow>,
    /// Whether a help desk exists: workflow handoffs make help-desk tickets.
    pub has_help_desk: bool,
}

/// One invalid value, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The custom triggers as a person edits them in a form: every box holds a phrase, and
/// no phrase is there twice (case-insensitively, after trimming). The API is lenient —
/// `validate` drops blanks and repeats — but a form names the box instead.
pub fn check_trigger_list(phrases: &[String]) -> Result<(), FieldError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, phrase) in phrases.iter().enumerate() {
        let key = phrase.trim().to_lowercase();
        if key.is_empty() {
            return Err(FieldError::new(
                format!("custom_triggers[{i}]"),
                "write a word or phrase, or delete this trigger",
            ));
        }
        if let Some(first) = seen.insert(key, i) {
            return Err(FieldError::new(
                format!("custom_triggers[{i}]"),
                format!("\"{}\" is already trigger {}", phrase.trim(), first + 1),
            ));
        }
    }
    Ok(())
}

impl HandoffSettings {
    /// Checks values and references and returns the settings in canonical form: phrases
    /// trimmed, blank and repeated phrases dropped, the destination dropped when the
    /// process is `none`.
    pub fn validate(mut self, directory: &Directory) -> Result<HandoffSettings, FieldError> {
        let mut seen = HashSet::new();
        let mut phrases = Vec::with_capacity(self.custom_triggers.len());
        for (i, phrase) in self.custom_triggers.iter().enumerate() {
            let phrase = phrase.trim();
            if phrase.chars().count() > MAX_PHRASE_CHARS {
                return Err(FieldError::new(
                    format!("custom_triggers[{i}]"),
                    format!("a trigger phrase has at most {MAX_PHRASE_CHARS} characters"),
                ));
            }
            if !phrase.is_empty() && seen.insert(phrase.to_lowercase()) {
                phrases.push(phrase.to_owned());
            }
        }
        if phrases.len() > MAX_PHRASES {
            return Err(FieldError::new(
                "custom_triggers",
                format!("at most {MAX_PHRASES} trigger phrases"),
            ));
        }
        self.custom_triggers = phrases;
        if self.live_reply_timeout_seconds != 0
            && !(30..=MAX_REPLY_TIMEOUT_SECONDS).contains(&self.live_reply_timeout_seconds)
        {
            return Err(FieldError::new(
                "live_reply_timeout_seconds",
                format!("0 (never re-route) or between 30 and {MAX_REPLY_TIMEOUT_SECONDS}"),
            ));
        }

        for (name, text) in [
            ("available", &self.messages.available),
            ("unavailable", &self.messages.unavailable),
            (
                "unassigned_by_workflow",
                &self.messages.unassigned_by_workflow,
            ),
        ] {
            if text.chars().count() > MAX_MESSAGE_CHARS {
                return Err(FieldError::new(
                    format!("messages.{name}"),
                    format!("a handoff message has at most {MAX_MESSAGE_CHARS} characters"),
                ));
            }
        }
        if self.process != Process::None && self.messages.available.trim().is_empty() {
            return Err(FieldError::new(
                "messages.available",
                "the visitor must be told something when the team is available",
            ));
        }
        if self.process != Process::None && self.messages.unavailable.trim().is_empty() {
            return Err(FieldError::new(
                "messages.unavailable",
                "the visitor must be told something when the team is unavailable",
            ));
        }

        match (self.process, &self.destination) {
            (Process::None, _) => self.destination = None,
            (_, None) => {
                return Err(FieldError::new(
                    "destination",
                    format!(
                        "process \"{}\" needs a destination for the conversations",
                        self.process.as_str()
                    ),
                ));
            }
            (_, Some(destination)) => validate_destination(destination, directory)?,
        }
        Ok(self)
    }
}

fn validate_destination(
    destination: &Destination,
    directory: &Directory,
) -> Result<(), FieldError> {
    match destination {
        Destination::Workflow { workflow_id } => {
            let field = "destination.workflow_id";
            match directory.workflows.get(workflow_id) {
                None => Err(FieldError::new(
                    field,
                    format!("no workflow has id {workflow_id}"),
                )),
                Some(w) if !w.ticket_based => Err(FieldError::new(
                    field,
                    "only ticket-based workflows can receive handoffs",
                )),
                Some(w) if !w.complete => Err(FieldError::new(
                    field,
                    "the workflow has owner rotations that name nobody yet",
                )),
                Some(_) if !directory.has_help_desk => Err(FieldError::new(
                    field,
                    "workflow handoffs make help-desk tickets: create a help desk first",
                )),
                Some(_) => Ok(()),
            }
        }
        Destination::UsersAndTeams {
            inbox_id,
            user_ids,
            team_ids,
            ..
        } => {
            if !directory.inboxes.contains(inbox_id) {
                return Err(FieldError::new(
                    "destination.inbox_id",
                    format!("no inbox or help desk has id {inbox_id}"),
                ));
            }
            if user_ids.is_empty() && team_ids.is_empty() {
                return Err(FieldError::new(
                    "destination",
                    "name at least one user or team to assign conversations to",
                ));
            }
            for (i, user) in user_ids.iter().enumerate() {
                match directory.users.get(user) {
                    None => {
                        return Err(FieldError::new(
                            format!("destination.user_ids[{i}]"),
                            format!("no user has id {user}"),
                        ));
                    }
                    Some(u) if !u.paid_seat => {
                        return Err(FieldError::new(
                            format!("destination.user_ids[{i}]"),
                            format!(
                                "user {user} has no paid seat: only users with a sales or \
                                 service seat can be in routing rules"
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            for (i, team) in team_ids.iter().enumerate() {
                if !directory.teams.contains(team) {
                    return Err(FieldError::new(
                        format!("destination.team_ids[{i}]"),
                        format!("no team has id {team}"),
                    ));
                }
            }
            Ok(())
        }
    }
}
