//! The policy as a table: every trigger × process × agent state × agent answer.

use baton_core::decision::{
    AgentAnswer, Decision, FALLBACK_REPLY, Found, HandoffProcess, Signals, Trigger, decide,
    first_trigger, needs_answer,
};
use baton_core::settings::{HandoffSettings, Process};
use baton_core::text::detect_small_talk;

fn settings(process: Process, cannot: bool, human: bool, paused: bool) -> HandoffSettings {
    let mut s = HandoffSettings {
        process,
        ..HandoffSettings::default()
    };
    s.default_triggers.cannot_answer = cannot;
    s.default_triggers.asks_for_human = human;
    s.default_triggers.agent_paused = paused;
    s
}

fn human() -> Trigger {
    Trigger::AsksForHuman {
        matched: "talk to a human".into(),
        span: 0..15,
    }
}

fn custom() -> Trigger {
    Trigger::Custom {
        matched: "refund".into(),
        span: 5..11,
    }
}

fn answered() -> AgentAnswer {
    AgentAnswer::Answered {
        text: "Shipping takes 3 days.".into(),
        source: "shipping.md".into(),
        score: 7.0,
    }
}

fn cannot() -> AgentAnswer {
    AgentAnswer::CannotAnswer {
        reason: "no article".into(),
    }
}

#[derive(Debug)]
enum Expect {
    Handoff(&'static str, HandoffProcess),
    Reply(&'static str),
    Silent,
}

/// Runs the whole policy as the engine does: first trigger, then the agent only when
/// `needs_answer` says so, then `decide`.
fn run(
    s: &HandoffSettings,
    paused: bool,
    human_hit: bool,
    custom_hit: bool,
    answer: AgentAnswer,
) -> Decision {
    let found = Found {
        human: human_hit.then(human),
        custom: custom_hit.then(custom),
        ..Found::default()
    };
    let trigger = first_trigger(s, paused, found);
    let answer = needs_answer(s, paused, trigger.as_ref()).then_some(answer);
    decide(
        s,
        paused,
        Signals {
            trigger,
            answer,
            small_talk: None,
        },
    )
}

fn check(
    s: &HandoffSettings,
    paused: bool,
    human_hit: bool,
    custom_hit: bool,
    answer: AgentAnswer,
    expect: Expect,
) {
    let decision = run(s, paused, human_hit, custom_hit, answer);
    let got = match &decision {
        Decision::Handoff {
            trigger, process, ..
        } => format!("handoff {} {process:?}", trigger.kind()),
        Decision::Reply { text, .. } => format!("reply {text}"),
        Decision::Silent { .. } => "silent".into(),
    };
    let expect = match expect {
        Expect::Handoff(kind, process) => format!("handoff {kind} {process:?}"),
        Expect::Reply(text) => format!("reply {text}"),
        Expect::Silent => "silent".into(),
    };
    assert_eq!(
        got,
        expect,
        "process {:?} paused {paused} human {human_hit} custom {custom_hit}: {}",
        s.process,
        decision.explanation()
    );
    assert!(!decision.explanation().is_empty());
}

const SHIPPING: &str = "Shipping takes 3 days.";

#[test]
fn live_and_async_hand_off_on_every_trigger_in_precedence_order() {
    for (process, hp) in [
        (Process::Live, HandoffProcess::Live),
        (Process::Async, HandoffProcess::Async),
    ] {
        let s = settings(process, true, true, true);
        use Expect::*;
        // paused beats everything
        check(
            &s,
            true,
            true,
            true,
            answered(),
            Handoff("agent_paused", hp),
        );
        check(
            &s,
            true,
            false,
            false,
            answered(),
            Handoff("agent_paused", hp),
        );
        // asks for a human beats custom phrases
        check(
            &s,
            false,
            true,
            true,
            answered(),
            Handoff("asks_for_human", hp),
        );
        check(&s, false, false, true, answered(), Handoff("custom", hp));
        // cannot answer is the last trigger
        check(
            &s,
            false,
            false,
            false,
            cannot(),
            Handoff("cannot_answer", hp),
        );
        // no trigger and an answer: the agent replies
        check(&s, false, false, false, answered(), Reply(SHIPPING));
    }
}

#[test]
fn switched_off_default_triggers_do_not_fire() {
    use Expect::*;
    let hp = HandoffProcess::Live;
    // asks_for_human off: the custom phrase (or the agent) decides
    let s = settings(Process::Live, true, false, true);
    check(&s, false, true, false, answered(), Reply(SHIPPING));
    check(&s, false, true, true, answered(), Handoff("custom", hp));
    // cannot_answer off: the agent keeps the conversation with a fallback
    let s = settings(Process::Live, false, true, true);
    check(&s, false, false, false, cannot(), Reply(FALLBACK_REPLY));
    // agent_paused off: a paused agent neither answers nor hands off on that ground...
    let s = settings(Process::Live, true, true, false);
    check(&s, true, false, false, answered(), Silent);
    // ...but other triggers still hand off
    check(
        &s,
        true,
        true,
        false,
        answered(),
        Handoff("asks_for_human", hp),
    );
    check(&s, true, false, true, answered(), Handoff("custom", hp));
}

#[test]
fn process_none_keeps_the_agent_answering_whatever_fired() {
    use Expect::*;
    let s = settings(Process::None, true, true, true);
    check(&s, false, true, true, answered(), Reply(SHIPPING));
    check(&s, false, false, true, answered(), Reply(SHIPPING));
    check(&s, false, false, false, cannot(), Reply(FALLBACK_REPLY));
    check(&s, false, false, false, answered(), Reply(SHIPPING));
    // a paused agent cannot answer: nothing is said
    check(&s, true, false, false, answered(), Silent);
}

#[test]
fn the_agent_is_not_asked_when_a_trigger_hands_off() {
    let s = settings(Process::Live, true, true, true);
    assert!(!needs_answer(&s, false, Some(&custom())));
    assert!(!needs_answer(&s, true, None));
    assert!(needs_answer(&s, false, None));
    let s = settings(Process::None, true, true, true);
    assert!(needs_answer(&s, false, Some(&custom())));
}

#[test]
fn plugin_hits_come_after_built_in_ones() {
    let s = settings(Process::Live, true, true, true);
    let plugin = Trigger::Plugin {
        plugin: "regex".into(),
        matched: "ORD-1".into(),
        span: None,
    };
    let found = |custom: Option<Trigger>| Found {
        custom,
        plugin: Some(plugin.clone()),
        ..Found::default()
    };
    assert_eq!(
        first_trigger(&s, false, found(Some(custom()))),
        Some(custom())
    );
    assert_eq!(first_trigger(&s, false, found(None)), Some(plugin.clone()));
    assert_eq!(plugin.kind(), "plugin:regex");
}

fn frustrated() -> Trigger {
    Trigger::Frustrated {
        matched: "not helping".into(),
        span: 7..18,
    }
}

#[test]
fn frustration_comes_after_asking_for_a_human_and_before_custom_phrases() {
    let mut s = settings(Process::Live, true, true, true);
    let all = Found {
        human: Some(human()),
        frustrated: Some(frustrated()),
        custom: Some(custom()),
        plugin: None,
    };
    assert_eq!(first_trigger(&s, false, all.clone()), Some(human()));
    let no_human = Found {
        human: None,
        ..all.clone()
    };
    assert_eq!(
        first_trigger(&s, false, no_human.clone()),
        Some(frustrated())
    );
    assert_eq!(frustrated().kind(), "frustrated");
    assert_eq!(frustrated().matched(), Some("not helping"));

    // Frustration hands off although the agent has an answer: it is never asked.
    let trigger = first_trigger(&s, false, no_human.clone());
    assert!(!needs_answer(&s, false, trigger.as_ref()));
    let decision = decide(
        &s,
        false,
        Signals {
            trigger,
            answer: None,
            small_talk: None,
        },
    );
    match decision {
        Decision::Handoff {
            trigger,
            explanation,
            ..
        } => {
            assert_eq!(trigger.kind(), "frustrated");
            assert!(explanation.contains("frustrated"), "{explanation}");
        }
        other => panic!("{other:?}"),
    }

    // Switched off, it is as if nothing had been found.
    s.default_triggers.frustrated = false;
    assert_eq!(first_trigger(&s, false, no_human), Some(custom()));
}

#[test]
fn small_talk_is_never_cannot_answer() {
    let small_talk = detect_small_talk("ok thanks");
    assert!(small_talk.is_some());
    for process in [Process::Live, Process::Async, Process::None] {
        let s = settings(process, true, true, true);
        let decision = decide(
            &s,
            false,
            Signals {
                trigger: None,
                answer: Some(cannot()),
                small_talk,
            },
        );
        match decision {
            Decision::Reply { text, explanation } => {
                assert!(text.starts_with("You're welcome!"), "{text}");
                assert!(explanation.contains("small talk"), "{explanation}");
            }
            other => panic!("{process:?}: {other:?}"),
        }
    }
    // An answer the agent did give is kept; a trigger still hands off.
    let s = settings(Process::Live, true, true, true);
    let kept = decide(
        &s,
        false,
        Signals {
            trigger: None,
            answer: Some(answered()),
            small_talk,
        },
    );
    assert!(matches!(kept, Decision::Reply { ref text, .. } if text == SHIPPING));
    let handed = decide(
        &s,
        false,
        Signals {
            trigger: Some(custom()),
            answer: None,
            small_talk,
        },
    );
    assert!(matches!(handed, Decision::Handoff { .. }));
}
