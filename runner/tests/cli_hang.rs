//! A test that hangs: the check says so while it waits, not only when the time
//! limit stops it.

mod common;

use common::*;
use std::process::Command;

/// A step whose test sleeps far longer than the time limit the tests use.
const SLEEPS: &str = "pub fn double(x: u32) -> u32 {\n    std::thread::sleep(std::time::Duration::from_secs(30));\n    x * 2\n}\n";

#[test]
fn a_test_still_running_after_a_while_is_announced_once_before_the_limit_stops_it() {
    let w = tiny_workshop();
    write(w.path(), "steps/00-tiny/src/lib.rs", SLEEPS);
    let out = Command::new(env!("CARGO_BIN_EXE_workshop"))
        .current_dir(w.path())
        .args(["check", "0", "--timeout", "3"])
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", w.path().join("target"))
        .env("WORKSHOP_STILL_RUNNING_NOTICE_MS", "500")
        .output()
        .expect("the runner starts");
    let shown = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a hang is a failing check:\n{shown}"
    );
    let notice = "The tests of `double` are still running after 0.5 s: a loop that never ends";
    assert_eq!(
        shown.matches(notice).count(),
        1,
        "a test binary still running after the notice delay is announced once, \
         with how to stop it, instead of minutes of silence:\n{shown}"
    );
    assert!(
        shown.contains("They are stopped after 3 s; Ctrl-C (or q in watch) stops them now."),
        "the notice says when the limit stops the tests and how to stop them now:\n{shown}"
    );
    let at = shown.find(notice).unwrap();
    assert!(
        shown[at..].contains("were still running after 3 s"),
        "the notice comes while the tests run, before the report of the limit:\n{shown}"
    );
}

#[test]
fn a_test_that_ends_before_the_notice_delay_is_not_announced() {
    let w = tiny_workshop();
    let out = Command::new(env!("CARGO_BIN_EXE_workshop"))
        .current_dir(w.path())
        .args(["check", "0"])
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", w.path().join("target"))
        .env("WORKSHOP_STILL_RUNNING_NOTICE_MS", "20000")
        .output()
        .expect("the runner starts");
    let shown = text(&out);
    assert!(
        !shown.contains("still running after"),
        "quick tests need no notice:\n{shown}"
    );
}
