//! The handoff settings document as the API receives it: deserialized, then validated
//! against a directory of what exists. Structure-aware: most inputs are built to look
//! like a settings document (so validation, not just the JSON parser, is reached), the
//! rest are raw bytes. Validation's canonical form must validate again to itself, and its
//! phrases must compile into a matcher.
#![no_main]

use std::collections::{HashMap, HashSet};

use baton_core::ids::{InboxId, TeamId, UserId, WorkflowId};
use baton_core::settings::{
    Directory, DirectoryUser, DirectoryWorkflow, HandoffSettings, check_trigger_list,
};
use baton_core::text::PhraseMatcher;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// A small id, so that references hit the directory about half the time.
fn id(u: &mut Unstructured) -> Result<Value> {
    Ok(if u.ratio(1, 8)? {
        json!(u.arbitrary::<i64>()?)
    } else {
        json!(u.int_in_range(0..=5)?)
    })
}

fn text(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0 => Value::Null,
        1 => json!(u.arbitrary::<i64>()?),
        2 => json!(" ".repeat(u.int_in_range(0..=3)?)),
        3 => json!("x".repeat(u.int_in_range(195..=2_005)?)),
        _ => json!(u.arbitrary::<String>()?),
    })
}

fn one_of(u: &mut Unstructured, choices: &[&str]) -> Result<Value> {
    Ok(if u.ratio(1, 10)? {
        text(u)?
    } else {
        json!(u.choose(choices)?)
    })
}

fn list(u: &mut Unstructured, item: fn(&mut Unstructured) -> Result<Value>) -> Result<Value> {
    let mut items = Vec::new();
    u.arbitrary_loop(None, Some(12), |u| {
        items.push(item(u)?);
        Ok(std::ops::ControlFlow::Continue(()))
    })?;
    Ok(Value::Array(items))
}

fn destination(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Value::Null,
        1 => json!({ "kind": "workflow", "workflow_id": id(u)? }),
        2 => text(u)?,
        _ => {
            let mut d = json!({
                "kind": one_of(u, &["users_and_teams"])?,
                "inbox_id": id(u)?,
                "user_ids": list(u, id)?,
                "team_ids": list(u, id)?,
            });
            if u.arbitrary()? {
                d["strategy"] = one_of(u, &["round_robin", "balanced"])?;
            }
            d
        }
    })
}

fn document(u: &mut Unstructured) -> Result<Value> {
    let mut doc = json!({
        "default_triggers": {
            "cannot_answer": u.arbitrary::<bool>()?,
            "asks_for_human": u.arbitrary::<bool>()?,
            "agent_paused": u.arbitrary::<bool>()?,
        },
        "custom_triggers": list(u, text)?,
        "process": one_of(u, &["live", "async", "none"])?,
        "destination": destination(u)?,
        "messages": {
            "available": text(u)?,
            "unavailable": text(u)?,
            "unassigned_by_workflow": text(u)?,
        },
        "unassigned_chat": one_of(u, &["keep_open", "close"])?,
    });
    if u.arbitrary()? {
        doc["live_reply_timeout_seconds"] = match u.int_in_range(0..=2)? {
            0 => json!(u.arbitrary::<u32>()?),
            1 => json!(u.arbitrary::<i64>()?),
            _ => json!(u.choose(&[0, 29, 30, 86_400, 86_401])?),
        };
    }
    if u.arbitrary()? {
        doc["visitor_choice"] = json!(u.arbitrary::<bool>()?);
    }
    if u.arbitrary()? {
        doc["default_triggers"]["frustrated"] = json!(u.arbitrary::<bool>()?);
    }
    Ok(doc)
}

fn directory(u: &mut Unstructured) -> Result<Directory> {
    let mut directory = Directory {
        has_help_desk: u.arbitrary()?,
        ..Directory::default()
    };
    let mut users = HashMap::new();
    let mut teams = HashSet::new();
    let mut inboxes = HashSet::new();
    let mut workflows = HashMap::new();
    for n in 0..=5 {
        if u.arbitrary()? {
            users.insert(
                UserId(n),
                DirectoryUser {
                    paid_seat: u.arbitrary()?,
                },
            );
        }
        if u.arbitrary()? {
            teams.insert(TeamId(n));
        }
        if u.arbitrary()? {
            inboxes.insert(InboxId(n));
        }
        if u.arbitrary()? {
            let workflow = DirectoryWorkflow {
                ticket_based: u.arbitrary()?,
                complete: u.arbitrary()?,
            };
            workflows.insert(WorkflowId(n), workflow);
        }
    }
    directory.users = users;
    directory.teams = teams;
    directory.inboxes = inboxes;
    directory.workflows = workflows;
    Ok(directory)
}

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let directory = directory(&mut u)?;
    let parsed = if u.ratio(1, 4)? {
        serde_json::from_slice::<HandoffSettings>(u.take_rest())
    } else {
        serde_json::from_value::<HandoffSettings>(document(&mut u)?)
    };
    let Ok(settings) = parsed else { return Ok(()) };
    let _ = check_trigger_list(&settings.custom_triggers);
    let Ok(valid) = settings.validate(&directory) else {
        return Ok(());
    };
    let stored = serde_json::to_string(&valid).expect("valid settings serialize");
    let read: HandoffSettings = serde_json::from_str(&stored).expect("stored settings read back");
    assert_eq!(
        read.validate(&directory).as_ref(),
        Ok(&valid),
        "validation is not idempotent"
    );
    let matcher = PhraseMatcher::new(&valid.custom_triggers);
    let _ = matcher.find(&valid.messages.available);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});
