//! The pure domain of Baton: ids, handoff settings and their validation, trigger
//! matching, and the handoff policy `decide`.
//!
//! Nothing here does IO, reads a clock or spawns a task: callers pass `now` and
//! every fact the policy needs. That keeps the policy testable as a table.

pub mod decision;
pub mod hours;
pub mod ids;
pub mod people;
pub mod settings;
pub mod text;
