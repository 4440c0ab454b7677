//! Versioned handoff settings and the agent switch, each change audited.

use std::collections::{HashMap, HashSet};

use baton_core::ids::{InboxId, TeamId, UserId};
use baton_core::people::Seat;
use baton_core::settings::{Directory, DirectoryUser, DirectoryWorkflow, HandoffSettings};
use baton_engine::StoreError;
use baton_engine::model::VersionedSettings;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, Set};
use serde_json::{Value, json};

use crate::convert::micros;
use crate::entity::{agent_state, inbox, settings, team, user};
use crate::routing::lock_routing;
use crate::turns::audit;
use crate::{Result, backend};

pub(crate) async fn insert_version(
    db: &impl ConnectionTrait,
    document: &HandoffSettings,
    actor: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<VersionedSettings> {
    let text = serde_json::to_string(document)
        .map_err(|e| StoreError::Backend(format!("settings do not serialize: {e}")))?;
    let row = settings::ActiveModel {
        document: Set(text),
        actor_user_id: Set(actor.map(|a| a.0)),
        created_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    Ok(VersionedSettings {
        version: row.id,
        settings: document.clone(),
    })
}

pub(crate) async fn current(db: &impl ConnectionTrait) -> Result<VersionedSettings> {
    let row = settings::Entity::find()
        .order_by_desc(settings::Column::Id)
        .one(db)
        .await
        .map_err(backend)?;
    match row {
        None => Ok(VersionedSettings {
            version: 0,
            settings: HandoffSettings::default(),
        }),
        Some(row) => Ok(VersionedSettings {
            version: row.id,
            settings: serde_json::from_str(&row.document).map_err(|e| {
                StoreError::Backend(format!("stored settings {} do not parse: {e}", row.id))
            })?,
        }),
    }
}

async fn directory(db: &impl ConnectionTrait) -> Result<Directory> {
    let users = user::Entity::find().all(db).await.map_err(backend)?;
    let teams = team::Entity::find().all(db).await.map_err(backend)?;
    let inboxes = inbox::Entity::find().all(db).await.map_err(backend)?;
    let workflows = crate::workflows::list(db).await?;
    Ok(Directory {
        has_help_desk: inboxes.iter().any(|i| i.kind == "help_desk"),
        workflows: workflows
            .into_iter()
            .map(|w| {
                let facts = DirectoryWorkflow {
                    ticket_based: w.definition.is_ticket_based(),
                    complete: w.definition.is_complete(),
                };
                (w.id, facts)
            })
            .collect(),
        users: users
            .into_iter()
            .map(|u| {
                let paid_seat = u.seat.parse::<Seat>().is_ok_and(Seat::is_paid);
                (UserId(u.id), DirectoryUser { paid_seat })
            })
            .collect::<HashMap<_, _>>(),
        teams: teams
            .into_iter()
            .map(|t| TeamId(t.id))
            .collect::<HashSet<_>>(),
        inboxes: inboxes
            .into_iter()
            .map(|i| InboxId(i.id))
            .collect::<HashSet<_>>(),
    })
}

/// Top-level fields whose value changed, for the audit diff.
fn diff(old: &HandoffSettings, new: &HandoffSettings) -> Value {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return Value::Null;
    };
    let mut changes = serde_json::Map::new();
    for (key, value) in &new {
        let before = old.get(key).cloned().unwrap_or(Value::Null);
        if &before != value {
            changes.insert(key.clone(), json!({"from": before, "to": value}));
        }
    }
    Value::Object(changes)
}

/// Validates and stores a new version. Under the routing lock: two saves expecting the
/// same version take turns, so the second sees the first's version and is refused; and
/// a user's seat cannot change (`people::update`, same lock) between the validation
/// that reads it and the commit.
pub(crate) async fn put(
    db: &impl ConnectionTrait,
    actor: UserId,
    document: HandoffSettings,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<VersionedSettings> {
    lock_routing(db).await?;
    let previous = current(db).await?;
    if let Some(expected) = expected_version
        && expected != previous.version
    {
        return Err(StoreError::Conflict(format!(
            "the handoff settings were changed by someone else (now version {}); \
             reload to see them",
            previous.version
        )));
    }
    let directory = directory(db).await?;
    let document = document.validate(&directory)?;
    let stored = insert_version(db, &document, Some(actor), now).await?;
    audit(
        db,
        now,
        "settings_changed",
        Some(actor),
        None,
        json!({
            "version": stored.version,
            "previous_version": previous.version,
            "diff": diff(&previous.settings, &document),
        }),
    )
    .await?;
    Ok(stored)
}

pub(crate) async fn agent_paused(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(agent_state::Entity::find_by_id(1)
        .one(db)
        .await
        .map_err(backend)?
        .is_some_and(|s| s.paused))
}

pub(crate) async fn set_agent_paused(
    db: &impl ConnectionTrait,
    actor: UserId,
    paused: bool,
    now: DateTime<Utc>,
) -> Result<bool> {
    let exists = agent_state::Entity::find_by_id(1)
        .one(db)
        .await
        .map_err(backend)?
        .is_some();
    let row = agent_state::ActiveModel {
        id: Set(1),
        paused: Set(paused),
        updated_at: Set(micros(now)),
    };
    if exists {
        row.update(db).await.map_err(backend)?;
    } else {
        row.insert(db).await.map_err(backend)?;
    }
    audit(
        db,
        now,
        "agent_state",
        Some(actor),
        None,
        json!({"paused": paused}),
    )
    .await?;
    Ok(paused)
}
