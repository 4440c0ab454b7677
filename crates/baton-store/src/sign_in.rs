//! Sign-in (B13): passwords, one-time set-password links and sessions. Tokens are stored
//! as their hashes only. Locks follow one order — the user row, then the user's links,
//! then the user's sessions — so concurrent sign-in changes cannot deadlock.

use baton_core::ids::UserId;
use baton_engine::StoreError;
use baton_engine::model::{Credentials, User};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::convert::{self, micros};
use crate::entity::{password_link, session, user};
use crate::people::{get_user, lock_user};
use crate::{Result, backend};

/// A session's last use is written at most this often (microseconds): a page's every
/// request need not write. Short idle times (tests, strict deployments) write more
/// often: a quarter of the idle time, so the record never lags the rule.
const SEEN_EVERY: i64 = 60_000_000;

fn link_not_found() -> StoreError {
    StoreError::NotFound {
        what: "set-password link",
        id: 0,
    }
}

/// The oldest user whose email is `email` in any case: `lower(email)` on both sides, so
/// the backend's own folding decides and the `users_email_lower` index serves it.
pub(crate) async fn credentials(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<Credentials>> {
    let Some(row) = user::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(Func::lower(email)))
        .order_by_asc(user::Column::Id)
        .one(db)
        .await
        .map_err(backend)?
    else {
        return Ok(None);
    };
    let password_hash = row.password_hash.clone();
    Ok(Some(Credentials {
        user: convert::user(row)?,
        password_hash,
    }))
}

/// Stores a link and retires the user's earlier unused ones.
pub(crate) async fn create_link(
    db: &impl ConnectionTrait,
    user: UserId,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    lock_user(db, user).await?;
    password_link::Entity::update_many()
        .col_expr(password_link::Column::UsedAt, Expr::value(micros(now)))
        .filter(password_link::Column::UserId.eq(user.0))
        .filter(password_link::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map_err(backend)?;
    password_link::ActiveModel {
        user_id: Set(user.0),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(micros(now)),
        expires_at: Set(micros(expires_at)),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The link by its token's hash, whatever its state.
async fn link(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<password_link::Model>> {
    password_link::Entity::find()
        .filter(password_link::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
        .map_err(backend)
}

pub(crate) async fn link_user(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    match link(db, token_hash).await? {
        Some(link) if link.used_at.is_none() && micros(now) < link.expires_at => {
            match user::Entity::find_by_id(link.user_id)
                .one(db)
                .await
                .map_err(backend)?
            {
                Some(row) => convert::user(row).map(Some),
                None => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// Uses up a link and sets the password. The conditional update decides: of two
/// concurrent redeems, the second finds the link used (PostgreSQL re-checks the
/// condition on the row the first committed) and loses.
pub(crate) async fn redeem_link(
    db: &impl ConnectionTrait,
    token_hash: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<User> {
    let link = link(db, token_hash).await?.ok_or_else(link_not_found)?;
    let user = UserId(link.user_id);
    lock_user(db, user).await?;
    let used = password_link::Entity::update_many()
        .col_expr(password_link::Column::UsedAt, Expr::value(micros(now)))
        .filter(password_link::Column::TokenHash.eq(token_hash))
        .filter(password_link::Column::UsedAt.is_null())
        .filter(password_link::Column::ExpiresAt.gt(micros(now)))
        .exec(db)
        .await
        .map_err(backend)?
        .rows_affected;
    if used != 1 {
        return Err(link_not_found());
    }
    set_password(db, user, password_hash).await?;
    revoke_sessions(db, user, None, now).await?;
    get_user(db, user).await
}

async fn set_password(db: &impl ConnectionTrait, user: UserId, password_hash: &str) -> Result<()> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .filter(user::Column::Id.eq(user.0))
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Revokes the user's live sessions, all but `keep` (a session's token hash) if given.
async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user: UserId,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(micros(now)))
        .filter(session::Column::UserId.eq(user.0))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::TokenHash.ne(keep));
    }
    update.exec(db).await.map_err(backend)?;
    Ok(())
}

pub(crate) async fn change_password(
    db: &impl ConnectionTrait,
    user: UserId,
    password_hash: &str,
    keep_session: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    lock_user(db, user).await?;
    set_password(db, user, password_hash).await?;
    revoke_sessions(db, user, keep_session, now).await
}

pub(crate) async fn create_session(
    db: &impl ConnectionTrait,
    user: UserId,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::people::user_row(db, user).await?;
    session::ActiveModel {
        user_id: Set(user.0),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(micros(now)),
        last_seen_at: Set(micros(now)),
        expires_at: Set(micros(expires_at)),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The user of a live session; records the use when the last one is over a minute old.
pub(crate) async fn session_user(
    db: &impl ConnectionTrait,
    token_hash: &str,
    idle: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    let Some(row) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
        .map_err(backend)?
    else {
        return Ok(None);
    };
    let now = micros(now);
    let idle = i64::try_from(idle.as_micros()).unwrap_or(i64::MAX);
    let since_seen = now.saturating_sub(row.last_seen_at);
    if row.revoked_at.is_some() || now >= row.expires_at || since_seen > idle {
        return Ok(None);
    }
    if since_seen > Ord::min(SEEN_EVERY, idle / 4) {
        // Conditional: a sign-out that committed meanwhile is not undone.
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(row.id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(db)
            .await
            .map_err(backend)?;
    }
    match user::Entity::find_by_id(row.user_id)
        .one(db)
        .await
        .map_err(backend)?
    {
        Some(user) => convert::user(user).map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn revoke_session(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(micros(now)))
        .filter(session::Column::TokenHash.eq(token_hash))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(backend)?;
    Ok(())
}
