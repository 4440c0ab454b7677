//! A workflow definition and its validation against what exists.

use std::collections::{BTreeMap, HashSet};

use baton_core::ids::{TeamId, UserId};
use baton_core::settings::FieldError;
use serde::{Deserialize, Serialize};

use crate::condition::Condition;

/// Longest workflow name and longest message an action may send, in characters.
const MAX_NAME: usize = 200;
const MAX_MESSAGE: usize = 2_000;
/// Longest delay: thirty days.
const MAX_DELAY_SECONDS: u64 = 30 * 24 * 3_600;
/// How deep branches may nest.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    /// Only ticket-based workflows can be a handoff destination (F5).
    Ticket,
    Contact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enrollment {
    /// A ticket created by a customer-agent handoff.
    TicketCreatedByHandoff,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub name: String,
    pub object: ObjectType,
    pub enrollment: Enrollment,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Gives the ticket to the next eligible user of the list and/or the team, in turn
    /// (routing eligibility applies: paid seat, availability, capacity).
    RotateOwner {
        #[serde(default)]
        user_ids: Vec<UserId>,
        #[serde(default)]
        team_id: Option<TeamId>,
    },
    AssignTeam {
        team_id: TeamId,
    },
    SetProperty {
        name: String,
        value: String,
    },
    /// `low`, `medium`, `high` or `urgent`.
    SetPriority {
        priority: String,
    },
    /// Writes to the visitor.
    SendMessage {
        text: String,
    },
    /// Waits, durably: a restart resumes the run after the delay.
    Delay {
        seconds: u64,
    },
    /// The first arm whose condition holds runs; else `otherwise`.
    Branch {
        arms: Vec<Arm>,
        #[serde(default)]
        otherwise: Vec<Action>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub condition: Condition,
    pub actions: Vec<Action>,
}

/// What validation needs to know exists.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Users, and whether they have a paid seat.
    pub users: BTreeMap<UserId, bool>,
    pub teams: HashSet<TeamId>,
}

impl Definition {
    pub fn is_ticket_based(&self) -> bool {
        self.object == ObjectType::Ticket
    }

    /// Whether every owner rotation names someone: a template's placeholders do not,
    /// and such a workflow can be saved and edited but not used as a destination.
    pub fn is_complete(&self) -> bool {
        fn complete(actions: &[Action]) -> bool {
            actions.iter().all(|action| match action {
                Action::RotateOwner { user_ids, team_id } => {
                    !user_ids.is_empty() || team_id.is_some()
                }
                Action::Branch { arms, otherwise } => {
                    arms.iter().all(|arm| complete(&arm.actions)) && complete(otherwise)
                }
                _ => true,
            })
        }
        complete(&self.actions)
    }

    /// Checks values and references; errors name the field (`actions[1].arms[0]...`).
    pub fn validate(&self, directory: &Directory) -> Result<(), FieldError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(FieldError::new(
                "name",
                format!("between 1 and {MAX_NAME} characters"),
            ));
        }
        validate_actions(&self.actions, "actions", 0, directory)
    }
}

fn validate_actions(
    actions: &[Action],
    path: &str,
    depth: usize,
    directory: &Directory,
) -> Result<(), FieldError> {
    if depth > MAX_DEPTH {
        return Err(FieldError::new(
            path,
            format!("branches nest at most {MAX_DEPTH} deep"),
        ));
    }
    for (i, action) in actions.iter().enumerate() {
        let at = format!("{path}[{i}]");
        match action {
            Action::RotateOwner { user_ids, team_id } => {
                for (j, user) in user_ids.iter().enumerate() {
                    match directory.users.get(user) {
                        None => {
                            return Err(FieldError::new(
                                format!("{at}.user_ids[{j}]"),
                                format!("no user has id {user}"),
                            ));
                        }
                        Some(false) => {
                            return Err(FieldError::new(
                                format!("{at}.user_ids[{j}]"),
                                format!("user {user} has no paid seat and cannot own tickets"),
                            ));
                        }
                        Some(true) => {}
                    }
                }
                check_team(team_id.as_ref(), &format!("{at}.team_id"), directory)?;
            }
            Action::AssignTeam { team_id } => {
                check_team(Some(team_id), &format!("{at}.team_id"), directory)?;
            }
            Action::SetProperty { name, .. } => {
                if name.trim().is_empty() || name.len() > 100 {
                    return Err(FieldError::new(
                        format!("{at}.name"),
                        "between 1 and 100 bytes",
                    ));
                }
            }
            Action::SetPriority { priority } => {
                if !["low", "medium", "high", "urgent"].contains(&priority.as_str()) {
                    return Err(FieldError::new(
                        format!("{at}.priority"),
                        "one of low, medium, high, urgent",
                    ));
                }
            }
            Action::SendMessage { text } => {
                if text.trim().is_empty() || text.chars().count() > MAX_MESSAGE {
                    return Err(FieldError::new(
                        format!("{at}.text"),
                        format!("between 1 and {MAX_MESSAGE} characters"),
                    ));
                }
            }
            Action::Delay { seconds } => {
                if *seconds == 0 || *seconds > MAX_DELAY_SECONDS {
                    return Err(FieldError::new(
                        format!("{at}.seconds"),
                        format!("between 1 and {MAX_DELAY_SECONDS}"),
                    ));
                }
            }
            Action::Branch { arms, otherwise } => {
                if arms.is_empty() {
                    return Err(FieldError::new(
                        format!("{at}.arms"),
                        "a branch has at least one arm",
                    ));
                }
                for (j, arm) in arms.iter().enumerate() {
                    let arm_path = format!("{at}.arms[{j}].actions");
                    validate_actions(&arm.actions, &arm_path, depth + 1, directory)?;
                }
                validate_actions(otherwise, &format!("{at}.otherwise"), depth + 1, directory)?;
            }
        }
    }
    Ok(())
}

fn check_team(team: Option<&TeamId>, field: &str, directory: &Directory) -> Result<(), FieldError> {
    match team {
        Some(team) if !directory.teams.contains(team) => {
            Err(FieldError::new(field, format!("no team has id {team}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        Directory {
            users: BTreeMap::from([(UserId(1), true), (UserId(2), false)]),
            teams: HashSet::from([TeamId(1)]),
        }
    }

    fn with(actions: Vec<Action>) -> Definition {
        Definition {
            name: "Reassign".into(),
            object: ObjectType::Ticket,
            enrollment: Enrollment::TicketCreatedByHandoff,
            actions,
        }
    }

    fn check_err(actions: Vec<Action>, field: &str) {
        let err = with(actions).validate(&directory()).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }

    #[test]
    fn invalid_actions_name_their_field() {
        let rotate = |ids: &[i64]| Action::RotateOwner {
            user_ids: ids.iter().copied().map(UserId).collect(),
            team_id: None,
        };
        check_err(vec![rotate(&[1, 9])], "actions[0].user_ids[1]");
        check_err(vec![rotate(&[2])], "actions[0].user_ids[0]");
        check_err(
            vec![Action::AssignTeam { team_id: TeamId(5) }],
            "actions[0].team_id",
        );
        check_err(
            vec![
                Action::Delay { seconds: 60 },
                Action::SetPriority {
                    priority: "asap".into(),
                },
            ],
            "actions[1].priority",
        );
        check_err(
            vec![Action::Branch {
                arms: vec![Arm {
                    condition: Condition::WithinWorkingHours,
                    actions: vec![Action::SendMessage { text: " ".into() }],
                }],
                otherwise: vec![],
            }],
            "actions[0].arms[0].actions[0].text",
        );
        check_err(vec![Action::Delay { seconds: 0 }], "actions[0].seconds");
        assert!(with(vec![rotate(&[1])]).validate(&directory()).is_ok());
    }

    #[test]
    fn placeholders_make_a_workflow_incomplete() {
        let empty = Action::RotateOwner {
            user_ids: vec![],
            team_id: None,
        };
        let nested = Action::Branch {
            arms: vec![Arm {
                condition: Condition::WithinWorkingHours,
                actions: vec![empty.clone()],
            }],
            otherwise: vec![],
        };
        assert!(!with(vec![nested]).is_complete());
        assert!(
            with(vec![Action::RotateOwner {
                user_ids: vec![],
                team_id: Some(TeamId(1)),
            }])
            .is_complete()
        );
    }

    #[test]
    fn definitions_read_and_write_as_json() {
        let json = r#"{"name": "R", "object": "ticket", "enrollment": "ticket_created_by_handoff",
            "actions": [{"type": "branch", "arms": [{"condition": {"type": "source_channel", "equals": "chat"},
            "actions": [{"type": "rotate_owner", "user_ids": [1]}]}]}]}"#;
        let definition: Definition = serde_json::from_str(json).unwrap();
        assert!(definition.is_ticket_based() && definition.is_complete());
        let back: Definition =
            serde_json::from_str(&serde_json::to_string(&definition).unwrap()).unwrap();
        assert_eq!(back, definition);
        let unknown = r#"{"name": "R", "object": "ticket", "enrollment": "ticket_created_by_handoff",
            "actions": [{"type": "teleport"}]}"#;
        assert!(serde_json::from_str::<Definition>(unknown).is_err());
    }
}
