//! The API error: one enum, one JSON shape, one status per kind. Internal errors are
//! logged with their cause and answered with a generic sentence.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baton_core::settings::FieldError;
use baton_engine::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum ApiError {
    /// 400: the body is not JSON (or not the JSON of an object).
    Malformed(String),
    /// 401: no token, or a token nobody has.
    Unauthorized(&'static str, String),
    /// 403: authenticated, not allowed.
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409: conflicts with the current state.
    Conflict(String),
    /// 413: body or field too large; names the field when there is one.
    TooLarge(Option<String>, String),
    /// 422: a value is invalid; names the field.
    Invalid(FieldError),
    /// 500: logged, not shown.
    Internal(String),
    /// 503: a part the request needs is out of service (a disabled plugin).
    Unavailable(String),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// The JSON path of the offending field, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid(FieldError::new(field, message))
    }

    /// The same error with its field put under `parent` (`settings.destination`), for
    /// a document nested in a request.
    pub fn under(self, parent: &str) -> Self {
        match self {
            ApiError::Invalid(e) => {
                ApiError::Invalid(FieldError::new(format!("{parent}.{}", e.field), e.message))
            }
            ApiError::TooLarge(Some(field), m) => {
                ApiError::TooLarge(Some(format!("{parent}.{field}")), m)
            }
            other => other,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(message.into())
    }

    fn parts(self) -> (StatusCode, &'static str, String, Option<String>) {
        match self {
            ApiError::Malformed(m) => (StatusCode::BAD_REQUEST, "malformed_json", m, None),
            ApiError::Unauthorized(code, m) => (StatusCode::UNAUTHORIZED, code, m, None),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m, None),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m, None),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m, None),
            ApiError::TooLarge(field, m) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m, field)
            }
            ApiError::Invalid(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_value",
                e.message,
                Some(e.field),
            ),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m, None),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server failed; the cause is in its log".into(),
                    None,
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = self.parts();
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                field,
            },
        };
        (status, Json(body)).into_response()
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Invalid(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid(e) => ApiError::Invalid(e),
            e @ StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Backend(cause) => ApiError::Internal(cause),
        }
    }
}
