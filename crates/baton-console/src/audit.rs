//! The audit log (B10): configuration changes and every handoff, newest first, one
//! keyset page at a time through the same store call as `GET /api/v1/audit`, readable
//! by the same people (any signed-in staff member). The details are the JSON the store
//! wrote, laid out for reading: a handoff's rule and whom the walk passed over, a
//! settings change as "field: before → after".

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use baton_engine::model::AuditEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::Console;
use crate::page::{Layout, Notice, Section, SignedIn, encode, error_page, ok, store_error_page};

pub(crate) fn routes() -> Router<Console> {
    Router::new().route("/console/audit", get(audit))
}

/// Entries per page.
const PAGE: u64 = 50;

/// The kinds the store writes, with their names here, in the order the filter offers them.
const KINDS: [(&str, &str); 18] = [
    ("handoff", "Handoff"),
    ("assignment", "Assignment"),
    ("rerouted", "Re-routed"),
    ("requeued", "Back to the queue"),
    ("handed_back", "Handed back to the assistant"),
    ("closed", "Closed"),
    ("reopened", "Reopened"),
    ("settings_changed", "Settings changed"),
    ("agent_state", "Agent switch"),
    ("user_changed", "User changed"),
    ("workflow_step", "Workflow step"),
    ("workflow_unassigned", "Workflow left it unassigned"),
    ("delivery_failed", "Delivery failed"),
    ("email_automatic_capped", "Automatic mails capped"),
    ("webhook_created", "Webhook subscribed"),
    ("webhook_deleted", "Webhook removed"),
    ("webhook_disabled", "Webhook disabled"),
    ("webhook_replayed", "Webhook replayed"),
];

#[derive(Debug, Deserialize, Default)]
struct AuditQuery {
    kind: Option<String>,
    before: Option<String>,
    notice: Option<String>,
}

struct KindChoice {
    value: String,
    name: String,
    selected: bool,
}

struct Fact {
    label: &'static str,
    value: String,
}

struct Entry {
    id: i64,
    at: String,
    at_iso: String,
    kind: String,
    kind_name: String,
    actor: String,
    conversation: Option<i64>,
    facts: Vec<Fact>,
    /// "Passed over" or "Changes", with its items.
    list_label: &'static str,
    list: Vec<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    kinds: Vec<KindChoice>,
    entries: Vec<Entry>,
    filtered: Option<String>,
    older: Option<String>,
    newest: Option<String>,
}

fn link(kind: Option<&str>, before: Option<i64>) -> String {
    let mut query = Vec::new();
    if let Some(kind) = kind {
        query.push(format!("kind={}", encode(kind)));
    }
    if let Some(before) = before {
        query.push(format!("before={before}"));
    }
    if query.is_empty() {
        "/console/audit".to_owned()
    } else {
        format!("/console/audit?{}", query.join("&"))
    }
}

async fn audit(
    State(console): State<Console>,
    who: SignedIn,
    Query(query): Query<AuditQuery>,
) -> Response {
    let kind = query
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let before = match query
        .before
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "\"before\" is the id of an entry, a whole number.",
                );
            }
        },
    };
    let store = console.engine().store();
    let events = match store.audit(PAGE, before, kind).await {
        Ok(events) => events,
        Err(error) => return store_error_page(error),
    };
    let users: HashMap<i64, String> = match store.users().await {
        Ok(users) => users.into_iter().map(|u| (u.id.0, u.name)).collect(),
        Err(error) => return store_error_page(error),
    };
    let mut kinds: Vec<KindChoice> = KINDS
        .iter()
        .map(|(value, name)| KindChoice {
            value: (*value).to_owned(),
            name: (*name).to_owned(),
            selected: kind == Some(*value),
        })
        .collect();
    // A kind this page does not know (written by a newer store): still selectable.
    if let Some(kind) = kind
        && !KINDS.iter().any(|(k, _)| *k == kind)
    {
        kinds.push(KindChoice {
            value: kind.to_owned(),
            name: kind.to_owned(),
            selected: true,
        });
    }
    let older = (events.len() as u64 == PAGE)
        .then(|| events.last().map(|e| link(kind, Some(e.id))))
        .flatten();
    let entries = events.into_iter().map(|e| entry(e, &users)).collect();
    ok(&AuditPage {
        layout: Layout::new("Audit log", Section::Audit, &who).with_flash(
            Notice {
                notice: query.notice.clone(),
            }
            .text(),
        ),
        kinds,
        entries,
        filtered: kind.map(|k| kind_name(k).to_owned()),
        older,
        newest: before.map(|_| link(kind, None)),
    })
}

fn kind_name(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, name)| name)
}

/// "Ada (user 3)", or "user 3" for someone unknown.
fn person(users: &HashMap<i64, String>, id: i64) -> String {
    match users.get(&id) {
        Some(name) => format!("{name} (user {id})"),
        None => format!("user {id}"),
    }
}

/// A JSON value as text for people.
fn plain(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", plain(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// "field: before → after" for each leaf that differs (objects are compared by key).
fn changes(field: &str, before: &Value, after: &Value, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let (old, new) = (
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                );
                if old != new {
                    let path = if field.is_empty() {
                        key.clone()
                    } else {
                        format!("{field}.{key}")
                    };
                    changes(&path, old, new, out);
                }
            }
        }
        _ => {
            let (before, after) = (plain(before), plain(after));
            // Absent and empty read the same: not a change worth a line.
            if before != after {
                out.push(format!("{field}: {before} → {after}"));
            }
        }
    }
}

/// Splits a routing rule into what chose the assignee and whom the walk passed over
/// (`…; passed over user 5 (away), user 6 (at_capacity)`), naming people.
fn rule_parts(rule: &str, users: &HashMap<i64, String>) -> (String, Vec<String>) {
    let Some((chosen, passed)) = rule.split_once("; passed over ") else {
        return (rule.to_owned(), Vec::new());
    };
    let passed = passed
        .split("), ")
        .map(|item| {
            let item = item.trim_end_matches(')');
            let parsed = item.strip_prefix("user ").and_then(|rest| {
                let (id, why) = rest.split_once(" (")?;
                Some((id.parse::<i64>().ok()?, why))
            });
            match parsed {
                Some((id, why)) => {
                    let why = match why {
                        "no_paid_seat" => "no paid seat",
                        "at_capacity" => "at capacity",
                        other => other,
                    };
                    format!("{}: {why}", person(users, id))
                }
                None => item.to_owned(),
            }
        })
        .collect();
    (chosen.to_owned(), passed)
}

fn entry(event: AuditEvent, users: &HashMap<i64, String>) -> Entry {
    let detail = &event.detail;
    let mut facts = Vec::new();
    let mut list_label = "";
    let mut list = Vec::new();
    let get = |key: &str| detail.get(key).filter(|v| !v.is_null());
    let user = |key: &str| get(key).and_then(Value::as_i64).map(|id| person(users, id));
    let mut fact = |label: &'static str, value: Option<String>| {
        if let Some(value) = value {
            facts.push(Fact { label, value });
        }
    };
    let mut rule = |fact: &mut dyn FnMut(&'static str, Option<String>)| {
        if let Some(rule) = get("rule").and_then(Value::as_str) {
            let (chosen, passed) = rule_parts(rule, users);
            fact("Rule", Some(chosen));
            if !passed.is_empty() {
                list_label = "Passed over";
                list = passed;
            }
        }
    };
    match event.kind.as_str() {
        "handoff" => {
            let reason = get("reason");
            let kind = reason
                .and_then(|r| r.get("kind"))
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            let matched = reason
                .and_then(|r| r.get("matched"))
                .and_then(Value::as_str)
                .map(|m| format!(": “{m}”"))
                .unwrap_or_default();
            fact("Reason", Some(format!("{kind}{matched}")));
            fact("Process", get("process").map(plain));
            let assignee = match (user("assignee_user_id"), get("queued")) {
                (Some(user), _) => Some(user),
                (None, Some(Value::Bool(true))) => Some("nobody yet: queued".into()),
                (None, _) => get("workflow_id").map(|_| "left to the workflow".to_owned()),
            };
            fact("Assigned to", assignee);
            rule(&mut fact);
            fact("Workflow", get("workflow_id").map(plain));
            fact("Ticket", get("ticket_id").map(plain));
            fact("Settings version", get("settings_version").map(plain));
            fact("Explanation", get("explanation").map(plain));
        }
        "assignment" | "rerouted" => {
            fact("Assigned to", user("assignee_user_id"));
            fact("From", user("from_user_id"));
            rule(&mut fact);
            fact(
                "Waited",
                get("waited_seconds")
                    .and_then(Value::as_f64)
                    .map(|s| format!("{s:.0} s")),
            );
        }
        "settings_changed" => {
            fact(
                "Version",
                get("version").map(|v| match get("previous_version") {
                    Some(p) => format!("{} (was {})", plain(v), plain(p)),
                    None => plain(v),
                }),
            );
            if let Some(Value::Object(diff)) = get("diff") {
                for (field, change) in diff {
                    changes(
                        field,
                        change.get("from").unwrap_or(&Value::Null),
                        change.get("to").unwrap_or(&Value::Null),
                        &mut list,
                    );
                }
                list_label = "Changes";
            }
        }
        "agent_state" => fact(
            "Customer agent",
            get("paused").map(|p| match p {
                Value::Bool(true) => "paused".to_owned(),
                Value::Bool(false) => "answering".to_owned(),
                other => plain(other),
            }),
        ),
        "user_changed" => {
            fact("User", user("user_id"));
            changes(
                "",
                get("before").unwrap_or(&Value::Null),
                get("after").unwrap_or(&Value::Null),
                &mut list,
            );
            list_label = "Changes";
        }
        "closed" => fact("Released", user("released_user_id")),
        "requeued" => {
            fact("From", user("from_user_id"));
            fact("Reason", get("reason").map(plain));
        }
        _ => {
            if let Value::Object(map) = detail {
                for (key, value) in map {
                    if !value.is_null() {
                        list.push(format!("{key}: {}", plain(value)));
                    }
                }
                list_label = "Details";
            }
        }
    }
    Entry {
        id: event.id,
        at: event.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        at_iso: event.at.to_rfc3339(),
        kind_name: kind_name(&event.kind).to_owned(),
        kind: event.kind,
        actor: event
            .actor_user_id
            .map_or_else(|| "System".to_owned(), |id| person(users, id.0)),
        conversation: event.conversation_id.map(|c| c.0),
        facts,
        list_label,
        list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_rule_names_whom_the_walk_passed_over() {
        let users = HashMap::from([(5, "Ada".to_owned())]);
        let (chosen, passed) = rule_parts(
            "round robin after user 2: user 3; passed over user 5 (away), user 6 (at_capacity)",
            &users,
        );
        assert_eq!(chosen, "round robin after user 2: user 3");
        assert_eq!(passed, ["Ada (user 5): away", "user 6: at capacity"]);
    }

    #[test]
    fn a_settings_diff_reads_field_by_field() {
        let mut out = Vec::new();
        changes(
            "messages",
            &json!({"available": "Hi", "unavailable": "Later"}),
            &json!({"available": "Hello", "unavailable": "Later"}),
            &mut out,
        );
        changes("custom_triggers", &json!(["refund"]), &json!([]), &mut out);
        assert_eq!(
            out,
            [
                "messages.available: Hi → Hello",
                "custom_triggers: refund → none"
            ]
        );
    }
}
