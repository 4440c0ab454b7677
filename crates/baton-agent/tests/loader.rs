//! Loading a knowledge-base folder from real files.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use baton_agent::{KbError, KnowledgeBase};
use baton_core::decision::AgentAnswer;

fn write(dir: &Path, name: &str, contents: &[u8]) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn sources(kb: &KnowledgeBase, questions: &[&str]) -> Vec<String> {
    questions
        .iter()
        .map(|q| match kb.answer(q) {
            AgentAnswer::Answered { source, .. } => source,
            AgentAnswer::CannotAnswer { reason } => format!("cannot: {reason}"),
        })
        .collect()
}

#[test]
fn loads_markdown_files_recursively() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "kayaks.md",
        b"# Kayaks\n\n## Paddles\nCarbon paddles weigh 700 grams.\n",
    );
    write(
        dir.path(),
        "faq/nested/tents.MD",
        b"# Tents\n\n## Pegs\nAluminium pegs hold in sand.\n",
    );
    write(
        dir.path(),
        "notes.txt",
        b"Carbon aluminium notes are not articles.\n",
    );
    write(
        dir.path(),
        ".drafts/secret.md",
        b"# Secret\n\nCarbon draft.\n",
    );
    write(dir.path(), ".hidden.md", b"# Hidden\n\nAluminium draft.\n");
    let kb = KnowledgeBase::load_dir(dir.path())
        .unwrap()
        .with_threshold(0.0);
    assert_eq!(kb.len(), 2);
    assert_eq!(
        sources(&kb, &["carbon paddles", "aluminium pegs"]),
        ["kayaks.md#Paddles", "faq/nested/tents.MD#Pegs"]
    );
}

#[test]
fn an_empty_folder_gives_a_knowledge_base_that_cannot_answer() {
    let dir = tempfile::tempdir().unwrap();
    let kb = KnowledgeBase::load_dir(dir.path()).unwrap();
    assert!(kb.is_empty());
    assert_eq!(kb.len(), 0);
    for question in ["hi", "How long does shipping take?"] {
        assert!(
            matches!(kb.answer(question), AgentAnswer::CannotAnswer { .. }),
            "{question:?}"
        );
    }
}

/// Loads `dir` expecting an error whose message and `path()` name `at_fault`.
fn check_error(dir: &Path, at_fault: &Path, expected_message: &str) -> KbError {
    let error = KnowledgeBase::load_dir(dir).unwrap_err();
    let message = error.to_string();
    assert_eq!(error.path(), at_fault, "{message}");
    assert!(
        message.contains(&at_fault.display().to_string()),
        "{message}"
    );
    assert!(message.contains(expected_message), "{message}");
    error
}

#[test]
fn load_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("no-such-folder");
    let error = check_error(&missing, &missing, "does not exist");
    assert!(matches!(error, KbError::MissingDir { .. }));

    write(dir.path(), "file.md", b"# Not a folder\n");
    let file = dir.path().join("file.md");
    let error = check_error(&file, &file, "is not a folder");
    assert!(matches!(error, KbError::NotADir { .. }));

    let latin1 = dir.path().join("latin1");
    write(&latin1, "ok.md", b"# Fine\n\nText.\n");
    write(&latin1, "sub/bad.md", b"# Caf\xe9\n\nNot UTF-8.\n");
    let error = check_error(&latin1, &latin1.join("sub/bad.md"), "not valid UTF-8");
    assert!(
        matches!(error, KbError::NotUtf8 { offset: 5, .. }),
        "{error:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_link_is_an_error_and_linked_folders_are_not_followed() {
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "real.md",
        b"# Real\n\n## Stoves\nGas stoves boil water.\n",
    );
    // A link back to the folder itself would loop forever if followed.
    symlink(dir.path(), dir.path().join("loop.md")).unwrap();
    symlink(dir.path().join("real.md"), dir.path().join("linked.md")).unwrap();
    let kb = KnowledgeBase::load_dir(dir.path()).unwrap();
    assert_eq!(kb.len(), 2, "real.md and linked.md");

    symlink(dir.path().join("gone.md"), dir.path().join("dangling.md")).unwrap();
    let error = check_error(dir.path(), &dir.path().join("dangling.md"), "cannot read");
    assert!(matches!(error, KbError::ReadFile { .. }));
}
