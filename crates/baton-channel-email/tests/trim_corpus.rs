//! The reply-trimming corpus (`../shared/corpora/email/reply-trimming`): every real reply
//! trimmed and compared with what its writer wrote.

use std::path::PathBuf;

use baton_channel_email::trim::new_text;

/// How many of the 64 replies must trim exactly; raise it as rules improve.
const FLOOR: usize = 64;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/email/reply-trimming")
}

#[test]
fn trims_the_reply_corpus() {
    let dir = corpus();
    let mut names: Vec<String> = std::fs::read_dir(dir.join("emails"))
        .expect("the corpus beside the repository")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".txt"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 64, "the corpus holds 64 replies");

    let mut failed = Vec::new();
    for name in &names {
        let email = std::fs::read(dir.join("emails").join(name)).expect("email");
        let expected = std::fs::read(dir.join("trimmed").join(name)).expect("trimmed");
        let got = new_text(&String::from_utf8_lossy(&email));
        let expected = String::from_utf8_lossy(&expected);
        if got.trim_end() != expected.trim_end() {
            failed.push(format!(
                "--- {name}\nexpected:\n{}\ngot:\n{}",
                expected.trim_end(),
                got.trim_end()
            ));
        }
    }
    let passed = names.len() - failed.len();
    eprintln!("reply trimming: {passed} of {} pass", names.len());
    for failure in &failed {
        eprintln!("{failure}");
    }
    assert!(
        passed >= FLOOR,
        "{passed} of {} pass, floor {FLOOR}",
        names.len()
    );
}
