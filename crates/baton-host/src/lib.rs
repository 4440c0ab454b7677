//! The `baton` server: configuration, wiring of store, agent, engine and channels, the
//! staff HTTP API, metrics and the OpenAPI document. The only crate that knows all the
//! others.

pub mod api;
pub mod app;
pub mod auth;
pub mod catalog;
pub mod client_addr;
pub mod config;
pub mod journal;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod plugins;
pub mod server;
pub mod start;
pub mod templates;
pub mod webhooks;
