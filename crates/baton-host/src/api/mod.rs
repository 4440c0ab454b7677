//! The staff-side HTTP API, one module per section of `API.md`.

pub mod channels;
pub mod conversations;
pub mod events;
pub mod ops;
pub mod people;
pub mod plugins;
pub mod settings;
pub mod webhooks;
pub mod workflows;
