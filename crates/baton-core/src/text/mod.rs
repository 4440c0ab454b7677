//! Text matching for handoff triggers: custom trigger phrases (F3), the built-in
//! "asks for a human" detector (F2b) and `frustrated` detector (B17), all case-, accent-
//! and inflection-tolerant, the detectors in English, Italian, Spanish, French and German
//! (B3); and small talk (greetings, thanks, closings), which is never "cannot answer".
//!
//! Everything here is pure and allocation-light: a [`PhraseMatcher`] is compiled once
//! per settings version and then shared read-only; [`detect_human_request`] is a plain
//! function over the message text.
//!
//! Files: `normalize` (segmentation and folding, shared), `stem` (Snowball stems and
//! their prefix keys), `phrases` (the matcher), `prefilter` (its word-level fast path),
//! `human/` (the detector: `engine` plus one lexicon per language), `frustration/` and
//! `smalltalk/` (each a matcher plus its word lists).

mod frustration;
mod human;
mod normalize;
mod phrases;
mod prefilter;
mod smalltalk;
mod stem;

pub use frustration::{Frustration, detect_frustration};
pub use human::{HumanRequest, Language, detect_human_request};
pub use phrases::{PhraseMatch, PhraseMatcher};
pub use smalltalk::{SmallTalk, SmallTalkKind, detect_small_talk};
