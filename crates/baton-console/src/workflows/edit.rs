//! The editor's form turned back into a definition: the visible fields laid over the
//! definition the page was rendered from (carried as hidden JSON), then at most one
//! structural operation (remove, move, add an action, an arm or a condition).
//!
//! Nothing here decides what a valid workflow is: values are only parsed (a number is a
//! number); the definition's own validation, run by the store on save, says the rest.
//! Field names are the validation's paths (`actions[0].arms[1].actions[0].user_ids`), so
//! an error the store names lands next to the field that has that name.

use baton_core::ids::{TeamId, UserId};
use baton_core::settings::FieldError;
use baton_workflows::{Action, Arm, Condition, Definition, ObjectType};

use crate::form::Form;

/// The named values of a submitted form (the console's [`Form`]; a list in tests).
pub(crate) trait Fields {
    /// The first value of `name`, or "".
    fn get(&self, name: &str) -> &str;
    fn has(&self, name: &str) -> bool;
    /// Every value of `name`, in order.
    fn all(&self, name: &str) -> Vec<String>;
}

impl Fields for Form {
    fn get(&self, name: &str) -> &str {
        Form::get(self, name)
    }
    fn has(&self, name: &str) -> bool {
        Form::has(self, name)
    }
    fn all(&self, name: &str) -> Vec<String> {
        Form::all(self, name)
    }
}

/// What a button of the editor asks for (`op=<kind>:<path>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// Store the definition.
    Save,
    /// Show the form again with its values applied (after a condition type changed).
    Refresh,
    /// `remove:actions[1]`: the action at this path.
    Remove(String),
    Up(String),
    Down(String),
    /// `add:actions[0].otherwise`: a new action at the end of this list, of the type
    /// chosen in the select `new_type:<list>`.
    Add(String),
    /// `add_arm:actions[0]`: a new arm on this branch.
    AddArm(String),
    /// `remove_arm:actions[0].arms[1]`.
    RemoveArm(String),
    /// `add_condition:actions[0].arms[0].condition`: a new condition inside this
    /// all / any condition.
    AddCondition(String),
    /// `remove_condition:actions[0].arms[0].condition.conditions[1]`.
    RemoveCondition(String),
}

impl Op {
    pub(crate) fn parse(value: &str) -> Option<Op> {
        let (kind, path) = value.split_once(':').unwrap_or((value, ""));
        let path = path.to_owned();
        let needs_path = |op: fn(String) -> Op| (!path.is_empty()).then(|| op(path.clone()));
        match kind {
            "save" => Some(Op::Save),
            "refresh" => Some(Op::Refresh),
            "remove" => needs_path(Op::Remove),
            "up" => needs_path(Op::Up),
            "down" => needs_path(Op::Down),
            "add" => needs_path(Op::Add),
            "add_arm" => needs_path(Op::AddArm),
            "remove_arm" => needs_path(Op::RemoveArm),
            "add_condition" => needs_path(Op::AddCondition),
            "remove_condition" => needs_path(Op::RemoveCondition),
            _ => None,
        }
    }
}

/// The kinds of action, in the order the "Add action" select offers them.
pub(crate) const ACTION_KINDS: [(&str, &str); 7] = [
    ("rotate_owner", "Rotate the ticket owner"),
    ("assign_team", "Assign a team"),
    ("set_priority", "Set the priority"),
    ("set_property", "Set a ticket property"),
    ("send_message", "Send a message to the visitor"),
    ("delay", "Wait"),
    ("branch", "If / else branch"),
];

/// The kinds of condition, as the condition select offers them.
pub(crate) const CONDITION_KINDS: [(&str, &str); 7] = [
    ("source_channel", "Source channel is"),
    ("ticket_property", "Ticket property is"),
    ("text_contains", "Conversation text contains"),
    ("within_working_hours", "Within working hours"),
    ("all", "All of these hold"),
    ("any", "Any of these holds"),
    ("not", "This does not hold"),
];

pub(crate) fn action_kind(action: &Action) -> &'static str {
    match action {
        Action::RotateOwner { .. } => "rotate_owner",
        Action::AssignTeam { .. } => "assign_team",
        Action::SetProperty { .. } => "set_property",
        Action::SetPriority { .. } => "set_priority",
        Action::SendMessage { .. } => "send_message",
        Action::Delay { .. } => "delay",
        Action::Branch { .. } => "branch",
    }
}

pub(crate) fn condition_kind(condition: &Condition) -> &'static str {
    match condition {
        Condition::SourceChannel { .. } => "source_channel",
        Condition::TicketProperty { .. } => "ticket_property",
        Condition::TextContains { .. } => "text_contains",
        Condition::WithinWorkingHours => "within_working_hours",
        Condition::All { .. } => "all",
        Condition::Any { .. } => "any",
        Condition::Not { .. } => "not",
    }
}

/// A new action of `kind` with empty fields (a rotation naming nobody is the template's
/// placeholder); `team` is the team a new "assign a team" starts with.
pub(crate) fn new_action(kind: &str, team: Option<TeamId>) -> Option<Action> {
    Some(match kind {
        "rotate_owner" => Action::RotateOwner {
            user_ids: Vec::new(),
            team_id: None,
        },
        // No team yet: the select asks for one, and a save without it is refused.
        "assign_team" => Action::AssignTeam {
            team_id: team.unwrap_or(TeamId(0)),
        },
        "set_property" => Action::SetProperty {
            name: String::new(),
            value: String::new(),
        },
        "set_priority" => Action::SetPriority {
            priority: "high".into(),
        },
        "send_message" => Action::SendMessage {
            text: String::new(),
        },
        "delay" => Action::Delay { seconds: 3_600 },
        "branch" => Action::Branch {
            arms: vec![new_arm()],
            otherwise: Vec::new(),
        },
        _ => return None,
    })
}

fn new_arm() -> Arm {
    Arm {
        condition: Condition::SourceChannel {
            equals: "chat".into(),
        },
        actions: Vec::new(),
    }
}

fn new_condition(kind: &str) -> Option<Condition> {
    Some(match kind {
        "source_channel" => Condition::SourceChannel {
            equals: "chat".into(),
        },
        "ticket_property" => Condition::TicketProperty {
            name: String::new(),
            equals: String::new(),
        },
        "text_contains" => Condition::TextContains {
            text: String::new(),
        },
        "within_working_hours" => Condition::WithinWorkingHours,
        "all" => Condition::All {
            conditions: vec![Condition::WithinWorkingHours],
        },
        "any" => Condition::Any {
            conditions: vec![Condition::WithinWorkingHours],
        },
        "not" => Condition::Not {
            condition: Box::new(Condition::WithinWorkingHours),
        },
        _ => return None,
    })
}

/// The definition with the form's visible values applied.
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) definition: Definition,
    /// The first value that did not parse, named by its field.
    pub(crate) error: Option<FieldError>,
    /// A condition changed type: its new fields are to be filled in before a save.
    pub(crate) reshaped: bool,
}

/// Lays the form's fields over `definition`. A field the form does not carry keeps its
/// value (a checkbox group carries an empty hidden value so that "none checked" is
/// told apart from "not on the page").
pub(crate) fn read(mut definition: Definition, form: &dyn Fields) -> Read {
    let mut reader = Reader {
        form,
        error: None,
        reshaped: false,
    };
    if form.has("name") {
        definition.name = form.get("name").to_owned();
    }
    match form.get("object") {
        "" => {}
        "ticket" => definition.object = ObjectType::Ticket,
        "contact" => definition.object = ObjectType::Contact,
        _ => reader.fail("object", "ticket or contact"),
    }
    reader.actions(&mut definition.actions, "actions");
    Read {
        definition,
        error: reader.error,
        reshaped: reader.reshaped,
    }
}

struct Reader<'a> {
    form: &'a dyn Fields,
    error: Option<FieldError>,
    reshaped: bool,
}

impl Reader<'_> {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(FieldError::new(field, message));
        }
    }

    fn text(&self, field: &str) -> Option<String> {
        self.form
            .has(field)
            .then(|| self.form.get(field).to_owned())
    }

    fn actions(&mut self, actions: &mut [Action], path: &str) {
        for (i, action) in actions.iter_mut().enumerate() {
            self.action(action, &format!("{path}[{i}]"));
        }
    }

    fn team(&mut self, field: &str) -> Option<Option<TeamId>> {
        let value = self.text(field)?;
        if value.is_empty() {
            return Some(None);
        }
        match value.parse::<i64>() {
            Ok(id) => Some(Some(TeamId(id))),
            Err(_) => {
                self.fail(field, format!("\"{value}\" is not a team"));
                None
            }
        }
    }

    fn action(&mut self, action: &mut Action, at: &str) {
        match action {
            Action::RotateOwner { user_ids, team_id } => {
                let field = format!("{at}.user_ids");
                if self.form.has(&field) {
                    let mut ids = Vec::new();
                    for value in self.form.all(&field) {
                        if value.is_empty() {
                            continue;
                        }
                        match value.parse::<i64>() {
                            Ok(id) => ids.push(UserId(id)),
                            Err(_) => self.fail(&field, format!("\"{value}\" is not a user")),
                        }
                    }
                    *user_ids = ids;
                }
                if let Some(team) = self.team(&format!("{at}.team_id")) {
                    *team_id = team;
                }
            }
            Action::AssignTeam { team_id } => {
                let field = format!("{at}.team_id");
                match self.team(&field) {
                    Some(Some(team)) => *team_id = team,
                    Some(None) => self.fail(field, "choose a team"),
                    None => {}
                }
            }
            Action::SetProperty { name, value } => {
                if let Some(text) = self.text(&format!("{at}.name")) {
                    *name = text;
                }
                if let Some(text) = self.text(&format!("{at}.value")) {
                    *value = text;
                }
            }
            Action::SetPriority { priority } => {
                if let Some(text) = self.text(&format!("{at}.priority")) {
                    *priority = text;
                }
            }
            Action::SendMessage { text } => {
                if let Some(value) = self.text(&format!("{at}.text")) {
                    *text = value;
                }
            }
            Action::Delay { seconds } => {
                let field = format!("{at}.seconds");
                if let Some(value) = self.text(&field) {
                    match value.trim().parse::<u64>() {
                        Ok(n) => *seconds = n,
                        Err(_) => self.fail(
                            field,
                            format!("\"{value}\" is not a whole number of seconds"),
                        ),
                    }
                }
            }
            Action::Branch { arms, otherwise } => {
                for (j, arm) in arms.iter_mut().enumerate() {
                    self.condition(&mut arm.condition, &format!("{at}.arms[{j}].condition"));
                    self.actions(&mut arm.actions, &format!("{at}.arms[{j}].actions"));
                }
                self.actions(otherwise, &format!("{at}.otherwise"));
            }
        }
    }

    fn condition(&mut self, condition: &mut Condition, at: &str) {
        let type_field = format!("{at}.type");
        if let Some(kind) = self.text(&type_field)
            && kind != condition_kind(condition)
        {
            // All and any keep their conditions; any other change starts afresh.
            let replacement = match (kind.as_str(), &mut *condition) {
                ("all", Condition::Any { conditions }) => Some(Condition::All {
                    conditions: std::mem::take(conditions),
                }),
                ("any", Condition::All { conditions }) => Some(Condition::Any {
                    conditions: std::mem::take(conditions),
                }),
                _ => new_condition(&kind),
            };
            match replacement {
                Some(replacement) => {
                    *condition = replacement;
                    self.reshaped = true;
                }
                None => self.fail(type_field, format!("\"{kind}\" is not a kind of condition")),
            }
            return;
        }
        match condition {
            Condition::SourceChannel { equals } => {
                if let Some(value) = self.text(&format!("{at}.equals")) {
                    *equals = value;
                }
            }
            Condition::TicketProperty { name, equals } => {
                if let Some(value) = self.text(&format!("{at}.name")) {
                    *name = value;
                }
                if let Some(value) = self.text(&format!("{at}.equals")) {
                    *equals = value;
                }
            }
            Condition::TextContains { text } => {
                if let Some(value) = self.text(&format!("{at}.text")) {
                    *text = value;
                }
            }
            Condition::WithinWorkingHours => {}
            Condition::All { conditions } | Condition::Any { conditions } => {
                for (m, inner) in conditions.iter_mut().enumerate() {
                    self.condition(inner, &format!("{at}.conditions[{m}]"));
                }
            }
            Condition::Not { condition } => self.condition(condition, &format!("{at}.condition")),
        }
    }
}

/// Applies a structural operation; false when its target is not in the definition
/// (a stale page) or the new type is unknown. `team` is the team a new "assign a team"
/// action starts with.
pub(crate) fn apply(
    definition: &mut Definition,
    op: &Op,
    form: &dyn Fields,
    team: Option<TeamId>,
) -> bool {
    match op {
        Op::Save | Op::Refresh => true,
        _ => edit_list(&mut definition.actions, "actions", op, form, team),
    }
}

/// `Some(i)` when `target` is `{list}[i]`.
fn index_in(list: &str, target: &str) -> Option<usize> {
    target
        .strip_prefix(list)?
        .strip_prefix('[')?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn edit_list(
    list: &mut Vec<Action>,
    path: &str,
    op: &Op,
    form: &dyn Fields,
    team: Option<TeamId>,
) -> bool {
    match op {
        Op::Add(target) if target == path => {
            return match new_action(form.get(&format!("new_type:{path}")), team) {
                Some(action) => {
                    list.push(action);
                    true
                }
                None => false,
            };
        }
        Op::Remove(target) | Op::Up(target) | Op::Down(target) => {
            if let Some(i) = index_in(path, target).filter(|i| *i < list.len()) {
                match op {
                    Op::Remove(_) => {
                        list.remove(i);
                    }
                    Op::Up(_) if i > 0 => list.swap(i, i - 1),
                    Op::Down(_) if i + 1 < list.len() => list.swap(i, i + 1),
                    _ => {}
                }
                return true;
            }
        }
        _ => {}
    }
    for (i, action) in list.iter_mut().enumerate() {
        let at = format!("{path}[{i}]");
        let Action::Branch { arms, otherwise } = action else {
            continue;
        };
        match op {
            Op::AddArm(target) if *target == at => {
                arms.push(new_arm());
                return true;
            }
            Op::RemoveArm(target) => {
                if let Some(j) = index_in(&format!("{at}.arms"), target).filter(|j| *j < arms.len())
                {
                    arms.remove(j);
                    return true;
                }
            }
            _ => {}
        }
        for (j, arm) in arms.iter_mut().enumerate() {
            let arm_at = format!("{at}.arms[{j}]");
            if edit_condition(&mut arm.condition, &format!("{arm_at}.condition"), op)
                || edit_list(
                    &mut arm.actions,
                    &format!("{arm_at}.actions"),
                    op,
                    form,
                    team,
                )
            {
                return true;
            }
        }
        if edit_list(otherwise, &format!("{at}.otherwise"), op, form, team) {
            return true;
        }
    }
    false
}

fn edit_condition(condition: &mut Condition, at: &str, op: &Op) -> bool {
    match condition {
        Condition::All { conditions } | Condition::Any { conditions } => {
            let list = format!("{at}.conditions");
            match op {
                Op::AddCondition(target) if target == at => {
                    conditions.push(Condition::WithinWorkingHours);
                    return true;
                }
                Op::RemoveCondition(target) => {
                    if let Some(m) = index_in(&list, target).filter(|m| *m < conditions.len()) {
                        conditions.remove(m);
                        return true;
                    }
                }
                _ => {}
            }
            conditions
                .iter_mut()
                .enumerate()
                .any(|(m, inner)| edit_condition(inner, &format!("{list}[{m}]"), op))
        }
        Condition::Not { condition } => edit_condition(condition, &format!("{at}.condition"), op),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_workflows::{Enrollment, template};

    struct Pairs(Vec<(String, String)>);

    impl Fields for Pairs {
        fn get(&self, name: &str) -> &str {
            self.0
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, v)| v.as_str())
        }
        fn has(&self, name: &str) -> bool {
            self.0.iter().any(|(n, _)| n == name)
        }
        fn all(&self, name: &str) -> Vec<String> {
            self.0
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .collect()
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Pairs {
        Pairs(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn reassign() -> Definition {
        template("reassign_tickets_for_customer_agent_handoff").expect("shipped template")
    }

    #[test]
    fn ops_parse_with_their_path() {
        assert_eq!(Op::parse("save"), Some(Op::Save));
        assert_eq!(
            Op::parse("remove:actions[2]"),
            Some(Op::Remove("actions[2]".into()))
        );
        assert_eq!(Op::parse("remove"), None);
        assert_eq!(Op::parse("teleport:actions[0]"), None);
    }

    #[test]
    fn the_templates_placeholders_are_filled_from_checkboxes() {
        let read = read(
            reassign(),
            &form(&[
                ("name", "Reassign"),
                ("actions[0].arms[0].actions[0].user_ids", ""),
                ("actions[0].arms[0].actions[0].user_ids", "1"),
                ("actions[0].arms[1].actions[0].user_ids", ""),
                ("actions[0].arms[1].actions[0].team_id", "4"),
                ("actions[0].arms[2].actions[0].user_ids", ""),
                ("actions[0].arms[2].actions[0].user_ids", "1"),
                ("actions[0].arms[2].actions[0].user_ids", "2"),
                ("actions[0].otherwise[0].user_ids", ""),
                ("actions[0].otherwise[0].user_ids", "2"),
                ("actions[0].arms[0].condition.equals", "chat"),
            ]),
        );
        assert_eq!(read.error, None);
        assert!(read.definition.is_complete(), "{:?}", read.definition);
        assert_eq!(read.definition.name, "Reassign");
        let Action::Branch { arms, .. } = &read.definition.actions[0] else {
            panic!("a branch");
        };
        assert_eq!(
            arms[1].actions[0],
            Action::RotateOwner {
                user_ids: vec![],
                team_id: Some(TeamId(4))
            }
        );
    }

    #[test]
    fn a_value_that_does_not_parse_is_named() {
        let definition = Definition {
            name: "W".into(),
            object: ObjectType::Ticket,
            enrollment: Enrollment::TicketCreatedByHandoff,
            actions: vec![Action::Delay { seconds: 60 }],
        };
        let read = read(definition, &form(&[("actions[0].seconds", "soon")]));
        assert_eq!(
            read.error.map(|e| e.field),
            Some("actions[0].seconds".into())
        );
        assert_eq!(read.definition.actions[0], Action::Delay { seconds: 60 });
    }

    #[test]
    fn structural_ops_find_their_target_at_any_depth() {
        let mut d = reassign();
        let add = form(&[("new_type:actions[0].arms[1].actions", "send_message")]);
        assert!(apply(
            &mut d,
            &Op::Add("actions[0].arms[1].actions".into()),
            &add,
            None
        ));
        assert!(apply(
            &mut d,
            &Op::Up("actions[0].arms[1].actions[1]".into()),
            &add,
            None
        ));
        let Action::Branch { arms, .. } = &d.actions[0] else {
            panic!("a branch");
        };
        assert_eq!(
            arms[1].actions[0],
            Action::SendMessage {
                text: String::new()
            }
        );
        assert!(apply(
            &mut d,
            &Op::RemoveArm("actions[0].arms[2]".into()),
            &add,
            None
        ));
        assert!(apply(
            &mut d,
            &Op::Remove("actions[0].otherwise[0]".into()),
            &add,
            None
        ));
        let Action::Branch { arms, otherwise } = &d.actions[0] else {
            panic!("a branch");
        };
        assert_eq!((arms.len(), otherwise.len()), (2, 0));
        assert!(!apply(&mut d, &Op::Remove("actions[7]".into()), &add, None));
        let top = form(&[("new_type:actions", "delay")]);
        assert!(apply(&mut d, &Op::Add("actions".into()), &top, None));
        assert!(apply(&mut d, &Op::Up("actions[1]".into()), &top, None));
        assert_eq!(d.actions[0], Action::Delay { seconds: 3_600 });
    }

    #[test]
    fn conditions_change_type_and_nest() {
        let mut d = reassign();
        let at = "actions[0].arms[0].condition";
        let read = read(
            d.clone(),
            &form(&[("actions[0].arms[0].condition.type", "any")]),
        );
        assert!(read.reshaped);
        d = read.definition;
        assert!(apply(
            &mut d,
            &Op::AddCondition(at.into()),
            &form(&[]),
            None
        ));
        let Action::Branch { arms, .. } = &d.actions[0] else {
            panic!("a branch");
        };
        assert_eq!(
            arms[0].condition,
            Condition::Any {
                conditions: vec![Condition::WithinWorkingHours, Condition::WithinWorkingHours]
            }
        );
        assert!(apply(
            &mut d,
            &Op::RemoveCondition(format!("{at}.conditions[0]")),
            &form(&[]),
            None
        ));
    }
}
