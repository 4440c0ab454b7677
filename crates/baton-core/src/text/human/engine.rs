//! The detector's matching engine: frames over folded words, noun phrases naming a
//! human, negation scope and whole-clause short forms. The words themselves live in the
//! per-language lexicons.
//!
//! Every word list entry may span several words ("would like", "in carne e ossa",
//! "c e"); it then matches that many consecutive words. Nothing matches across a clause
//! boundary (see [`super::super::normalize::Word::clause_start`]).

use std::collections::HashSet;
use std::ops::Range;
use std::sync::OnceLock;

use super::Language;
use crate::text::normalize::Tokens;

/// How surely a noun phrase names a human someone could talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Certainty {
    /// "someone", "anyone", "support", "qualcuno": a human only in a talk-like frame.
    Weak,
    /// "person", "agent", "manager", "persona", "agente": a human, but often not the
    /// one the visitor wants to reach ("the agent who called me").
    Plain,
    /// "human", "operator", "representative", "customer service", "operatore", or any
    /// noun qualified as real ("a real person", "una persona vera").
    Sure,
}

/// What a frame requires of the noun phrase it ends with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Need {
    /// Weak nouns are accepted ("talk to someone").
    pub(super) weak: bool,
    /// Whether the phrase must end its clause or be followed by one of the lexicon's
    /// `followers`.
    pub(super) follower: Follower,
    /// Below [`Certainty::Sure`], the phrase needs a determiner ("contact the person"
    /// but not "the contact person").
    pub(super) determiner: bool,
}

/// See [`Need::follower`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Follower {
    Never,
    /// Below [`Certainty::Sure`]: "I need a person" but not "I need a person to sign".
    UnlessSure,
    /// Always: "c'è un operatore?" but not "c'è un operatore che ha sbagliato".
    Always,
}

/// Talking to, or being transferred to, anyone human: the frame says it all.
#[rustfmt::skip]
pub(super) const TALK: Need = Need { weak: true, follower: Follower::Never, determiner: false };
/// Wanting or getting someone: only clear nouns, or nouns ending the request.
#[rustfmt::skip]
pub(super) const WANT: Need =
    Need { weak: false, follower: Follower::UnlessSure, determiner: false };
/// "Is there …": anyone, but the question must be about the human itself, not describe
/// one ("there is an operator who …").
#[rustfmt::skip]
pub(super) const EXIST: Need = Need { weak: true, follower: Follower::Always, determiner: false };
/// A human as the subject of a helping verb.
#[rustfmt::skip]
pub(super) const SUBJECT: Need = Need { weak: false, follower: Follower::Never, determiner: false };
/// Calling or contacting someone.
#[rustfmt::skip]
pub(super) const CONTACT: Need = Need { weak: true, follower: Follower::Never, determiner: true };

/// One element of a frame.
#[derive(Debug, Clone, Copy)]
pub(super) enum Slot {
    /// One entry of the list.
    One(&'static [&'static str]),
    /// One entry of the list, or nothing.
    Maybe(&'static [&'static str]),
    /// A noun phrase naming a human.
    Human(Need),
    /// An optional prepositional phrase after a noun ("someone *from your team*").
    Attachment,
    /// The end of the clause: "einen Mitarbeiter sprechen" asks for one, "die
    /// Mitarbeiter sprechen Englisch" does not.
    End,
}

/// A frame: a sequence of slots that makes a request where it matches.
#[derive(Debug)]
pub(super) struct Frame {
    /// Names the frame in tests and in `Debug` output.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) name: &'static str,
    pub(super) slots: &'static [Slot],
}

/// Everything the engine needs to know about one language.
#[derive(Debug)]
pub(super) struct Lexicon {
    pub(super) language: Language,
    pub(super) frames: &'static [Frame],
    pub(super) determiners: &'static [&'static str],
    /// Before a noun, making it [`Certainty::Sure`]: "real", "live", "vero".
    pub(super) qualifiers_before: &'static [&'static str],
    /// After a noun, making it [`Certainty::Sure`]: "umano", "in carne e ossa".
    pub(super) qualifiers_after: &'static [&'static str],
    /// Neutral words before a noun: "customer", "support", "altro".
    pub(super) modifiers: &'static [&'static str],
    /// Nouns and compounds naming a human. Consecutive nouns form one compound ("human
    /// agent", "customer service team") as sure as its surest part.
    pub(super) nouns: &'static [(&'static str, Certainty)],
    /// After a noun, showing it is not a person to talk to: "resources" after "human",
    /// "immobiliare" after "agente".
    pub(super) blockers: &'static [&'static str],
    /// Words starting an attachment, and words it may contain.
    pub(super) attachment_starts: &'static [&'static str],
    pub(super) attachment_words: &'static [&'static str],
    /// What may follow a noun phrase that needs a follower (see [`Follower`]).
    pub(super) followers: &'static [&'static str],
    /// Words opening a relative clause: a noun phrase ending its clause does not count as
    /// followed when the next clause starts with one ("eine Person, die das Paket
    /// annimmt"), unless a follower starts there ("jemanden, der mir helfen kann").
    pub(super) relatives: &'static [&'static str],
    /// Politeness and urgency around a bare noun phrase: "please", "per favore", "now".
    pub(super) fillers: &'static [&'static str],
    pub(super) negators: &'static [&'static str],
    /// Words a negation reaches a frame through: "don't *want to* talk".
    pub(super) negation_path: &'static [&'static str],
    /// Every word a frame or a short form can start with, computed on first use: most
    /// words of a message start nothing, and checking one set is far cheaper than
    /// trying every frame there (see [`Lexicon::could_start`]).
    pub(super) starts: OnceLock<HashSet<&'static str>>,
}

/// The leftmost request in `tokens`: its word range and the lexicon that found it.
pub(super) fn find<'l>(
    tokens: &Tokens,
    lexicons: &[&'l Lexicon],
) -> Option<(Range<usize>, &'l Lexicon)> {
    for start in 0..tokens.len() {
        let word = tokens.word(start);
        for &lexicon in lexicons {
            if !lexicon.could_start(word) {
                continue;
            }
            if let Some(end) = lexicon.short_form(tokens, start) {
                return Some((start..end, lexicon));
            }
            for frame in lexicon.frames {
                if let Some(end) = lexicon.slots(tokens, frame.slots, start, true)
                    && !lexicon.negated(tokens, start)
                {
                    return Some((start..end, lexicon));
                }
            }
        }
    }
    None
}

/// Which frame fires first in `text`, for tests.
#[cfg(test)]
pub(super) fn frame_name(text: &str, lexicon: &Lexicon) -> Option<&'static str> {
    let tokens = Tokens::new(text);
    for start in 0..tokens.len() {
        if lexicon.short_form(&tokens, start).is_some() {
            return Some("short form");
        }
        for frame in lexicon.frames {
            if lexicon.slots(&tokens, frame.slots, start, true).is_some()
                && !lexicon.negated(&tokens, start)
            {
                return Some(frame.name);
            }
        }
    }
    None
}

/// A noun phrase found by [`Lexicon::human`].
struct Phrase {
    end: usize,
    certainty: Certainty,
    determiner: bool,
}

impl Lexicon {
    /// Whether some frame or short form may start with `word`: the first word of an entry
    /// of each slot up to and including the first one that cannot be skipped.
    fn could_start(&self, word: &str) -> bool {
        self.starts
            .get_or_init(|| {
                let mut starts = HashSet::new();
                let mut add = |entries: &[&'static str]| {
                    starts.extend(entries.iter().filter_map(|e| e.split(' ').next()));
                };
                let human: [&[&'static str]; 3] =
                    [self.determiners, self.qualifiers_before, self.modifiers];
                for list in human {
                    add(list);
                }
                let nouns: Vec<&'static str> = self.nouns.iter().map(|(n, _)| *n).collect();
                add(&nouns);
                add(self.fillers);
                for frame in self.frames {
                    for slot in frame.slots {
                        match *slot {
                            Slot::One(entries) => {
                                add(entries);
                                break;
                            }
                            Slot::Maybe(entries) => add(entries),
                            // Already added: a noun phrase starts as the lists above.
                            Slot::Human(_) => break,
                            Slot::Attachment => add(self.attachment_starts),
                            Slot::End => break,
                        }
                    }
                }
                starts
            })
            .contains(word)
    }

    /// Matches `slots` from word `at`; the end of the match. `first` is true when `at`
    /// starts the frame, the only word allowed to start a clause.
    fn slots(&self, tokens: &Tokens, slots: &[Slot], at: usize, first: bool) -> Option<usize> {
        let Some((slot, rest)) = slots.split_first() else {
            return Some(at);
        };
        match *slot {
            Slot::One(entries) => entries.iter().find_map(|entry| {
                let end = phrase_at(tokens, at, entry, first)?;
                self.slots(tokens, rest, end, false)
            }),
            Slot::Maybe(entries) => entries
                .iter()
                .find_map(|entry| {
                    let end = phrase_at(tokens, at, entry, first)?;
                    self.slots(tokens, rest, end, false)
                })
                .or_else(|| self.slots(tokens, rest, at, first)),
            Slot::Human(need) => {
                let phrase = self.human(tokens, at, first)?;
                self.accepts(tokens, &phrase, need)
                    .then(|| self.slots(tokens, rest, phrase.end, false))?
            }
            Slot::Attachment => {
                let skipped = self
                    .attachment(tokens, at)
                    .and_then(|end| self.slots(tokens, rest, end, false));
                skipped.or_else(|| self.slots(tokens, rest, at, first))
            }
            Slot::End => {
                let ends = tokens.words.get(at).is_none_or(|w| w.clause_start);
                ends.then(|| self.slots(tokens, rest, at, false))?
            }
        }
    }

    /// A noun phrase naming a human at word `at`: determiners, qualifiers and modifiers,
    /// one or more nouns, qualifiers after; `None` if a blocker follows.
    fn human(&self, tokens: &Tokens, at: usize, first: bool) -> Option<Phrase> {
        let mut i = at;
        let mut determiner = false;
        let mut qualified = false;
        let mut certainty = None;
        let mut first_word = first;
        // Determiners and adjectives come first; a word that can also be a noun ("human")
        // is taken as a noun when it is one.
        loop {
            if let Some((end, sure)) = self.noun(tokens, i, first_word) {
                certainty = certainty.max(Some(sure));
                // "human" before another noun qualifies it: "human agent".
                if self
                    .qualifiers_before
                    .iter()
                    .any(|q| phrase_at(tokens, i, q, first_word).is_some())
                {
                    qualified |= self.noun(tokens, end, false).is_some();
                }
                i = end;
            } else if certainty.is_some() {
                break;
            } else if let Some(end) = any_at(tokens, i, self.determiners, first_word) {
                determiner = true;
                i = end;
            } else if let Some(end) = any_at(tokens, i, self.qualifiers_before, first_word) {
                qualified = true;
                i = end;
            } else if let Some(end) = any_at(tokens, i, self.modifiers, first_word) {
                i = end;
            } else {
                return None;
            }
            first_word = false;
        }
        loop {
            if let Some(end) = any_at(tokens, i, self.qualifiers_after, false) {
                qualified = true;
                i = end;
            } else if any_at(tokens, i, self.blockers, false).is_some() {
                return None;
            } else {
                break;
            }
        }
        let certainty = if qualified {
            Certainty::Sure
        } else {
            certainty?
        };
        Some(Phrase {
            end: i,
            certainty,
            determiner,
        })
    }

    /// The longest noun entry at word `at`: its end and certainty.
    fn noun(&self, tokens: &Tokens, at: usize, first: bool) -> Option<(usize, Certainty)> {
        self.nouns
            .iter()
            .filter_map(|(noun, certainty)| Some((phrase_at(tokens, at, noun, first)?, *certainty)))
            .max_by_key(|(end, _)| *end)
    }

    fn accepts(&self, tokens: &Tokens, phrase: &Phrase, need: Need) -> bool {
        let sure = phrase.certainty == Certainty::Sure;
        let follows = match need.follower {
            Follower::Never => true,
            Follower::UnlessSure if sure => true,
            Follower::UnlessSure | Follower::Always => self.followed(tokens, phrase.end),
        };
        follows
            && (sure || need.weak || phrase.certainty != Certainty::Weak)
            && (sure || !need.determiner || phrase.determiner)
    }

    /// Whether the words from `at` end the clause or start with a follower.
    fn followed(&self, tokens: &Tokens, at: usize) -> bool {
        match tokens.words.get(at) {
            None => true,
            Some(w) if w.clause_start => {
                any_at(tokens, at, self.relatives, true).is_none()
                    || any_at(tokens, at, self.followers, true).is_some()
            }
            Some(_) => any_at(tokens, at, self.followers, false).is_some(),
        }
    }

    /// "from your support team", "del servizio clienti": the end of the attachment.
    fn attachment(&self, tokens: &Tokens, at: usize) -> Option<usize> {
        let mut i = any_at(tokens, at, self.attachment_starts, false)?;
        let start = i;
        while i < start + 3 {
            match any_at(tokens, i, self.attachment_words, false) {
                Some(end) => i = end,
                None => break,
            }
        }
        (i > start).then_some(i)
    }

    /// A clause that is only a noun phrase (sure or plain) and fillers, starting at word
    /// `at`: "Human please", "Un operatore subito, per favore". The end of the clause.
    fn short_form(&self, tokens: &Tokens, at: usize) -> Option<usize> {
        if !tokens.words.get(at)?.clause_start {
            return None;
        }
        let mut i = at;
        let mut first = true;
        let mut phrase = None;
        while tokens
            .words
            .get(i)
            .is_some_and(|w| first || !w.clause_start)
        {
            if let Some(end) = any_at(tokens, i, self.fillers, first) {
                i = end;
            } else if phrase.is_none() {
                let found = self.human(tokens, i, first)?;
                if found.certainty == Certainty::Weak {
                    return None;
                }
                i = found.end;
                phrase = Some(found);
            } else {
                return None;
            }
            first = false;
        }
        phrase.map(|_| i)
    }

    /// Whether a negation in the clause reaches the frame starting at word `start`:
    /// "I *don't* want to talk", "*non* voglio parlare", but not "I *can't* talk", "non
    /// riesco a parlare" (not negators) nor "this is *not* helpful, I want" (a word off
    /// the negation path in between).
    fn negated(&self, tokens: &Tokens, start: usize) -> bool {
        let mut i = start;
        while i > 0 && start - i < 6 {
            if tokens.words.get(i).is_some_and(|w| w.clause_start) {
                return false;
            }
            i -= 1;
            // Word `i` may start the clause: the check above stops before the next one.
            if any_at(tokens, i, self.negators, true).is_some() {
                return true;
            }
            if any_at(tokens, i, self.negation_path, true).is_none() {
                return false;
            }
        }
        false
    }
}

/// The end of the first entry of `entries` matching at word `at`.
fn any_at(tokens: &Tokens, at: usize, entries: &[&str], first: bool) -> Option<usize> {
    entries
        .iter()
        .find_map(|entry| phrase_at(tokens, at, entry, first))
}

/// The end of `entry` (space-separated words) if it matches at word `at`. Only the first
/// word may start a clause, and only when `first`.
fn phrase_at(tokens: &Tokens, at: usize, entry: &str, first: bool) -> Option<usize> {
    let mut i = at;
    for expected in entry.split(' ') {
        let word = tokens.words.get(i)?;
        if word.clause_start && !(first && i == at) {
            return None;
        }
        if tokens.word(i) != expected {
            return None;
        }
        i += 1;
    }
    Some(i)
}
