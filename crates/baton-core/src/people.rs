//! Users, seats, permissions and availability as the policy sees them (F6, F10).

use std::str::FromStr;

/// A user's seat. Only paid seats (`sales`, `service`) may be routed to or edit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    None,
    Sales,
    Service,
}

impl Seat {
    pub fn is_paid(self) -> bool {
        !matches!(self, Seat::None)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Seat::None => "none",
            Seat::Sales => "sales",
            Seat::Service => "service",
        }
    }
}

impl FromStr for Seat {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Seat::None),
            "sales" => Ok(Seat::Sales),
            "service" => Ok(Seat::Service),
            _ => Err(UnknownValue::new(s, &["none", "sales", "service"])),
        }
    }
}

/// What a user may do beyond answering conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// Manage users, teams, inboxes and other users' tokens.
    Admin,
    /// Edit the handoff settings and pause the agent (F10, with a paid seat).
    CustomerAgentEditor,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Admin => "admin",
            Permission::CustomerAgentEditor => "customer_agent_editor",
        }
    }
}

impl FromStr for Permission {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Permission::Admin),
            "customer_agent_editor" => Ok(Permission::CustomerAgentEditor),
            _ => Err(UnknownValue::new(s, &["admin", "customer_agent_editor"])),
        }
    }
}

/// The manual availability switch (F6: routing follows the user's, not the widget's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available,
    Away,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Away => "away",
        }
    }
}

impl FromStr for Availability {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "available" => Ok(Availability::Available),
            "away" => Ok(Availability::Away),
            _ => Err(UnknownValue::new(s, &["available", "away"])),
        }
    }
}

/// A string that names none of the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value \"{value}\"; expected one of: {}", expected.join(", "))]
pub struct UnknownValue {
    pub value: String,
    pub expected: &'static [&'static str],
}

impl UnknownValue {
    fn new(value: &str, expected: &'static [&'static str]) -> Self {
        UnknownValue {
            value: value.chars().take(64).collect(),
            expected,
        }
    }
}

/// May this user edit the handoff settings? F10: the permission and a paid seat.
pub fn can_edit_settings(seat: Seat, permissions: &[Permission]) -> bool {
    seat.is_paid() && permissions.contains(&Permission::CustomerAgentEditor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_need_permission_and_paid_seat() {
        let editor = [Permission::CustomerAgentEditor];
        for (seat, perms, expect) in [
            (Seat::Service, &editor[..], true),
            (Seat::Sales, &editor[..], true),
            (Seat::None, &editor[..], false),
            (Seat::Service, &[Permission::Admin][..], false),
            (Seat::Service, &[][..], false),
        ] {
            assert_eq!(can_edit_settings(seat, perms), expect, "{seat:?} {perms:?}");
        }
    }

    #[test]
    fn parsing_names_the_allowed_values() {
        let err = "gold".parse::<Seat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown value \"gold\"; expected one of: none, sales, service"
        );
        assert_eq!("away".parse::<Availability>(), Ok(Availability::Away));
        assert_eq!("admin".parse::<Permission>(), Ok(Permission::Admin));
    }
}
