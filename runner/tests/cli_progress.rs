//! What the runner says about progress after a check: which step is next,
//! whether `check --all` succeeds, and what a reset touched.

mod common;

use common::*;

const DOUBLE: &str = "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n";
const HALF: &str = "pub fn half(x: u32) -> u32 {\n    x / 2\n}\n";

#[test]
fn check_all_succeeds_when_every_started_step_passes() {
    let w = two_step_workshop();
    write(w.path(), "steps/00-tiny/src/lib.rs", DOUBLE);
    let out = workshop(w.path(), &["check", "--all"]);
    let said = text(&out);
    assert!(said.contains("not started"), "{said}");
    assert!(
        out.status.success(),
        "step 00 passes and step 01 is not started, so check --all must succeed: {said}"
    );

    write(
        w.path(),
        "steps/01-half/src/lib.rs",
        "pub fn half(x: u32) -> u32 {\n    x\n}\n",
    );
    let out = workshop(w.path(), &["check", "--all"]);
    assert!(
        !out.status.success(),
        "a started step that fails must fail check --all: {}",
        text(&out)
    );
}

#[test]
fn after_a_pass_next_names_the_first_step_not_done() {
    let w = two_step_workshop();
    write(w.path(), "steps/01-half/src/lib.rs", HALF);
    let out = workshop(w.path(), &["check", "01"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("Still to do, the first step not done yet: step 00"),
        "step 00 is not done yet, so it is named, not a step after 01, and not \
         as \"next\", which reads as \"start over\": {said}"
    );

    write(w.path(), "steps/00-tiny/src/lib.rs", DOUBLE);
    let out = workshop(w.path(), &["check", "00"]);
    let said = text(&out);
    assert!(
        !said.contains("Next: step 01"),
        "step 01 is done already and must not be named as next: {said}"
    );
}

#[test]
fn a_reset_of_the_tests_says_the_code_was_left_alone() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/tests/double.rs",
        "#[test]\nfn mine() {}\n",
    );
    let out = workshop(w.path(), &["reset", "00", "--tests", "--yes"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("The tests of step 00 are reset"),
        "reset --tests must not claim the whole step was reset: {said}"
    );
}

#[test]
fn the_progress_view_needs_no_tool_beyond_the_runner() {
    // A toolchain installed with rustup's minimal profile has no rustfmt, and
    // telling a learner's changes from the workshop's must not need it.
    let w = tiny_workshop();
    write(w.path(), "steps/00-tiny/src/lib.rs", DOUBLE);
    let empty = tempfile::tempdir().expect("a temporary directory");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_workshop"))
        .current_dir(w.path())
        .env("PATH", empty.path())
        .output()
        .expect("the runner starts");
    let said = text(&out);
    assert!(
        out.status.success(),
        "the progress view must work with nothing on PATH (no rustfmt): {said}"
    );
    assert!(said.contains("edited"), "{said}");
}
