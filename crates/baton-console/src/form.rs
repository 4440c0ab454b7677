//! Form bodies (`application/x-www-form-urlencoded`) as ordered pairs: repeated names
//! (`trigger=a&trigger=b`) stay in order, which serde's form extractor cannot give.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

use crate::page::error_page;

#[derive(Debug, Default, Clone)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// The first value of `name`, or "".
    pub(crate) fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// Every value of `name`, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.len() > baton_http::MAX_BODY_BYTES {
            return Err(error_page(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large.",
            ));
        }
        Ok(Form {
            pairs: form_urlencoded::parse(&bytes).into_owned().collect(),
        })
    }
}
