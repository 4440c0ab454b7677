//! stub
use std::ops::Range;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanRequest {
    pub span: Range<usize>,
    pub language: Language,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Italian,
}
pub fn detect_human_request(_text: &str) -> Option<HumanRequest> {
    None
}
