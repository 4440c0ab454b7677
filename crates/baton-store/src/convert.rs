//! Rows to engine records and back. A row that does not convert (an unknown seat name
//! written by hand, say) is a backend error, never a panic.

use baton_core::decision::HandoffProcess;
use baton_core::hours::WorkingHours;
use baton_core::ids::{ConversationId, InboxId, MessageId, TeamId, TicketId, UserId};
use baton_core::people::{Availability, Permission, Seat};
use baton_engine::StoreError;
use baton_engine::model::{
    Assignee, Author, Conversation, ConversationStatus, HandoffRecord, Inbox, InboxKind, Message,
    Team, User, Visitor,
};
use chrono::{DateTime, Utc};

use crate::Result;
use crate::entity::{conversation, inbox, message, team, user};

pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} \"{value}\" is not valid"))
}

pub(crate) fn user(row: user::Model) -> Result<User> {
    let permissions = row
        .permissions
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<Permission>()
                .map_err(|_| corrupt("permission", p))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(User {
        id: UserId(row.id),
        seat: row
            .seat
            .parse::<Seat>()
            .map_err(|_| corrupt("seat", &row.seat))?,
        availability: row
            .availability
            .parse::<Availability>()
            .map_err(|_| corrupt("availability", &row.availability))?,
        name: row.name,
        email: row.email,
        permissions,
        capacity: u32::try_from(row.capacity).unwrap_or(0),
        open_conversations: u32::try_from(row.open_count).unwrap_or(0),
        working_hours: row
            .working_hours
            .as_deref()
            .map(working_hours)
            .transpose()?,
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredHours {
    time_zone: String,
    days: std::collections::BTreeMap<String, Vec<(String, String)>>,
}

pub(crate) fn working_hours(text: &str) -> Result<WorkingHours> {
    let stored: StoredHours =
        serde_json::from_str(text).map_err(|_| corrupt("working hours", text))?;
    WorkingHours::parse(
        &stored.time_zone,
        stored.days.iter().map(|(d, s)| (d.as_str(), s.clone())),
    )
    .map_err(|_| corrupt("working hours", text))
}

pub(crate) fn working_hours_text(hours: &WorkingHours) -> String {
    let stored = StoredHours {
        time_zone: hours.time_zone().to_owned(),
        days: hours
            .days()
            .into_iter()
            .map(|(d, s)| (d.to_owned(), s))
            .collect(),
    };
    serde_json::to_string(&stored).unwrap_or_default()
}

pub(crate) fn permissions(permissions: &[Permission]) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn team(row: team::Model, members: Vec<i64>) -> Team {
    Team {
        id: TeamId(row.id),
        name: row.name,
        user_ids: members.into_iter().map(UserId).collect(),
    }
}

pub(crate) fn inbox_kind(kind: &str) -> Result<InboxKind> {
    match kind {
        "inbox" => Ok(InboxKind::Inbox),
        "help_desk" => Ok(InboxKind::HelpDesk),
        other => Err(corrupt("inbox kind", other)),
    }
}

pub(crate) fn inbox(row: inbox::Model) -> Result<Inbox> {
    Ok(Inbox {
        id: InboxId(row.id),
        kind: inbox_kind(&row.kind)?,
        name: row.name,
    })
}

pub(crate) fn process(name: &str) -> Result<HandoffProcess> {
    match name {
        "live" => Ok(HandoffProcess::Live),
        "async" => Ok(HandoffProcess::Async),
        other => Err(corrupt("handoff process", other)),
    }
}

pub(crate) fn conversation(row: conversation::Model) -> Result<Conversation> {
    let assignee = match (row.assignee_kind.as_str(), row.assignee_user_id) {
        ("agent", _) => Assignee::Agent,
        ("user", Some(id)) => Assignee::User(UserId(id)),
        ("none", _) => Assignee::None,
        (other, _) => return Err(corrupt("assignee", other)),
    };
    let handoff = match (&row.handoff_trigger, &row.handoff_process, row.handoff_at) {
        (Some(trigger), Some(process_name), Some(at)) => Some(HandoffRecord {
            trigger_kind: trigger.clone(),
            matched: row.handoff_matched.clone(),
            process: process(process_name)?,
            at: time(at),
            summary: row.handoff_summary.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(Conversation {
        id: ConversationId(row.id),
        status: match row.status.as_str() {
            "open" => ConversationStatus::Open,
            "closed" => ConversationStatus::Closed,
            other => return Err(corrupt("status", other)),
        },
        channel: row.channel,
        assignee,
        visitor: Visitor {
            name: row.visitor_name,
            email: row.visitor_email,
        },
        inbox_id: row.inbox_id.map(InboxId),
        handoff,
        queued: row.queued,
        ticket_id: row.ticket_id.map(TicketId),
        previous_conversation_id: row.previous_conversation_id.map(ConversationId),
        created_at: time(row.created_at),
    })
}

pub(crate) fn author(name: &str) -> Result<Author> {
    match name {
        "visitor" => Ok(Author::Visitor),
        "agent" => Ok(Author::Agent),
        "system" => Ok(Author::System),
        "user" => Ok(Author::User),
        other => Err(corrupt("author", other)),
    }
}

pub(crate) fn message(row: message::Model) -> Result<Message> {
    Ok(Message {
        id: MessageId(row.id),
        conversation_id: ConversationId(row.conversation_id),
        author: author(&row.author)?,
        author_user_id: row.author_user_id.map(UserId),
        text: row.text,
        created_at: time(row.created_at),
    })
}
