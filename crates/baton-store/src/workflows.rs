//! Workflow definitions: validated against the users and teams that exist, in the same
//! transaction as the write.

use baton_core::ids::{TeamId, UserId, WorkflowId};
use baton_core::people::Seat;
use baton_engine::StoreError;
use baton_engine::model::Workflow;
use baton_workflows::{Definition, Directory};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, Set};

use crate::convert::{micros, time};
use crate::entity::{team, user, workflow};
use crate::{Result, backend};

async fn directory(db: &impl ConnectionTrait) -> Result<Directory> {
    let users = user::Entity::find().all(db).await.map_err(backend)?;
    let teams = team::Entity::find().all(db).await.map_err(backend)?;
    Ok(Directory {
        users: users
            .into_iter()
            .map(|u| {
                (
                    UserId(u.id),
                    u.seat.parse::<Seat>().is_ok_and(Seat::is_paid),
                )
            })
            .collect(),
        teams: teams.into_iter().map(|t| TeamId(t.id)).collect(),
    })
}

fn to_text(definition: &Definition) -> Result<String> {
    serde_json::to_string(definition)
        .map_err(|e| StoreError::Backend(format!("workflow does not serialize: {e}")))
}

fn convert(row: workflow::Model) -> Result<Workflow> {
    Ok(Workflow {
        id: WorkflowId(row.id),
        definition: serde_json::from_str(&row.definition).map_err(|e| {
            StoreError::Backend(format!("stored workflow {} does not parse: {e}", row.id))
        })?,
        created_at: time(row.created_at),
        updated_at: time(row.updated_at),
    })
}

pub(crate) async fn create(
    db: &impl ConnectionTrait,
    definition: Definition,
    now: DateTime<Utc>,
) -> Result<Workflow> {
    definition.validate(&directory(db).await?)?;
    let row = workflow::ActiveModel {
        definition: Set(to_text(&definition)?),
        created_at: Set(micros(now)),
        updated_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    convert(row)
}

pub(crate) async fn update(
    db: &impl ConnectionTrait,
    id: WorkflowId,
    definition: Definition,
    now: DateTime<Utc>,
) -> Result<Workflow> {
    let existing = get_row(db, id).await?;
    definition.validate(&directory(db).await?)?;
    let row = workflow::ActiveModel {
        id: Set(existing.id),
        definition: Set(to_text(&definition)?),
        created_at: Set(existing.created_at),
        updated_at: Set(micros(now)),
    }
    .update(db)
    .await
    .map_err(backend)?;
    convert(row)
}

async fn get_row(db: &impl ConnectionTrait, id: WorkflowId) -> Result<workflow::Model> {
    workflow::Entity::find_by_id(id.0)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NotFound {
            what: "workflow",
            id: id.0,
        })
}

pub(crate) async fn get(db: &impl ConnectionTrait, id: WorkflowId) -> Result<Workflow> {
    convert(get_row(db, id).await?)
}

pub(crate) async fn list(db: &impl ConnectionTrait) -> Result<Vec<Workflow>> {
    workflow::Entity::find()
        .order_by_asc(workflow::Column::Id)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(convert)
        .collect()
}
