//! Who a request is: the `Staff` extractor of the API and the sign-in state the console
//! shares with it.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use baton_core::people::Permission;
use baton_engine::Engine;
use baton_engine::model::User;
use baton_http::{ApiError, bearer, hash_token};
use chrono::Utc;

use crate::limit::SignInLimiter;
use crate::origin;
use crate::password::Cost;
use crate::session::{self, SessionConfig};

/// What authentication needs, shared by every surface that authenticates staff.
#[derive(Debug, Clone)]
pub struct AuthState {
    pub engine: Engine,
    pub sessions: SessionConfig,
    pub limiter: Arc<SignInLimiter>,
    /// argon2 parameters of new passwords.
    pub cost: Cost,
}

impl AuthState {
    pub fn new(engine: Engine) -> Self {
        AuthState {
            engine,
            sessions: SessionConfig::default(),
            limiter: Arc::new(SignInLimiter::default()),
            cost: crate::password::COST,
        }
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer` with a staff token.
    Token,
    /// The session cookie; the hash of its token.
    Session { token_hash: String },
}

/// Why a request is not a staff member's.
#[derive(Debug)]
pub enum AuthFailure {
    /// Neither a bearer token nor a session cookie.
    Missing,
    /// A token nobody has (or a visitor's).
    InvalidToken,
    /// A session that is unknown, revoked or expired.
    SessionOver,
    /// A state-changing request with the cookie from somewhere else.
    Forgery(origin::Refusal),
    Store(baton_engine::StoreError),
}

impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> Self {
        match failure {
            AuthFailure::Missing => ApiError::Unauthorized(
                "missing_token",
                "send a staff token as `Authorization: Bearer <token>`, or sign in".into(),
            ),
            AuthFailure::InvalidToken => ApiError::Unauthorized(
                "invalid_token",
                "the token is unknown or was revoked".into(),
            ),
            AuthFailure::SessionOver => ApiError::Unauthorized(
                "session_expired",
                "the session is over (signed out, expired or revoked): sign in again".into(),
            ),
            AuthFailure::Forgery(refusal) => ApiError::forbidden(refusal.to_string()),
            AuthFailure::Store(error) => error.into(),
        }
    }
}

/// The staff user of a request: a bearer token first (API clients), else the session
/// cookie, which must also pass the origin check when the request changes state.
pub async fn authenticate(
    parts: &Parts,
    auth: &AuthState,
) -> Result<(User, Credential), AuthFailure> {
    let store = auth.engine.store();
    if let Some(token) = bearer(&parts.headers) {
        return match store.user_by_token(&hash_token(token)).await {
            Ok(Some(user)) => Ok((user, Credential::Token)),
            Ok(None) => Err(AuthFailure::InvalidToken),
            Err(error) => Err(AuthFailure::Store(error)),
        };
    }
    let Some(token) = session::token(&parts.headers) else {
        return Err(AuthFailure::Missing);
    };
    if origin::changes_state(&parts.method) {
        origin::check(&parts.headers).map_err(AuthFailure::Forgery)?;
    }
    let token_hash = hash_token(token);
    match store
        .session_user(&token_hash, auth.sessions.idle, Utc::now())
        .await
    {
        Ok(Some(user)) => Ok((user, Credential::Session { token_hash })),
        Ok(None) => Err(AuthFailure::SessionOver),
        Err(error) => Err(AuthFailure::Store(error)),
    }
}

/// The authenticated staff user of an API request.
#[derive(Debug, Clone)]
pub struct Staff(pub User);

impl Staff {
    /// 403 unless the user has `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.0.has(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the \"{}\" permission",
                permission.as_str()
            )))
        }
    }

    /// 403 unless the user has a paid seat: only they hold and answer conversations.
    pub fn require_paid_seat(&self) -> Result<(), ApiError> {
        if self.0.seat.is_paid() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "holding or answering a conversation needs a paid (sales or service) seat",
            ))
        }
    }

    /// 403 unless the user acts on themselves or is an admin.
    pub fn require_self_or_admin(&self, user: i64) -> Result<(), ApiError> {
        if self.0.id.0 == user || self.0.has(Permission::Admin) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only the user themselves or an admin can do this",
            ))
        }
    }
}

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
    AuthState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let auth = AuthState::from_ref(state);
        let (user, _) = authenticate(parts, &auth).await?;
        Ok(Staff(user))
    }
}
