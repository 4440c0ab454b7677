//! Text matching for handoff triggers: custom trigger phrases (F3) and the built-in
//! "asks for a human" detector (F2b), both case-, accent- and inflection-tolerant and
//! bilingual English/Italian (B3).
//!
//! Everything here is pure and allocation-light: a [`PhraseMatcher`] is compiled once
//! per settings version and then shared read-only; [`detect_human_request`] is a plain
//! function over the message text.
//!
//! Files: `normalize` (segmentation and folding, shared), `stem` (Snowball stems and
//! their prefix keys), `phrases` (the matcher), `prefilter` (its word-level fast path),
//! `human/` (the detector: `engine` plus one lexicon per language).

mod human;
mod normalize;
mod phrases;
mod prefilter;
mod stem;

pub use human::{HumanRequest, Language, detect_human_request};
pub use phrases::{PhraseMatch, PhraseMatcher};
