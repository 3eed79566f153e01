//! Watchdogs shared by the test files of step 07.
//!
//! A `poll` that loops until the record exists, instead of returning `Pending`,
//! never returns: the test that polled it would hang until the runner gives up,
//! with no word about why. These helpers run a test on a thread of its own and
//! fail it with a message that names the mistake after a few seconds.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::time::Duration;

/// How long a test may take. Every test of this step finishes in well under a
/// second.
const LIMIT: Duration = Duration::from_secs(5);

/// What a test that did not finish most likely shows.
const STUCK_IN_POLL: &str = "the test did not finish: a `poll` never returned. Does it \
    loop until the record exists (or the time is up)? A future that has to wait leaves \
    its waker and returns Pending; a loop blocks the thread, and the append or the \
    timer that would end it may never get to run";

/// Runs the body of a plain test under the watchdog.
pub fn watched(body: impl FnOnce() + Send + 'static) {
    workshop_testkit::watchdog::within(LIMIT, STUCK_IN_POLL, body)
}

/// Runs the async test that `test` returns on a current-thread Tokio runtime
/// with a paused clock, under the watchdog.
pub fn on_paused_runtime<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    workshop_testkit::watchdog::within(LIMIT, STUCK_IN_POLL, move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread Tokio runtime starts")
            .block_on(test())
    })
}
