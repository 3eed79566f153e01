//! Test helpers shared by the steps, so that every step's tests behave the same
//! way and a change to them is made once.

use proptest::test_runner::Config;

pub mod compile_fail;
pub mod errors;
pub mod watchdog;

/// The settings of every property test in the workshop.
///
/// - `cases`: few enough that a check still answers in seconds after a save; each
///   test picks its own number.
/// - No regression files: proptest would otherwise write
///   `tests/*.proptest-regressions` into the learner's exercise on every failure.
/// - Shrinking is bounded but long enough to show a short failing input, not the
///   random one that was found first.
pub fn proptest_config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 1024,
        ..Config::default()
    }
}
