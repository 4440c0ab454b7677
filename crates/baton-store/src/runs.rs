//! Workflow runs (F5, F9): a ticket enrolled by a handoff goes through its workflow one
//! step at a time. Each step's effect and the saved cursor commit together, so a run
//! that a crash interrupted resumes where it stood and applies no action twice; a delay
//! is a `waiting` row with a wake-up time, which survives restarts.

use std::collections::BTreeMap;

use baton_core::decision::HandoffProcess;
use baton_core::ids::{ConversationId, InboxId, MessageId, TeamId, UserId, WorkflowId};
use baton_core::settings::{FieldError, UnassignedChat};
use baton_engine::StoreError;
use baton_engine::model::{Assignment, HandoffOutcome, HandoffPlan, Message};
use baton_routing::Strategy;
use baton_ticketing::Activity;
use baton_workflows::{Action, Cursor, Definition, Facts, Step, next};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::convert::micros;
use crate::entity::{conversation, inbox, message, ticket, user, workflow_run};
use crate::routing::{available_at, give, mode, release_capacity, take_capacity};
use crate::turns::{audit, handoff_record, locked, system_message};
use crate::{Result, backend};

/// Where a run stands after it advanced.
#[derive(Debug)]
pub(crate) enum Progress {
    /// Waiting for a delay, or not yet run.
    Waiting,
    /// Finished; `unassigned` is the message told to the visitor when nobody took it.
    Done { unassigned: Option<Message> },
}

/// A ticket to enrol, as the handoff transaction knows it.
pub(crate) struct Enrolment<'a> {
    pub(crate) workflow_id: WorkflowId,
    pub(crate) definition: &'a Definition,
    pub(crate) conversation_id: ConversationId,
    pub(crate) ticket_id: i64,
    pub(crate) process: HandoffProcess,
    pub(crate) unassigned_message: &'a str,
    pub(crate) close_if_unassigned: bool,
}

/// Enrols the ticket and runs the workflow as far as it goes now (up to a delay or the
/// end), inside the caller's transaction. `reply_to` is the visitor message a final
/// "unassigned" message answers.
pub(crate) async fn enrol(
    db: &impl ConnectionTrait,
    enrolment: Enrolment<'_>,
    reply_to: Option<MessageId>,
    now: DateTime<Utc>,
) -> Result<(Progress, Vec<Assignment>)> {
    let row = workflow_run::ActiveModel {
        workflow_id: Set(enrolment.workflow_id.0),
        conversation_id: Set(enrolment.conversation_id.0),
        ticket_id: Set(enrolment.ticket_id),
        definition: Set(to_json(enrolment.definition)?),
        cursor: Set(to_json(&Cursor::start())?),
        process: Set(enrolment.process.as_str().to_owned()),
        unassigned_message: Set(enrolment.unassigned_message.to_owned()),
        close_if_unassigned: Set(enrolment.close_if_unassigned),
        status: Set("running".to_owned()),
        wake_at: Set(None),
        created_at: Set(micros(now)),
        updated_at: Set(micros(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    advance(db, row, reply_to, now).await
}

/// Runs that are due: running, or waiting past their wake-up time. With `lock`, rows
/// another host is advancing are skipped.
pub(crate) async fn due_runs(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
    only: Option<i64>,
) -> Result<Vec<workflow_run::Model>> {
    let mut query = workflow_run::Entity::find();
    if let Some(id) = only {
        query = query.filter(workflow_run::Column::Id.eq(id));
    }
    query
        .filter(
            Condition::any()
                .add(workflow_run::Column::Status.eq("running"))
                .add(
                    Condition::all()
                        .add(workflow_run::Column::Status.eq("waiting"))
                        .add(workflow_run::Column::WakeAt.lte(micros(now))),
                ),
        )
        .order_by_asc(workflow_run::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
        .map_err(backend)
}

/// Runs `run` until it waits or ends. The conversation is locked first (lock order:
/// conversation, routing cursor, users).
pub(crate) async fn advance(
    db: &impl ConnectionTrait,
    run: workflow_run::Model,
    reply_to: Option<MessageId>,
    now: DateTime<Utc>,
) -> Result<(Progress, Vec<Assignment>)> {
    let conversation_id = ConversationId(run.conversation_id);
    let conversation = locked(db, conversation_id).await?;
    let mut assignments = Vec::new();
    // Closed, or given back to the customer agent (a handback ends the runs it can lock;
    // one being advanced at that moment ends here).
    if conversation.status != "open" || conversation.assignee_kind == "agent" {
        save(db, &run, None, "done", None, now).await?;
        return Ok((Progress::Done { unassigned: None }, assignments));
    }
    let definition: Definition = from_json(&run.definition, "definition")?;
    let mut cursor: Cursor = from_json(&run.cursor, "cursor")?;
    let process = crate::convert::process(&run.process)?;
    loop {
        let facts = facts(db, &run, now).await?;
        let (step, after) = next(&definition, &cursor, &facts);
        match step {
            Step::Do(action) => {
                apply(db, &run, process, &action, now, &mut assignments).await?;
                cursor = after;
            }
            Step::Wait { seconds } => {
                let wake = micros(now) + i64::try_from(seconds).unwrap_or(i64::MAX / 2) * 1_000_000;
                save(db, &run, Some(&after), "waiting", Some(wake), now).await?;
                return Ok((Progress::Waiting, assignments));
            }
            Step::Done => {
                save(db, &run, Some(&after), "done", None, now).await?;
                let unassigned = finish(db, &run, reply_to, now).await?;
                return Ok((Progress::Done { unassigned }, assignments));
            }
        }
    }
}

/// Ends the conversation's running and waiting runs (a handback or a reopen: the
/// workflow's handoff is over). Runs another transaction is advancing are skipped, not
/// waited for (lock order: runs before conversations there); `advance` ends those when
/// it finds the agent holding the conversation.
pub(crate) async fn end_runs(
    db: &impl ConnectionTrait,
    conversation_id: ConversationId,
    now: DateTime<Utc>,
) -> Result<u64> {
    let live = workflow_run::Entity::find()
        .filter(workflow_run::Column::ConversationId.eq(conversation_id.0))
        .filter(workflow_run::Column::Status.is_in(["running", "waiting"]))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
        .map_err(backend)?;
    for run in &live {
        save(db, run, None, "done", None, now).await?;
    }
    Ok(live.len() as u64)
}

async fn save(
    db: &impl ConnectionTrait,
    run: &workflow_run::Model,
    cursor: Option<&Cursor>,
    status: &str,
    wake_at: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut update = workflow_run::Entity::update_many()
        .col_expr(workflow_run::Column::Status, Expr::value(status))
        .col_expr(workflow_run::Column::WakeAt, Expr::value(wake_at))
        .col_expr(workflow_run::Column::UpdatedAt, Expr::value(micros(now)));
    if let Some(cursor) = cursor {
        update = update.col_expr(workflow_run::Column::Cursor, Expr::value(to_json(cursor)?));
    }
    update
        .filter(workflow_run::Column::Id.eq(run.id))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}

/// What the branches of a run may test, read when the branch is reached.
async fn facts(
    db: &impl ConnectionTrait,
    run: &workflow_run::Model,
    now: DateTime<Utc>,
) -> Result<Facts> {
    let ticket = ticket::Entity::find_by_id(run.ticket_id)
        .one(db)
        .await
        .map_err(backend)?;
    let properties: BTreeMap<String, String> = ticket
        .as_ref()
        .and_then(|t| serde_json::from_str(&t.properties).ok())
        .unwrap_or_default();
    let text = message::Entity::find()
        .filter(message::Column::ConversationId.eq(run.conversation_id))
        .filter(message::Column::Author.eq("visitor"))
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
        .map_err(backend)?
        .into_iter()
        .map(|m| m.text)
        .collect::<Vec<_>>()
        .join("\n");
    // "Within working hours": someone with a paid seat can answer now.
    let within_working_hours = user::Entity::find()
        .filter(user::Column::Seat.ne("none"))
        .all(db)
        .await
        .map_err(backend)?
        .iter()
        .any(|u| available_at(u, now));
    Ok(Facts {
        source_channel: ticket.map(|t| t.source_channel).unwrap_or_default(),
        properties,
        text,
        within_working_hours,
    })
}

async fn apply(
    db: &impl ConnectionTrait,
    run: &workflow_run::Model,
    process: HandoffProcess,
    action: &Action,
    now: DateTime<Utc>,
    assignments: &mut Vec<Assignment>,
) -> Result<()> {
    let conversation_id = ConversationId(run.conversation_id);
    let mut detail = json!({"run_id": run.id, "workflow_id": run.workflow_id});
    match action {
        Action::RotateOwner { user_ids, team_id } => {
            let teams: Vec<TeamId> = team_id.iter().copied().collect();
            let route = crate::routes::intern(db, user_ids, &teams, now).await?;
            let current = conversation::Entity::find_by_id(run.conversation_id)
                .one(db)
                .await
                .map_err(backend)?
                .filter(|c| c.assignee_kind == "user")
                .and_then(|c| c.assignee_user_id)
                .map(UserId);
            match take_capacity(
                db,
                route.id,
                current,
                mode(process),
                Strategy::RoundRobin,
                now,
            )
            .await?
            {
                Some(chosen) => {
                    if let Some(previous) = current {
                        release_capacity(db, previous).await?;
                    }
                    give(db, conversation_id, chosen.user_id, now).await?;
                    let rule = format!(
                        "workflow {} rotates the owner: {}",
                        run.workflow_id, chosen.rule
                    );
                    audit(
                        db,
                        now,
                        "assignment",
                        None,
                        Some(conversation_id),
                        json!({"assignee_user_id": chosen.user_id.0,
                               "from_user_id": current.map(|u| u.0), "rule": rule}),
                    )
                    .await?;
                    assignments.push(Assignment {
                        conversation_id,
                        user_id: chosen.user_id,
                        waited_seconds: 0.0,
                        rule,
                    });
                    detail["action"] = json!("rotate_owner");
                }
                None => {
                    detail["action"] = json!("rotate_owner");
                    detail["result"] = json!(format!(
                        "nobody eligible among {} candidate(s)",
                        route.members
                    ));
                }
            }
        }
        Action::AssignTeam { team_id } => {
            update_ticket(
                db,
                run.ticket_id,
                ticket::Column::TeamId,
                Some(team_id.0),
                now,
            )
            .await?;
            detail["action"] = json!("assign_team");
        }
        Action::SetPriority { priority } => {
            update_ticket(
                db,
                run.ticket_id,
                ticket::Column::Priority,
                priority.clone(),
                now,
            )
            .await?;
            detail["action"] = json!("set_priority");
        }
        Action::SetProperty { name, value } => {
            let mut properties: BTreeMap<String, String> =
                ticket::Entity::find_by_id(run.ticket_id)
                    .one(db)
                    .await
                    .map_err(backend)?
                    .and_then(|t| serde_json::from_str(&t.properties).ok())
                    .unwrap_or_default();
            properties.insert(name.clone(), value.clone());
            update_ticket(
                db,
                run.ticket_id,
                ticket::Column::Properties,
                to_json(&properties)?,
                now,
            )
            .await?;
            detail["action"] = json!("set_property");
        }
        Action::SendMessage { text } => {
            let conversation = locked(db, conversation_id).await?;
            system_message(db, &conversation, text, None, now).await?;
            detail["action"] = json!("send_message");
        }
        // `next` resolves these itself.
        Action::Delay { .. } | Action::Branch { .. } => return Ok(()),
    }
    audit(
        db,
        now,
        "workflow_step",
        None,
        Some(conversation_id),
        detail,
    )
    .await
}

async fn update_ticket<V: Into<sea_orm::Value>>(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    column: ticket::Column,
    value: V,
    now: DateTime<Utc>,
) -> Result<()> {
    ticket::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .col_expr(ticket::Column::UpdatedAt, Expr::value(micros(now)))
        .filter(ticket::Column::Id.eq(ticket_id))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}

/// The end of a run that left the ticket unassigned: the visitor is told (F7), and a live
/// chat closes when the settings say so (F8); otherwise it stays open in the Unassigned
/// view.
async fn finish(
    db: &impl ConnectionTrait,
    run: &workflow_run::Model,
    reply_to: Option<MessageId>,
    now: DateTime<Utc>,
) -> Result<Option<Message>> {
    let conversation_id = ConversationId(run.conversation_id);
    let conversation = locked(db, conversation_id).await?;
    if conversation.assignee_kind == "user" || conversation.status != "open" {
        return Ok(None);
    }
    let message = system_message(db, &conversation, &run.unassigned_message, reply_to, now).await?;
    if run.close_if_unassigned {
        conversation::Entity::update_many()
            .col_expr(conversation::Column::Status, Expr::value("closed"))
            .col_expr(conversation::Column::UpdatedAt, Expr::value(micros(now)))
            .filter(conversation::Column::Id.eq(run.conversation_id))
            .exec(db)
            .await
            .map_err(backend)?;
        crate::tickets::record(db, conversation_id, Activity::Closed, now).await?;
    }
    audit(
        db,
        now,
        "workflow_unassigned",
        None,
        Some(conversation_id),
        json!({"run_id": run.id, "closed": run.close_if_unassigned}),
    )
    .await?;
    Ok(Some(message))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Backend(format!("stored run {what}: {e}")))
}

/// A handoff whose destination is a workflow (F5): the conversation goes to the help
/// desk as a ticket, the ticket is enrolled, and the run goes as far as it can now. The
/// visitor is told `available` when the run assigned someone, `unassigned_by_workflow`
/// when it ended with nobody (F7), and `unavailable` while it waits on a delay.
pub(crate) async fn hand_off_to_workflow(
    db: &impl ConnectionTrait,
    row: &conversation::Model,
    plan: &HandoffPlan,
    workflow_id: WorkflowId,
    visitor_message: Option<MessageId>,
    now: DateTime<Utc>,
) -> Result<(Message, HandoffOutcome)> {
    let field = "destination.workflow_id";
    let desk = inbox::Entity::find()
        .filter(inbox::Column::Kind.eq("help_desk"))
        .order_by_asc(inbox::Column::Id)
        .one(db)
        .await
        .map_err(backend)?
        .ok_or_else(|| FieldError::new(field, "no help desk to put the ticket in"))?;
    let workflow = crate::workflows::get(db, workflow_id).await?;
    handoff_record(row.id, plan, desk.id, now)
        .col_expr(conversation::Column::AssigneeKind, Expr::value("none"))
        .col_expr(
            conversation::Column::AssigneeUserId,
            Expr::value(Option::<i64>::None),
        )
        // The workflow decides who takes it; the routing queue does not.
        .col_expr(conversation::Column::Queued, Expr::value(false))
        .exec(db)
        .await
        .map_err(backend)?;
    let ticket = crate::tickets::create_for_handoff(db, row, InboxId(desk.id), &[], now)
        .await?
        .ok_or_else(|| StoreError::Backend("a help desk handoff made no ticket".into()))?;
    let (progress, assignments) = enrol(
        db,
        Enrolment {
            workflow_id,
            definition: &workflow.definition,
            conversation_id: ConversationId(row.id),
            ticket_id: ticket.0,
            process: plan.process,
            unassigned_message: &plan.settings.messages.unassigned_by_workflow,
            close_if_unassigned: plan.process == HandoffProcess::Live
                && plan.settings.unassigned_chat == UnassignedChat::Close,
        },
        visitor_message,
        now,
    )
    .await?;
    let assignee = assignments.last().map(|a| a.user_id);
    let message = match progress {
        Progress::Done {
            unassigned: Some(message),
        } => message,
        _ => {
            let text = if assignee.is_some() {
                &plan.settings.messages.available
            } else {
                &plan.settings.messages.unavailable
            };
            let conversation = locked(db, ConversationId(row.id)).await?;
            system_message(db, &conversation, text, visitor_message, now).await?
        }
    };
    audit(
        db,
        now,
        "handoff",
        None,
        Some(ConversationId(row.id)),
        json!({
            "reason": {"kind": plan.trigger.kind(), "matched": plan.trigger.matched()},
            "process": plan.process.as_str(),
            "workflow_id": workflow_id.0,
            "ticket_id": ticket.0,
            "assignee_user_id": null,
            "rule": format!("enrolled in workflow {workflow_id}"),
            "explanation": plan.explanation,
            "settings_version": plan.settings_version,
        }),
    )
    .await?;
    Ok((
        message,
        HandoffOutcome {
            trigger_kind: plan.trigger.kind(),
            process: plan.process,
            assignment: assignments.into_iter().last(),
        },
    ))
}
