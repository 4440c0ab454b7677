//! `ApiJson<T>`: like `axum::Json`, but its rejections speak the API's error shape and a
//! value of the wrong type names its field (`destination.user_ids[0]`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::strict::Strict;

#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(
                    None,
                    format!(
                        "the request body is larger than {} bytes",
                        crate::MAX_BODY_BYTES
                    ),
                )
            } else {
                ApiError::Malformed(rejection.body_text())
            }
        })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(Strict(&mut deserializer)) {
            Ok(value) => {
                // Characters after the value: not JSON, as `serde_json::from_slice` says.
                deserializer.end().map_err(|error| {
                    ApiError::Malformed(format!("the body is not valid JSON: {error}"))
                })?;
                Ok(ApiJson(value))
            }
            Err(error) => {
                let path = error.path().to_string();
                let inner = error.into_inner();
                if inner.is_data() {
                    // serde reports a missing field at the parent's path; name the field.
                    let message = inner.to_string();
                    let field = match (path.as_str(), missing_field(&message)) {
                        (".", Some(name)) => name.to_owned(),
                        (parent, Some(name)) => format!("{parent}.{name}"),
                        (path, None) => path.to_owned(),
                    };
                    Err(ApiError::invalid(field, strip_position(&message)))
                } else {
                    Err(ApiError::Malformed(format!(
                        "the body is not valid JSON: {inner}"
                    )))
                }
            }
        }
    }
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
