//! "Break it yourself": each known bug, swapped into the pipeline, must make
//! at least one schedule of the default budget fail, and the unbroken
//! pipeline must pass a CI budget of schedules.

use std::time::Instant;

use capstone_faults::{Bug, DEFAULT_SEEDS, run_parallel};

/// Runs the default budget with `bug` until a schedule fails; the lowest
/// failing seed seen.
fn first_failing_seed(bug: Bug) -> Option<u64> {
    let mut failing = None;
    run_parallel(1..1 + DEFAULT_SEEDS, Some(bug), 2, true, |outcome| {
        if !outcome.violations.is_empty() {
            failing = Some(failing.map_or(outcome.seed, |seed: u64| seed.min(outcome.seed)));
        }
    });
    failing
}

fn assert_found(bug: Bug) {
    let started = Instant::now();
    let found = first_failing_seed(bug);
    assert!(
        found.is_some(),
        "with the bug {bug} swapped in, one of the {DEFAULT_SEEDS} default schedules must \
         fail; none did, so the fault run cannot see this bug"
    );
    eprintln!(
        "{bug}: first failing seed {found:?} after {:?}",
        started.elapsed()
    );
}

#[test]
fn committing_before_the_effect_is_found() {
    assert_found(Bug::CommitBeforeEffect);
}

#[test]
fn an_in_memory_dedupe_set_is_found() {
    assert_found(Bug::InMemoryDedupe);
}

#[test]
fn acks_without_fsync_are_found() {
    assert_found(Bug::NoFsync);
}

#[test]
fn a_missing_directory_fsync_is_found() {
    assert_found(Bug::NoDirFsync);
}

#[test]
fn a_relay_that_marks_before_publishing_is_found() {
    assert_found(Bug::MarkBeforePublish);
}
