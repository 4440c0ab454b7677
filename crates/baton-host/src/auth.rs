//! Staff authentication: `Authorization: Bearer <token>`, looked up by hash.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use baton_core::people::Permission;
use baton_engine::model::User;
use baton_http::{ApiError, bearer, hash_token};

use crate::app::AppState;

/// The authenticated staff user of a request.
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

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer(&parts.headers) else {
            return Err(ApiError::Unauthorized(
                "missing_token",
                "send a staff token as `Authorization: Bearer <token>`".into(),
            ));
        };
        match state
            .engine
            .store()
            .user_by_token(&hash_token(token))
            .await?
        {
            Some(user) => Ok(Staff(user)),
            None => Err(ApiError::Unauthorized(
                "invalid_token",
                "the token is unknown or was revoked".into(),
            )),
        }
    }
}
