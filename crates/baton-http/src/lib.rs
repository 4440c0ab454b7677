//! HTTP glue shared by every API surface of Baton (admin API, web chat, webhooks): the
//! one error shape `{"error": {"code", "message", "field"?}}`, a JSON extractor that
//! names the offending field, and bearer tokens (random, stored only as hashes).

mod error;
mod json;
mod params;
mod strict;
mod token;

pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use json::ApiJson;
pub use params::{ApiPath, ApiQuery};
pub use token::{bearer, hash_token, new_token};

/// Largest request body accepted anywhere.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest message text.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
