//! A time limit inside a test, so a hang becomes a named failure.
//!
//! Some learner mistakes never return: a loop that spins instead of waiting, a
//! future polled forever. Under tokio's paused clock a spinning task never yields,
//! so the runtime cannot notice anything; only another thread can. Without a
//! limit the test runs until the runner stops the whole binary, and the learner
//! learns nothing about why.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `body` on its own thread and returns its result. When it has not
/// finished after `limit`, the test fails with `hang_message`, which should say
/// what did not finish and the likely cause ("the linger loop did not return:
/// does it wait when no batch is open, or spin?").
///
/// A panic inside `body` (a failed assertion) fails the test with the body's own
/// message. A body that hangs is left running on its thread; the test binary
/// ends it when it exits.
#[track_caller]
pub fn within<T, F>(limit: Duration, hang_message: &str, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done, finished) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("watched test body".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
            // The receiver is gone only when the watchdog already gave up.
            let _ = done.send(outcome);
        })
        .unwrap_or_else(|error| panic!("cannot start a thread for the test body: {error}"));
    match finished.recv_timeout(limit) {
        Ok(Ok(value)) => {
            let _ = worker.join();
            value
        }
        Ok(Err(panic)) => {
            let _ = worker.join();
            std::panic::resume_unwind(panic)
        }
        Err(_) => panic!(
            "{hang_message} (the watchdog stopped waiting after {} s; a \
             correct solution finishes in well under a second)",
            limit.as_secs_f64()
        ),
    }
}
