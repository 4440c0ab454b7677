//! The visitor's choice (B16) in the settings and the policy.

use baton_core::decision::{
    Decision, HandoffProcess, Trigger, may_choose_human, offers_visitor_choice, visitor_choice,
};
use baton_core::settings::{HandoffSettings, Process};

fn with(process: Process, choice: bool, asks_for_human: bool) -> HandoffSettings {
    let mut settings = HandoffSettings {
        process,
        visitor_choice: choice,
        ..HandoffSettings::default()
    };
    settings.default_triggers.asks_for_human = asks_for_human;
    settings
}

#[test]
fn a_document_without_the_field_reads_as_off() {
    let mut document = serde_json::to_value(HandoffSettings::default()).expect("json");
    document
        .as_object_mut()
        .expect("object")
        .remove("visitor_choice");
    let settings: HandoffSettings = serde_json::from_value(document).expect("old shape");
    assert!(!settings.visitor_choice);
    assert!(!HandoffSettings::default().visitor_choice);
}

#[test]
fn choosing_a_person_hands_off_under_the_configured_process() {
    for (process, expected) in [
        (Process::Live, HandoffProcess::Live),
        (Process::Async, HandoffProcess::Async),
    ] {
        match visitor_choice(&with(process, true, true)) {
            Some(Decision::Handoff {
                trigger,
                process,
                explanation,
            }) => {
                assert_eq!(trigger, Trigger::VisitorChoice);
                assert_eq!(trigger.kind(), "visitor_choice");
                assert_eq!(trigger.matched(), None);
                assert_eq!(process, expected);
                assert!(
                    explanation.contains("chose to talk to a person"),
                    "{explanation}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(visitor_choice(&with(Process::None, true, true)), None);
}

#[test]
fn the_choice_is_offered_only_when_on_and_handing_off() {
    assert!(offers_visitor_choice(&with(Process::Live, true, false)));
    assert!(offers_visitor_choice(&with(Process::Async, true, true)));
    assert!(!offers_visitor_choice(&with(Process::Live, false, true)));
    assert!(!offers_visitor_choice(&with(Process::None, true, true)));
    // A person may be chosen mid-conversation when offered, or when asking would hand
    // off anyway; never with process none.
    assert!(may_choose_human(&with(Process::Live, true, false)));
    assert!(may_choose_human(&with(Process::Live, false, true)));
    assert!(!may_choose_human(&with(Process::Live, false, false)));
    assert!(!may_choose_human(&with(Process::None, true, true)));
}
