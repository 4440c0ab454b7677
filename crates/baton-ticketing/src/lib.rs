//! Tickets from conversations (F5): which handoffs create one, what it starts as, and how
//! its status follows the conversation.
//!
//! Pure: the store applies these rules inside the transactions that change the
//! conversation, so a ticket never disagrees with its conversation. The owner is not kept
//! here at all: a ticket's owner is its conversation's assignee, read through.

use baton_core::ids::{InboxId, TeamId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(name: &str) -> Option<Priority> {
        [
            Priority::Low,
            Priority::Medium,
            Priority::High,
            Priority::Urgent,
        ]
        .into_iter()
        .find(|p| p.as_str() == name)
    }
}

/// The help-desk pipeline a ticket moves through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created by the handoff; nobody has answered yet.
    New,
    /// A human answered; the visitor's turn.
    WaitingOnContact,
    /// The visitor wrote after a human answer; the team's turn.
    WaitingOnUs,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::WaitingOnContact => "waiting_on_contact",
            Status::WaitingOnUs => "waiting_on_us",
            Status::Closed => "closed",
        }
    }

    pub fn parse(name: &str) -> Option<Status> {
        [
            Status::New,
            Status::WaitingOnContact,
            Status::WaitingOnUs,
            Status::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// What happened in the ticket's conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    HumanReplied,
    VisitorWrote,
    Closed,
    /// Staff opened the closed conversation again.
    Reopened,
}

/// The status after `activity`. A closed ticket stays closed until its conversation is
/// reopened, which puts the next move on the team (waiting on us); a visitor writing
/// before any human answer leaves a new ticket new.
pub fn next_status(current: Status, activity: Activity) -> Status {
    match (current, activity) {
        (Status::Closed, Activity::Reopened) => Status::WaitingOnUs,
        (current, Activity::Reopened) => current,
        (Status::Closed, _) | (_, Activity::Closed) => Status::Closed,
        (_, Activity::HumanReplied) => Status::WaitingOnContact,
        (Status::New, Activity::VisitorWrote) => Status::New,
        (_, Activity::VisitorWrote) => Status::WaitingOnUs,
    }
}

/// A ticket about to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub inbox_id: InboxId,
    pub team_id: Option<TeamId>,
    pub source_channel: String,
    pub priority: Priority,
    pub status: Status,
}

/// The ticket a handoff creates: one when the destination is a help desk, none for a
/// plain inbox (F5). The first destination team becomes the ticket's team.
pub fn draft_for_handoff(
    help_desk: bool,
    inbox_id: InboxId,
    team_ids: &[TeamId],
    source_channel: &str,
) -> Option<Draft> {
    help_desk.then(|| Draft {
        inbox_id,
        team_id: team_ids.first().copied(),
        source_channel: source_channel.to_owned(),
        priority: Priority::Medium,
        status: Status::New,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_help_desks_create_tickets() {
        assert_eq!(draft_for_handoff(false, InboxId(1), &[], "chat"), None);
        let draft = draft_for_handoff(true, InboxId(1), &[TeamId(4), TeamId(2)], "chat").unwrap();
        assert_eq!(draft.team_id, Some(TeamId(4)));
        assert_eq!(
            (draft.status, draft.priority),
            (Status::New, Priority::Medium)
        );
        assert_eq!(draft.source_channel, "chat");
    }

    #[test]
    fn status_follows_the_conversation() {
        use Activity as A;
        use Status as S;
        for (from, activity, to) in [
            (S::New, A::VisitorWrote, S::New),
            (S::New, A::HumanReplied, S::WaitingOnContact),
            (S::WaitingOnContact, A::VisitorWrote, S::WaitingOnUs),
            (S::WaitingOnUs, A::HumanReplied, S::WaitingOnContact),
            (S::WaitingOnUs, A::Closed, S::Closed),
            (S::Closed, A::HumanReplied, S::Closed),
            (S::Closed, A::VisitorWrote, S::Closed),
            (S::Closed, A::Reopened, S::WaitingOnUs),
            (S::WaitingOnContact, A::Reopened, S::WaitingOnContact),
        ] {
            assert_eq!(next_status(from, activity), to, "{from:?} + {activity:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in [
            Status::New,
            Status::WaitingOnContact,
            Status::WaitingOnUs,
            Status::Closed,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for p in [
            Priority::Low,
            Priority::Medium,
            Priority::High,
            Priority::Urgent,
        ] {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        assert_eq!(Status::parse("open"), None);
    }
}
