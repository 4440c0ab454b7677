//! Settings validation: canonical form and one named field per invalid value.

use std::collections::{HashMap, HashSet};

use baton_core::ids::{InboxId, TeamId, UserId, WorkflowId};
use baton_core::settings::{
    Destination, Directory, DirectoryUser, DirectoryWorkflow, HandoffSettings, Process,
};

fn directory() -> Directory {
    Directory {
        users: HashMap::from([
            (UserId(1), DirectoryUser { paid_seat: true }),
            (UserId(2), DirectoryUser { paid_seat: false }),
        ]),
        teams: HashSet::from([TeamId(1)]),
        inboxes: HashSet::from([InboxId(1)]),
        workflows: HashMap::from([
            (
                WorkflowId(2),
                DirectoryWorkflow {
                    ticket_based: true,
                    complete: true,
                },
            ),
            (
                WorkflowId(3),
                DirectoryWorkflow {
                    ticket_based: false,
                    complete: true,
                },
            ),
            (
                WorkflowId(4),
                DirectoryWorkflow {
                    ticket_based: true,
                    complete: false,
                },
            ),
        ]),
        has_help_desk: true,
    }
}

fn workflow(id: i64) -> Option<Destination> {
    Some(Destination::Workflow {
        workflow_id: WorkflowId(id),
    })
}

fn live(destination: Option<Destination>) -> HandoffSettings {
    HandoffSettings {
        process: Process::Live,
        destination,
        ..HandoffSettings::default()
    }
}

fn users(inbox: i64, users: &[i64], teams: &[i64]) -> Option<Destination> {
    Some(Destination::UsersAndTeams {
        inbox_id: InboxId(inbox),
        user_ids: users.iter().copied().map(UserId).collect(),
        team_ids: teams.iter().copied().map(TeamId).collect(),
        strategy: Default::default(),
    })
}

fn check_err(settings: HandoffSettings, field: &str) {
    match settings.validate(&directory()) {
        Ok(s) => panic!("expected an error on {field}, got {s:?}"),
        Err(e) => assert_eq!(e.field, field, "{e}"),
    }
}

#[test]
fn invalid_values_name_their_field() {
    check_err(live(None), "destination");
    check_err(live(users(9, &[1], &[])), "destination.inbox_id");
    check_err(live(users(1, &[], &[])), "destination");
    check_err(live(users(1, &[1, 2], &[])), "destination.user_ids[1]");
    check_err(live(users(1, &[7], &[])), "destination.user_ids[0]");
    check_err(live(users(1, &[1], &[1, 5])), "destination.team_ids[1]");
    for missing_or_unfit in [1, 3, 4] {
        check_err(live(workflow(missing_or_unfit)), "destination.workflow_id");
    }
    assert!(live(workflow(2)).validate(&directory()).is_ok());
    let mut no_desk = directory();
    no_desk.has_help_desk = false;
    let err = live(workflow(2)).validate(&no_desk).unwrap_err();
    assert_eq!(err.field, "destination.workflow_id");
    let mut s = live(users(1, &[1], &[]));
    s.custom_triggers = vec!["ok".into(), "x".repeat(201)];
    check_err(s, "custom_triggers[1]");
    let mut s = live(users(1, &[1], &[]));
    s.messages.unavailable = "  ".into();
    check_err(s, "messages.unavailable");
}

#[test]
fn valid_settings_come_back_canonical() {
    let mut s = live(users(1, &[1], &[1]));
    s.custom_triggers = vec![
        " refund ".into(),
        "".into(),
        "Refund".into(),
        "cancellation".into(),
    ];
    let s = s.validate(&directory()).expect("valid");
    assert_eq!(s.custom_triggers, vec!["refund", "cancellation"]);

    let none = HandoffSettings {
        process: Process::None,
        destination: users(9, &[2], &[]),
        ..HandoffSettings::default()
    };
    let none = none
        .validate(&directory())
        .expect("destination is dropped, not checked");
    assert_eq!(none.destination, None);
}

/// A document stored before `default_triggers.frustrated` existed still loads, with the
/// trigger on (it is a default trigger); the field round-trips when present.
#[test]
#[allow(clippy::unwrap_used)]
fn documents_without_frustrated_read_it_as_on() {
    let mut old = serde_json::to_value(HandoffSettings::default()).unwrap();
    old["default_triggers"]
        .as_object_mut()
        .unwrap()
        .remove("frustrated");
    let read: HandoffSettings = serde_json::from_value(old).unwrap();
    assert!(read.default_triggers.frustrated);
    assert!(HandoffSettings::default().default_triggers.frustrated);

    let mut off = HandoffSettings::default();
    off.default_triggers.frustrated = false;
    let json = serde_json::to_value(&off).unwrap();
    assert_eq!(json["default_triggers"]["frustrated"], false);
    let back: HandoffSettings = serde_json::from_value(json).unwrap();
    assert_eq!(back, off);
}
