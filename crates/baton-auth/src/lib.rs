//! Staff authentication, shared by the JSON API and the console pages.
//!
//! A request is a staff member's when it carries a staff bearer token (API clients) or a
//! live session cookie (browsers). A cookie is ambient — the browser sends it with
//! requests other sites start — so every state-changing request it authenticates must
//! also pass the origin check ([`origin`]). Passwords are argon2id PHC strings, hashed
//! and verified on the blocking pool ([`password`]); sign-in failures are limited per
//! account and per client address ([`limit`]).
//!
//! Invariants: a session token and a password never reach the database in clear; a
//! visitor token never authenticates staff (it lives in another table); nothing here
//! decides what a user may do beyond "who is this".

pub mod limit;
pub mod origin;
pub mod password;
pub mod session;
mod staff;

pub use limit::{Limited, SignInLimiter, SlidingWindow};
pub use session::{SESSION_COOKIE, SessionConfig};
pub use staff::{AuthFailure, AuthState, Credential, Staff, authenticate};
