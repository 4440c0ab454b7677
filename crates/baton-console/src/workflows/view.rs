//! The editor's HTML: a definition rendered as nested lists of actions, each field named
//! by its validation path, every button named after the action it acts on. Branches nest,
//! so each list, action and condition is its own small template rendered from here.

use askama::Template;
use baton_core::settings::FieldError;
use baton_workflows::{Action, Condition};

use super::edit::{ACTION_KINDS, CONDITION_KINDS, action_kind, condition_kind};

/// A user an owner rotation may name.
#[derive(Debug, Clone)]
pub(crate) struct UserChoice {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) email: String,
    /// Only users with a paid seat can own tickets.
    pub(crate) paid: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TeamChoice {
    pub(crate) id: i64,
    pub(crate) name: String,
}

/// Priorities as the definition spells them, for the select.
const PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];

/// Where the one field error of a save was shown.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    /// The id of the element it belongs to.
    pub(crate) anchor: String,
    /// What the element is called ("Action 1, arm 2, action 1: users").
    pub(crate) name: String,
}

/// Renders the actions of a definition, placing the field error (if any) next to the
/// field it names.
pub(crate) struct Editor<'a> {
    pub(crate) users: &'a [UserChoice],
    pub(crate) teams: &'a [TeamChoice],
    pub(crate) error: Option<&'a FieldError>,
    pub(crate) shown: Option<Shown>,
}

/// An HTML id from a field path: `actions[0].user_ids` → `f-actions-0-user_ids`.
pub(crate) fn id_of(path: &str) -> String {
    let mut id = String::from("f-");
    for c in path.chars() {
        match c {
            '[' | '.' => id.push('-'),
            ']' => {}
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => id.push(c),
            _ => id.push('_'),
        }
    }
    id
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Editor<'_> {
    /// The error's message when it names exactly `field`.
    pub(crate) fn exact(&mut self, field: &str, anchor: &str, name: &str) -> Option<String> {
        let error = self.error?;
        (error.field == field).then(|| self.claim(error, anchor, name))
    }

    /// The error's message when it names `field` or one of its items (`field[2]`).
    fn group(&mut self, field: &str, anchor: &str, name: &str) -> Option<String> {
        let error = self.error?;
        let item = error
            .field
            .strip_prefix(field)
            .is_some_and(|rest| rest.starts_with('['));
        (error.field == field || item).then(|| self.claim(error, anchor, name))
    }

    fn claim(&mut self, error: &FieldError, anchor: &str, name: &str) -> String {
        if self.shown.is_none() {
            self.shown = Some(Shown {
                anchor: anchor.to_owned(),
                name: capitalized(name),
            });
        }
        capitalized(&error.message)
    }

    /// A list of actions with its "Add action" control. `owner` names the list's place
    /// for people ("" at the top, "action 1, arm 2" inside a branch).
    pub(crate) fn actions(
        &mut self,
        actions: &[Action],
        path: &str,
        owner: &str,
        depth: usize,
    ) -> askama::Result<String> {
        let id = id_of(path);
        let error = self.exact(path, &id, if owner.is_empty() { "actions" } else { owner });
        let mut items = Vec::with_capacity(actions.len());
        for (i, action) in actions.iter().enumerate() {
            let label = if owner.is_empty() {
                format!("action {}", i + 1)
            } else {
                format!("{owner}, action {}", i + 1)
            };
            items.push(self.action(
                action,
                &format!("{path}[{i}]"),
                &label,
                (i == 0, i + 1 == actions.len()),
                depth,
            )?);
        }
        ActionList {
            path: path.to_owned(),
            id,
            place: if owner.is_empty() {
                String::new()
            } else {
                format!(" to {owner}")
            },
            items,
            error,
            kinds: &ACTION_KINDS,
        }
        .render()
    }

    fn action(
        &mut self,
        action: &Action,
        path: &str,
        label: &str,
        (first, last): (bool, bool),
        depth: usize,
    ) -> askama::Result<String> {
        let id = id_of(path);
        let kind = action_kind(action);
        let kind_name = ACTION_KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(kind, |(_, name)| name);
        let mut item = ActionItem {
            path: path.to_owned(),
            id: id.clone(),
            label: label.to_owned(),
            heading: format!("{}: {kind_name}", capitalized(label)),
            level: (3 + depth).min(6),
            kind,
            first,
            last,
            users: Vec::new(),
            team: String::new(),
            team_known: true,
            teams: self.teams.to_vec(),
            name: String::new(),
            value: String::new(),
            priority: String::new(),
            priorities: &PRIORITIES,
            text: String::new(),
            seconds: String::new(),
            placeholder: false,
            arms: Vec::new(),
            otherwise: String::new(),
            error_users: None,
            error_team: None,
            error_name: None,
            error_value: None,
            error_priority: None,
            error_text: None,
            error_seconds: None,
            error_arms: None,
        };
        let field = |name: &str| format!("{path}.{name}");
        let anchor = |name: &str| format!("{id}-{name}");
        let named = |name: &str| format!("{label}: {name}");
        match action {
            Action::RotateOwner { user_ids, team_id } => {
                item.placeholder = user_ids.is_empty() && team_id.is_none();
                item.users = self
                    .users
                    .iter()
                    .map(|u| UserBox {
                        id: u.id,
                        input: format!("{id}-user-{}", u.id),
                        name: u.name.clone(),
                        email: u.email.clone(),
                        paid: u.paid,
                        checked: user_ids.iter().any(|c| c.0 == u.id),
                    })
                    .collect();
                // Named but unknown (deleted since): shown, so that a save says so.
                for missing in user_ids
                    .iter()
                    .filter(|c| !self.users.iter().any(|u| u.id == c.0))
                {
                    item.users.push(UserBox {
                        id: missing.0,
                        input: format!("{id}-user-{}", missing.0),
                        name: format!("User {missing}"),
                        email: "no such user".into(),
                        paid: false,
                        checked: true,
                    });
                }
                item.team = team_id.map(|t| t.0.to_string()).unwrap_or_default();
                item.team_known = team_id.is_none_or(|t| self.teams.iter().any(|c| c.id == t.0));
                item.error_users =
                    self.group(&field("user_ids"), &anchor("users"), &named("users"));
                item.error_team = self.exact(&field("team_id"), &anchor("team"), &named("team"));
            }
            Action::AssignTeam { team_id } => {
                item.team = team_id.0.to_string();
                item.team_known = self.teams.iter().any(|c| c.id == team_id.0);
                item.error_team = self.exact(&field("team_id"), &anchor("team"), &named("team"));
            }
            Action::SetProperty { name, value } => {
                item.name.clone_from(name);
                item.value.clone_from(value);
                item.error_name =
                    self.exact(&field("name"), &anchor("name"), &named("property name"));
                item.error_value =
                    self.exact(&field("value"), &anchor("value"), &named("property value"));
            }
            Action::SetPriority { priority } => {
                item.priority.clone_from(priority);
                item.error_priority =
                    self.exact(&field("priority"), &anchor("priority"), &named("priority"));
            }
            Action::SendMessage { text } => {
                item.text.clone_from(text);
                item.error_text = self.exact(&field("text"), &anchor("text"), &named("message"));
            }
            Action::Delay { seconds } => {
                item.seconds = seconds.to_string();
                item.error_seconds =
                    self.exact(&field("seconds"), &anchor("seconds"), &named("seconds"));
            }
            Action::Branch { arms, otherwise } => {
                item.error_arms = self.exact(&field("arms"), &anchor("arms"), &named("arms"));
                for (j, arm) in arms.iter().enumerate() {
                    let arm_path = format!("{path}.arms[{j}]");
                    let arm_label = format!("{label}, arm {}", j + 1);
                    let condition = self.condition(
                        &arm.condition,
                        &format!("{arm_path}.condition"),
                        &format!("condition of {arm_label}"),
                        false,
                    )?;
                    let actions = self.actions(
                        &arm.actions,
                        &format!("{arm_path}.actions"),
                        &arm_label,
                        depth + 1,
                    )?;
                    item.arms.push(ArmItem {
                        path: arm_path.clone(),
                        id: id_of(&arm_path),
                        heading: format!(
                            "{}: {}",
                            capitalized(&arm_label),
                            if j == 0 { "if" } else { "else if" }
                        ),
                        label: arm_label,
                        condition,
                        actions,
                    });
                }
                item.otherwise = self.actions(
                    otherwise,
                    &field("otherwise"),
                    &format!("{label}, otherwise"),
                    depth + 1,
                )?;
            }
        }
        item.render()
    }

    fn condition(
        &mut self,
        condition: &Condition,
        path: &str,
        label: &str,
        removable: bool,
    ) -> askama::Result<String> {
        let id = id_of(path);
        let mut item = ConditionItem {
            path: path.to_owned(),
            id: id.clone(),
            label: label.to_owned(),
            title: capitalized(label),
            kind: condition_kind(condition),
            kinds: &CONDITION_KINDS,
            removable,
            equals: String::new(),
            name: String::new(),
            text: String::new(),
            children: Vec::new(),
            child: String::new(),
            error: self.exact(&format!("{path}.type"), &format!("{id}-type"), label),
        };
        match condition {
            Condition::SourceChannel { equals } => item.equals.clone_from(equals),
            Condition::TicketProperty { name, equals } => {
                item.name.clone_from(name);
                item.equals.clone_from(equals);
            }
            Condition::TextContains { text } => item.text.clone_from(text),
            Condition::WithinWorkingHours => {}
            Condition::All { conditions } | Condition::Any { conditions } => {
                for (m, inner) in conditions.iter().enumerate() {
                    item.children.push(self.condition(
                        inner,
                        &format!("{path}.conditions[{m}]"),
                        &format!("{label}, part {}", m + 1),
                        true,
                    )?);
                }
            }
            Condition::Not { condition } => {
                item.child = self.condition(
                    condition,
                    &format!("{path}.condition"),
                    &format!("{label}, negated part"),
                    false,
                )?;
            }
        }
        item.render()
    }
}

#[derive(Template)]
#[template(path = "workflow_actions.html")]
struct ActionList {
    path: String,
    id: String,
    /// " to action 1, arm 2", or "" for the workflow's own list.
    place: String,
    items: Vec<String>,
    error: Option<String>,
    kinds: &'static [(&'static str, &'static str)],
}

#[derive(Debug)]
struct UserBox {
    id: i64,
    input: String,
    name: String,
    email: String,
    paid: bool,
    checked: bool,
}

#[derive(Debug)]
struct ArmItem {
    path: String,
    id: String,
    heading: String,
    label: String,
    condition: String,
    actions: String,
}

#[derive(Template)]
#[template(path = "workflow_action.html")]
struct ActionItem {
    path: String,
    id: String,
    label: String,
    heading: String,
    level: usize,
    kind: &'static str,
    first: bool,
    last: bool,
    users: Vec<UserBox>,
    /// The chosen team's id, or "".
    team: String,
    /// Whether the chosen team exists (else the select says so).
    team_known: bool,
    teams: Vec<TeamChoice>,
    name: String,
    value: String,
    priority: String,
    priorities: &'static [&'static str],
    text: String,
    seconds: String,
    /// An owner rotation naming nobody yet.
    placeholder: bool,
    arms: Vec<ArmItem>,
    otherwise: String,
    error_users: Option<String>,
    error_team: Option<String>,
    error_name: Option<String>,
    error_value: Option<String>,
    error_priority: Option<String>,
    error_text: Option<String>,
    error_seconds: Option<String>,
    error_arms: Option<String>,
}

#[derive(Template)]
#[template(path = "workflow_condition.html")]
struct ConditionItem {
    path: String,
    id: String,
    label: String,
    title: String,
    kind: &'static str,
    kinds: &'static [(&'static str, &'static str)],
    removable: bool,
    equals: String,
    name: String,
    text: String,
    children: Vec<String>,
    child: String,
    error: Option<String>,
}
