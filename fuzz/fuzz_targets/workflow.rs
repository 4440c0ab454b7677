//! Workflow definitions as the API receives them: deserialized, validated against a
//! directory, then stepped to the end with arbitrary facts from the start or from an
//! arbitrary saved cursor (a cursor is stored, and read back after a restart or an
//! edit). Structure-aware: most inputs are built to look like a definition, nested
//! deeper than validation allows; the rest are raw bytes. Any panic, or a run that does
//! not end, is a bug.
#![no_main]

use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow;

use baton_core::ids::{TeamId, UserId};
use baton_workflows::{Cursor, Definition, Directory, Facts, Step, next};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Deeper than `MAX_DEPTH` (8), so that the limit itself is exercised.
const DEPTH: u32 = 11;

fn text(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0 => json!(u.arbitrary::<i64>()?),
        1 => json!(" ".repeat(u.int_in_range(0..=2)?)),
        2 => json!("é".repeat(u.int_in_range(195..=2_005)?)),
        3 => json!(u.choose(&["low", "medium", "high", "urgent", "chat", "email"])?),
        _ => json!(u.arbitrary::<String>()?),
    })
}

fn id(u: &mut Unstructured) -> Result<Value> {
    Ok(if u.ratio(1, 8)? {
        json!(u.arbitrary::<i64>()?)
    } else {
        json!(u.int_in_range(0..=5)?)
    })
}

fn many(
    u: &mut Unstructured,
    max: usize,
    mut item: impl FnMut(&mut Unstructured) -> Result<Value>,
) -> Result<Value> {
    let mut items = Vec::new();
    u.arbitrary_loop(None, Some(max as u32), |u| {
        items.push(item(u)?);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(Value::Array(items))
}

fn condition(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let leaf = depth == 0;
    Ok(match u.int_in_range(0..=if leaf { 3 } else { 6 })? {
        0 => json!({ "type": "source_channel", "equals": text(u)? }),
        1 => json!({ "type": "ticket_property", "name": text(u)?, "equals": text(u)? }),
        2 => json!({ "type": "text_contains", "text": text(u)? }),
        3 => json!({ "type": "within_working_hours" }),
        4 => json!({ "type": "all", "conditions": many(u, 4, |u| condition(u, depth - 1))? }),
        5 => json!({ "type": "any", "conditions": many(u, 4, |u| condition(u, depth - 1))? }),
        _ => json!({ "type": "not", "condition": condition(u, depth - 1)? }),
    })
}

fn action(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let leaf = depth == 0;
    let mut action = match u.int_in_range(0..=if leaf { 5 } else { 6 })? {
        0 => {
            let mut a = json!({ "type": "rotate_owner" });
            if u.arbitrary()? {
                a["user_ids"] = many(u, 4, id)?;
            }
            if u.arbitrary()? {
                a["team_id"] = id(u)?;
            }
            a
        }
        1 => json!({ "type": "assign_team", "team_id": id(u)? }),
        2 => json!({ "type": "set_property", "name": text(u)?, "value": text(u)? }),
        3 => json!({ "type": "set_priority", "priority": text(u)? }),
        4 => json!({ "type": "send_message", "text": text(u)? }),
        5 => json!({ "type": "delay", "seconds": u.arbitrary::<u64>()? }),
        _ => {
            let arms = many(u, 3, |u| {
                Ok(json!({
                    "condition": condition(u, 3)?,
                    "actions": many(u, 4, |u| action(u, depth - 1))?,
                }))
            })?;
            let mut a = json!({ "type": "branch", "arms": arms });
            if u.arbitrary()? {
                a["otherwise"] = many(u, 4, |u| action(u, depth - 1))?;
            }
            a
        }
    };
    if u.ratio(1, 50)? {
        action["unknown"] = json!(true);
    }
    Ok(action)
}

fn definition(u: &mut Unstructured) -> Result<Value> {
    Ok(json!({
        "name": text(u)?,
        "object": u.choose(&["ticket", "contact", "deal"])?,
        "enrollment": u.choose(&["ticket_created_by_handoff", "form_submitted"])?,
        "actions": many(u, 6, |u| action(u, DEPTH))?,
    }))
}

fn facts(u: &mut Unstructured) -> Result<Facts> {
    let mut properties = BTreeMap::new();
    for _ in 0..u.int_in_range(0..=3)? {
        properties.insert(u.arbitrary()?, u.arbitrary()?);
    }
    Ok(Facts {
        source_channel: u.choose(&["chat", "email", "whatsapp", ""])?.to_string(),
        properties,
        text: u.arbitrary()?,
        within_working_hours: u.arbitrary()?,
    })
}

fn cursor(u: &mut Unstructured) -> Result<Cursor> {
    if u.arbitrary()? {
        return Ok(Cursor::start());
    }
    let path = many(u, 9, |u| {
        Ok(if u.ratio(1, 8)? {
            json!(u.arbitrary::<usize>()?)
        } else {
            json!(u.int_in_range(0..=4)?)
        })
    })?;
    Ok(serde_json::from_value(path).unwrap_or_else(|_| Cursor::start()))
}

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let directory = Directory {
        users: (0..=3).map(|n| (UserId(n), n % 2 == 0)).collect(),
        teams: HashSet::from([TeamId(1), TeamId(2)]),
    };
    let facts = facts(&mut u)?;
    let mut cursor = cursor(&mut u)?;
    let parsed = if u.ratio(1, 4)? {
        serde_json::from_slice::<Definition>(u.take_rest())
    } else {
        serde_json::from_value::<Definition>(definition(&mut u)?)
    };
    let Ok(definition) = parsed else {
        return Ok(());
    };
    let _ = definition.validate(&directory);
    let _ = definition.is_complete();
    let _ = definition.is_ticket_based();
    // Every step either applies an action or leaves a branch, so a run over a definition
    // of n actions in all ends within a bound; 100,000 is far beyond any input here.
    for _ in 0..100_000 {
        let (step, saved) = next(&definition, &cursor, &facts);
        if step == Step::Done {
            return Ok(());
        }
        let stored = serde_json::to_string(&saved).expect("a cursor serializes");
        cursor = serde_json::from_str(&stored).expect("a stored cursor reads back");
    }
    panic!("the run did not end");
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});
