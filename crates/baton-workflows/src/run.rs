//! Running a definition one step at a time, so that a runner can apply each step and
//! save where it stands in the same transaction: after a crash the run resumes at the
//! saved cursor and no action is applied twice.
//!
//! Branches are resolved here, against the facts at the moment the branch is reached;
//! delays come back as [`Step::Wait`]. A run keeps a snapshot of its definition, so
//! editing the workflow does not move cursors under running runs.

use serde::{Deserialize, Serialize};

use crate::condition::Facts;
use crate::definition::{Action, Definition};

/// Where a run stands: the index of the next action at each depth, with the arm taken
/// between depths (`[i0, arm1, i1, arm2, i2, …]`; the arm after the last is
/// `otherwise`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(Vec<usize>);

impl Cursor {
    /// The start of a run.
    pub fn start() -> Cursor {
        Cursor(vec![0])
    }
}

/// What the runner does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Apply this action (never a branch or a delay).
    Do(Action),
    /// Sleep this many seconds, durably, then continue.
    Wait { seconds: u64 },
    /// The run is over.
    Done,
}

/// The next step of `definition` from `cursor`, and the cursor to save with it.
pub fn next(definition: &Definition, cursor: &Cursor, facts: &Facts) -> (Step, Cursor) {
    let mut path = cursor.0.clone();
    if path.is_empty() {
        path.push(0);
    }
    loop {
        let Some(list) = actions_at(definition, &path) else {
            // A cursor that does not fit the definition cannot resume: end the run
            // rather than guess.
            return (Step::Done, Cursor(path));
        };
        let index = path[path.len() - 1];
        let Some(action) = list.get(index) else {
            if path.len() == 1 {
                return (Step::Done, Cursor(path));
            }
            // Out of an arm: continue after the branch.
            path.truncate(path.len() - 2);
            bump(&mut path);
            continue;
        };
        match action {
            Action::Branch { arms, .. } => {
                let arm = arms
                    .iter()
                    .position(|arm| arm.condition.holds(facts))
                    .unwrap_or(arms.len());
                path.push(arm);
                path.push(0);
            }
            Action::Delay { seconds } => {
                bump(&mut path);
                return (Step::Wait { seconds: *seconds }, Cursor(path));
            }
            other => {
                let step = Step::Do(other.clone());
                bump(&mut path);
                return (step, Cursor(path));
            }
        }
    }
}

fn bump(path: &mut [usize]) {
    if let Some(last) = path.last_mut() {
        *last += 1;
    }
}

/// The action list the last index of `path` points into.
fn actions_at<'a>(definition: &'a Definition, path: &[usize]) -> Option<&'a [Action]> {
    let mut list: &[Action] = &definition.actions;
    for pair in path[..path.len() - 1].chunks(2) {
        let [index, arm] = pair else { return None };
        let Action::Branch { arms, otherwise } = list.get(*index)? else {
            return None;
        };
        list = match arms.get(*arm) {
            Some(taken) => &taken.actions,
            None if *arm == arms.len() => otherwise,
            None => return None,
        };
    }
    Some(list)
}

#[cfg(test)]
mod tests {
    use baton_core::ids::UserId;

    use super::*;
    use crate::condition::Condition;
    use crate::definition::{Arm, Enrollment, ObjectType};

    fn say(text: &str) -> Action {
        Action::SendMessage { text: text.into() }
    }

    fn definition() -> Definition {
        Definition {
            name: "test".into(),
            object: ObjectType::Ticket,
            enrollment: Enrollment::TicketCreatedByHandoff,
            actions: vec![
                say("first"),
                Action::Branch {
                    arms: vec![
                        Arm {
                            condition: Condition::SourceChannel {
                                equals: "chat".into(),
                            },
                            actions: vec![
                                say("chat"),
                                Action::Delay { seconds: 60 },
                                Action::Branch {
                                    arms: vec![Arm {
                                        condition: Condition::WithinWorkingHours,
                                        actions: vec![say("chat, in hours")],
                                    }],
                                    otherwise: vec![say("chat, off hours")],
                                },
                            ],
                        },
                        Arm {
                            condition: Condition::SourceChannel {
                                equals: "email".into(),
                            },
                            actions: vec![],
                        },
                    ],
                    otherwise: vec![Action::RotateOwner {
                        user_ids: vec![UserId(1)],
                        team_id: None,
                    }],
                },
                say("last"),
            ],
        }
    }

    /// Runs to the end, resuming from the saved cursor after every step as a runner
    /// would after a crash.
    fn run(facts: &Facts) -> Vec<String> {
        let definition = definition();
        let mut cursor = Cursor::start();
        let mut trace = Vec::new();
        loop {
            let (step, saved) = next(&definition, &cursor, facts);
            trace.push(match step {
                Step::Do(Action::SendMessage { text }) => text,
                Step::Do(Action::RotateOwner { .. }) => "rotate".into(),
                Step::Do(other) => format!("{other:?}"),
                Step::Wait { seconds } => format!("wait {seconds}"),
                Step::Done => return trace,
            });
            // Persisted and read back: the cursor is all a resumed run has.
            cursor = serde_json_round_trip(&saved);
        }
    }

    fn serde_json_round_trip(cursor: &Cursor) -> Cursor {
        serde_json::from_str(&serde_json::to_string(cursor).unwrap()).unwrap()
    }

    fn facts(channel: &str, in_hours: bool) -> Facts {
        Facts {
            source_channel: channel.into(),
            within_working_hours: in_hours,
            ..Facts::default()
        }
    }

    #[test]
    fn branches_choose_by_the_facts_and_rejoin() {
        assert_eq!(
            run(&facts("chat", true)),
            ["first", "chat", "wait 60", "chat, in hours", "last"]
        );
        assert_eq!(
            run(&facts("chat", false)),
            ["first", "chat", "wait 60", "chat, off hours", "last"]
        );
        assert_eq!(run(&facts("email", false)), ["first", "last"]);
        assert_eq!(run(&facts("whatsapp", false)), ["first", "rotate", "last"]);
    }

    #[test]
    fn a_finished_or_foreign_cursor_ends_the_run() {
        let definition = definition();
        let facts = facts("chat", true);
        assert_eq!(next(&definition, &Cursor(vec![3]), &facts).0, Step::Done);
        // [1, 7, 0]: arm 7 of a branch with two arms and `otherwise` does not exist
        assert_eq!(
            next(&definition, &Cursor(vec![1, 7, 0]), &facts).0,
            Step::Done
        );
        // [0, 0, 0]: action 0 is not a branch
        assert_eq!(
            next(&definition, &Cursor(vec![0, 0, 0]), &facts).0,
            Step::Done
        );
        assert_eq!(
            next(&definition, &Cursor(Vec::new()), &facts).0,
            Step::Do(say("first"))
        );
    }
}
