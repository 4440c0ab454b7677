//! The handoff policy: from the settings and the signals of one visitor message to a
//! [`Decision`], with a human-readable explanation (B5).
//!
//! Signal order follows the reference product: an agent that is paused hands off before
//! anything else is looked at; then the visitor asking for a human; then the visitor
//! being frustrated; then the custom phrases (and plugin matchers); only when no trigger
//! fired is the agent's own answer consulted, and "cannot answer" is the last trigger —
//! never for small talk ("hi there", "ok thanks"), which gets a courteous reply whatever
//! the answerer said.

use std::ops::Range;

use crate::settings::{HandoffSettings, Process};
use crate::text::SmallTalk;

/// Why a conversation is handed off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The customer agent had no answer (F2a).
    CannotAnswer,
    /// The visitor asked for a human (F2b). `span` is a byte range of the message.
    AsksForHuman { matched: String, span: Range<usize> },
    /// The customer agent is paused (F2c).
    AgentPaused,
    /// A custom phrase matched (F3). `matched` is the phrase as configured.
    Custom { matched: String, span: Range<usize> },
    /// A trigger-matcher plugin matched (B2).
    Plugin {
        plugin: String,
        matched: String,
        span: Option<Range<usize>>,
    },
    /// The visitor chose to talk to a person (B16), up front or mid-conversation.
    VisitorChoice,
    /// The visitor is plainly frustrated or repeating themselves (B17). `span` is a byte
    /// range of the message.
    Frustrated { matched: String, span: Range<usize> },
}

impl Trigger {
    /// The stable name of the trigger kind, as used by the API and the metrics.
    pub fn kind(&self) -> String {
        match self {
            Trigger::CannotAnswer => "cannot_answer".into(),
            Trigger::AsksForHuman { .. } => "asks_for_human".into(),
            Trigger::AgentPaused => "agent_paused".into(),
            Trigger::Custom { .. } => "custom".into(),
            Trigger::Plugin { plugin, .. } => format!("plugin:{plugin}"),
            Trigger::VisitorChoice => "visitor_choice".into(),
            Trigger::Frustrated { .. } => "frustrated".into(),
        }
    }

    /// The text that fired the trigger, when there is one.
    pub fn matched(&self) -> Option<&str> {
        match self {
            Trigger::CannotAnswer | Trigger::AgentPaused | Trigger::VisitorChoice => None,
            Trigger::AsksForHuman { matched, .. }
            | Trigger::Custom { matched, .. }
            | Trigger::Frustrated { matched, .. }
            | Trigger::Plugin { matched, .. } => Some(matched),
        }
    }

    /// Byte range of the message that fired the trigger.
    pub fn span(&self) -> Option<Range<usize>> {
        match self {
            Trigger::CannotAnswer | Trigger::AgentPaused | Trigger::VisitorChoice => None,
            Trigger::AsksForHuman { span, .. }
            | Trigger::Custom { span, .. }
            | Trigger::Frustrated { span, .. } => Some(span.clone()),
            Trigger::Plugin { span, .. } => span.clone(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Trigger::CannotAnswer => "the customer agent could not answer the question".into(),
            Trigger::AsksForHuman { matched, .. } => {
                format!("the visitor asked for a human (\"{matched}\")")
            }
            Trigger::AgentPaused => "the customer agent is paused".into(),
            Trigger::Custom { matched, .. } => {
                format!("the message contains the custom trigger \"{matched}\"")
            }
            Trigger::Plugin {
                plugin, matched, ..
            } => format!("the matcher plugin \"{plugin}\" matched \"{matched}\""),
            Trigger::VisitorChoice => "the visitor chose to talk to a person".into(),
            Trigger::Frustrated { matched, .. } => {
                format!("the visitor is frustrated (\"{matched}\")")
            }
        }
    }
}

/// What the customer agent made of the message, when it was asked.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentAnswer {
    /// An answer with the article it came from and its relevance score.
    Answered {
        text: String,
        source: String,
        score: f32,
    },
    /// No answer good enough; `reason` says why (for the explanation).
    CannotAnswer { reason: String },
}

/// The facts about one visitor message that the policy needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// The first trigger among the enabled built-in matchers and plugin matchers
    /// (see [`first_trigger`]); `None` when none fired.
    pub trigger: Option<Trigger>,
    /// The agent's answer; `None` when the agent was not asked (a trigger fired and
    /// the process hands off, or the agent is paused).
    pub answer: Option<AgentAnswer>,
    /// The message is only a greeting, thanks or a closing ([`crate::text::detect_small_talk`]):
    /// an answerer that cannot answer it gets its courteous reply sent instead of
    /// "cannot answer".
    pub small_talk: Option<SmallTalk>,
}

/// The text the agent sends when it keeps the conversation but has nothing to say.
pub const FALLBACK_REPLY: &str =
    "I'm sorry, I don't have an answer to that. Could you rephrase your question?";

/// What happens to one visitor message.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The customer agent answers and keeps the conversation.
    Reply { text: String, explanation: String },
    /// The conversation goes to humans.
    Handoff {
        trigger: Trigger,
        process: HandoffProcess,
        explanation: String,
    },
    /// Nobody answers (the agent is paused and the paused trigger is switched off).
    Silent { explanation: String },
}

impl Decision {
    pub fn explanation(&self) -> &str {
        match self {
            Decision::Reply { explanation, .. }
            | Decision::Handoff { explanation, .. }
            | Decision::Silent { explanation } => explanation,
        }
    }
}

/// The two processes that actually hand off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoffProcess {
    Live,
    Async,
}

impl HandoffProcess {
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffProcess::Live => "live",
            HandoffProcess::Async => "async",
        }
    }
}

/// Whether the engine must ask the agent for an answer before calling [`decide`]: only
/// when the agent is not paused and either no trigger fired or the process is `none`
/// (the agent keeps answering).
pub fn needs_answer(
    settings: &HandoffSettings,
    agent_paused: bool,
    trigger: Option<&Trigger>,
) -> bool {
    if agent_paused {
        return false;
    }
    match trigger {
        None => true,
        Some(Trigger::AgentPaused) => false,
        Some(_) => settings.process == Process::None,
    }
}

/// What the built-in matchers and the plugins found in one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// "Asks for a human" ([`Trigger::AsksForHuman`]).
    pub human: Option<Trigger>,
    /// [`Trigger::Frustrated`].
    pub frustrated: Option<Trigger>,
    /// The first custom phrase ([`Trigger::Custom`]).
    pub custom: Option<Trigger>,
    /// The first plugin hit ([`Trigger::Plugin`]).
    pub plugin: Option<Trigger>,
}

/// Applies the enabled default triggers in their order of precedence: agent paused,
/// asks for a human, frustrated, custom phrases, plugins.
pub fn first_trigger(
    settings: &HandoffSettings,
    agent_paused: bool,
    found: Found,
) -> Option<Trigger> {
    if agent_paused && settings.default_triggers.agent_paused {
        return Some(Trigger::AgentPaused);
    }
    let human = found
        .human
        .filter(|_| settings.default_triggers.asks_for_human);
    let frustrated = found
        .frustrated
        .filter(|_| settings.default_triggers.frustrated);
    human.or(frustrated).or(found.custom).or(found.plugin)
}

/// The policy. Pure: the same inputs always give the same decision.
pub fn decide(settings: &HandoffSettings, agent_paused: bool, signals: Signals) -> Decision {
    let small_talk = signals.small_talk;
    let trigger = signals.trigger.or(match &signals.answer {
        Some(AgentAnswer::CannotAnswer { .. })
            if settings.default_triggers.cannot_answer && small_talk.is_none() =>
        {
            Some(Trigger::CannotAnswer)
        }
        _ => None,
    });
    let answer_reply = |prefix: String| match (&signals.answer, small_talk) {
        (Some(AgentAnswer::CannotAnswer { reason }), Some(talk)) => Decision::Reply {
            text: talk.reply().into(),
            explanation: format!(
                "{prefix}the message is small talk (\"{}\"), which gets a courteous \
                     reply, never \"cannot answer\" (the customer agent could not answer: \
                     {reason}).",
                talk.source()
            ),
        },
        (Some(AgentAnswer::Answered { text, source, .. }), _) => Decision::Reply {
            text: text.clone(),
            explanation: format!("{prefix}the customer agent answered from \"{source}\"."),
        },
        (Some(AgentAnswer::CannotAnswer { reason }), None) => Decision::Reply {
            text: FALLBACK_REPLY.into(),
            explanation: format!(
                "{prefix}the customer agent could not answer ({reason}) and keeps the conversation."
            ),
        },
        (None, _) => Decision::Silent {
            explanation: format!("{prefix}nobody answers."),
        },
    };
    match trigger {
        Some(trigger) => {
            let process = match settings.process {
                Process::Live => HandoffProcess::Live,
                Process::Async => HandoffProcess::Async,
                // The answer already says when the agent could not answer.
                Process::None if trigger == Trigger::CannotAnswer => {
                    return answer_reply("Handoff process is \"none\": ".into());
                }
                Process::None => {
                    return answer_reply(format!(
                        "Handoff process is \"none\": {} but ",
                        trigger.describe()
                    ));
                }
            };
            // Why the agent could not answer (a model's stated reason, its passages, a
            // timeout...) is what staff need to judge the handoff.
            let why = match (&trigger, &signals.answer) {
                (Trigger::CannotAnswer, Some(AgentAnswer::CannotAnswer { reason })) => {
                    format!(" ({reason})")
                }
                _ => String::new(),
            };
            let explanation = format!(
                "Handoff ({}) because {}{why}.",
                process.as_str(),
                trigger.describe()
            );
            Decision::Handoff {
                trigger,
                process,
                explanation,
            }
        }
        None if agent_paused => Decision::Silent {
            explanation: "The customer agent is paused and the \"agent paused\" trigger is \
                          switched off: the message waits for a human."
                .into(),
        },
        None => answer_reply("No trigger fired: ".into()),
    }
}

/// The visitor chose "talk to a person" (B16): a handoff with trigger `visitor_choice`
/// under the configured process, destination and messages, like any other trigger; the
/// agent is not asked. `None` when the process is `none`: nobody takes handoffs, so the
/// choice is not offered.
pub fn visitor_choice(settings: &HandoffSettings) -> Option<Decision> {
    let process = match settings.process {
        Process::Live => HandoffProcess::Live,
        Process::Async => HandoffProcess::Async,
        Process::None => return None,
    };
    let trigger = Trigger::VisitorChoice;
    let explanation = format!(
        "Handoff ({}) because {}.",
        process.as_str(),
        trigger.describe()
    );
    Some(Decision::Handoff {
        trigger,
        process,
        explanation,
    })
}

/// Whether the widget offers "chat with the assistant or talk to a person" before the
/// first message (B16): the `visitor_choice` setting is on and the process hands off.
pub fn offers_visitor_choice(settings: &HandoffSettings) -> bool {
    settings.visitor_choice && settings.process != Process::None
}

/// Whether a visitor may choose a person at all, up front or mid-conversation: the
/// process hands off, and either the choice is offered or the "asks for a human"
/// trigger is on (typing "a human, please" would hand off anyway). With both off, the
/// settings say visitors do not pick a person; the agent's triggers decide.
pub fn may_choose_human(settings: &HandoffSettings) -> bool {
    settings.process != Process::None
        && (settings.visitor_choice || settings.default_triggers.asks_for_human)
}
