//! Ticket-based workflows (F9): definitions — an enrolment trigger and a list of actions,
//! with if/else branches on conditions — their validation, and the shipped templates.
//!
//! Pure: definitions are data (serde, stored as JSON and edited through the API);
//! conditions are evaluated against [`Facts`] the caller gathers. Running a workflow —
//! durable steps, delays, owners chosen under the routing rule — belongs to the engine
//! and the store.

mod condition;
mod definition;
mod run;
mod template;

pub use condition::{Condition, Facts};
pub use definition::{Action, Arm, Definition, Directory, Enrollment, ObjectType};
pub use run::{Cursor, Step, next};
pub use template::{TEMPLATES, Template, template};
