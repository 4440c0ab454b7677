//! Shipped templates. "Reassign tickets for customer agent handoff" rotates the ticket
//! owner by source channel: one branch per channel, each with its own rotation, left as
//! placeholders for the admin to fill in (F9).

use crate::condition::Condition;
use crate::definition::{Action, Arm, Definition, Enrollment, ObjectType};

/// A template as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

pub const TEMPLATES: [Template; 1] = [Template {
    id: "reassign_tickets_for_customer_agent_handoff",
    name: "Reassign tickets for customer agent handoff",
    description: "Rotates the ticket owner based on the source channel: one branch per \
                  channel, each with its own rotation (fill in the users or teams).",
}];

/// The channels the template branches on, in order.
const CHANNELS: [&str; 3] = ["chat", "email", "messaging"];

/// The definition a template starts from.
pub fn template(id: &str) -> Option<Definition> {
    match id {
        "reassign_tickets_for_customer_agent_handoff" => Some(Definition {
            name: "Reassign tickets for customer agent handoff".into(),
            object: ObjectType::Ticket,
            enrollment: Enrollment::TicketCreatedByHandoff,
            actions: vec![Action::Branch {
                arms: CHANNELS
                    .iter()
                    .map(|channel| Arm {
                        condition: Condition::SourceChannel {
                            equals: (*channel).to_owned(),
                        },
                        actions: vec![Action::RotateOwner {
                            user_ids: Vec::new(),
                            team_id: None,
                        }],
                    })
                    .collect(),
                otherwise: vec![Action::RotateOwner {
                    user_ids: Vec::new(),
                    team_id: None,
                }],
            }],
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::Directory;

    #[test]
    fn the_handoff_template_branches_by_channel_with_placeholders() {
        let definition = template(TEMPLATES[0].id).unwrap();
        assert!(definition.is_ticket_based());
        assert!(!definition.is_complete(), "placeholders to fill in");
        assert!(definition.validate(&Directory::default()).is_ok());
        let Action::Branch { arms, .. } = &definition.actions[0] else {
            panic!("{definition:?}");
        };
        let channels: Vec<_> = arms
            .iter()
            .map(|arm| match &arm.condition {
                Condition::SourceChannel { equals } => equals.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(channels, CHANNELS);
        assert_eq!(template("nope"), None);
    }
}
