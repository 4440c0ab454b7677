//! Users, seats, permissions and availability as the policy sees them (F6, F10).

use std::str::FromStr;

use crate::settings::FieldError;

/// Open conversations at once when a user is created without a capacity (F6/B7).
pub const DEFAULT_CAPACITY: u32 = 5;
/// The most open conversations one user may hold at once.
pub const MAX_CAPACITY: u32 = 1000;
/// The longest name (of a user, team or inbox), in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest sign-in email, in bytes.
pub const MAX_EMAIL_BYTES: usize = 320;

/// A name (of a user, a team, an inbox): trimmed, between 1 and 200 characters.
/// Errors name `field`.
pub fn check_name(field: &str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            field,
            format!("between 1 and {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A sign-in email, trimmed: it has an `@` and at most 320 bytes. Errors name `email`.
pub fn check_email(value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if !value.contains('@') || value.len() > MAX_EMAIL_BYTES {
        return Err(FieldError::new("email", "not an email address"));
    }
    Ok(value.to_owned())
}

/// A capacity: at most [`MAX_CAPACITY`]. Errors name `capacity`.
pub fn check_capacity(value: u32) -> Result<u32, FieldError> {
    if value > MAX_CAPACITY {
        return Err(FieldError::new(
            "capacity",
            format!("at most {MAX_CAPACITY}"),
        ));
    }
    Ok(value)
}

/// A seat by name. Errors name `seat`.
pub fn parse_seat(value: &str) -> Result<Seat, FieldError> {
    value
        .parse::<Seat>()
        .map_err(|e| FieldError::new("seat", e.to_string()))
}

/// Permissions by name, in order. An error names the first unknown one,
/// `permissions[i]`.
pub fn parse_permissions<S: AsRef<str>>(values: &[S]) -> Result<Vec<Permission>, FieldError> {
    values
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.as_ref()
                .parse::<Permission>()
                .map_err(|e| FieldError::new(format!("permissions[{i}]"), e.to_string()))
        })
        .collect()
}

/// An availability by name. Errors name `availability`.
pub fn parse_availability(value: &str) -> Result<Availability, FieldError> {
    value
        .parse::<Availability>()
        .map_err(|e| FieldError::new("availability", e.to_string()))
}

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
    fn shared_checks_name_their_field() {
        assert_eq!(check_name("name", "  Ann  ").unwrap(), "Ann");
        assert_eq!(check_name("name", " ").unwrap_err().field, "name");
        let long = "é".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(check_name("team", &long).unwrap_err().field, "team");
        assert!(check_name("name", &"é".repeat(MAX_NAME_CHARS)).is_ok());
        assert_eq!(check_email(" a@b.example ").unwrap(), "a@b.example");
        assert_eq!(check_email("nobody").unwrap_err().field, "email");
        assert_eq!(check_capacity(MAX_CAPACITY), Ok(MAX_CAPACITY));
        let err = check_capacity(MAX_CAPACITY + 1).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.message.as_str()),
            ("capacity", "at most 1000")
        );
        assert_eq!(parse_seat("gold").unwrap_err().field, "seat");
        assert_eq!(
            parse_permissions(&["admin", "root"]).unwrap_err().field,
            "permissions[1]"
        );
        assert_eq!(
            parse_permissions(&["customer_agent_editor"]),
            Ok(vec![Permission::CustomerAgentEditor])
        );
        assert_eq!(parse_availability("away"), Ok(Availability::Away));
        assert_eq!(
            parse_availability("busy").unwrap_err().field,
            "availability"
        );
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
