//! Conditions a branch tests: the ticket's source channel and properties, the
//! conversation's text, working hours; combined with all / any / not.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a condition can look at, gathered by the caller when the step runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub source_channel: String,
    pub properties: BTreeMap<String, String>,
    /// The conversation's visitor text (the messages joined).
    pub text: String,
    pub within_working_hours: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    SourceChannel {
        equals: String,
    },
    TicketProperty {
        name: String,
        equals: String,
    },
    /// Case-insensitive.
    TextContains {
        text: String,
    },
    WithinWorkingHours,
    All {
        conditions: Vec<Condition>,
    },
    Any {
        conditions: Vec<Condition>,
    },
    Not {
        condition: Box<Condition>,
    },
}

impl Condition {
    pub fn holds(&self, facts: &Facts) -> bool {
        match self {
            Condition::SourceChannel { equals } => facts.source_channel == *equals,
            Condition::TicketProperty { name, equals } => {
                facts.properties.get(name).is_some_and(|v| v == equals)
            }
            Condition::TextContains { text } => {
                facts.text.to_lowercase().contains(&text.to_lowercase())
            }
            Condition::WithinWorkingHours => facts.within_working_hours,
            Condition::All { conditions } => conditions.iter().all(|c| c.holds(facts)),
            Condition::Any { conditions } => conditions.iter().any(|c| c.holds(facts)),
            Condition::Not { condition } => !condition.holds(facts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            source_channel: "chat".into(),
            properties: BTreeMap::from([("tier".into(), "gold".into())]),
            text: "My ORDER never arrived".into(),
            within_working_hours: false,
        }
    }

    fn check(condition: Condition, expect: bool) {
        assert_eq!(condition.holds(&facts()), expect, "{condition:?}");
    }

    #[test]
    fn conditions_read_the_facts() {
        use Condition::*;
        check(
            SourceChannel {
                equals: "chat".into(),
            },
            true,
        );
        check(
            SourceChannel {
                equals: "email".into(),
            },
            false,
        );
        check(
            TicketProperty {
                name: "tier".into(),
                equals: "gold".into(),
            },
            true,
        );
        check(
            TicketProperty {
                name: "tier".into(),
                equals: "silver".into(),
            },
            false,
        );
        check(
            TicketProperty {
                name: "none".into(),
                equals: "gold".into(),
            },
            false,
        );
        check(
            TextContains {
                text: "order".into(),
            },
            true,
        );
        check(WithinWorkingHours, false);
        check(
            Not {
                condition: Box::new(WithinWorkingHours),
            },
            true,
        );
        let chat = || SourceChannel {
            equals: "chat".into(),
        };
        check(
            All {
                conditions: vec![chat(), WithinWorkingHours],
            },
            false,
        );
        check(
            Any {
                conditions: vec![chat(), WithinWorkingHours],
            },
            true,
        );
        check(All { conditions: vec![] }, true);
        check(Any { conditions: vec![] }, false);
    }
}
