//! Exercise "deadline": `poll` of `Deadline<F>` in src/deadline.rs.
//!
//! Every test runs on a Tokio runtime with a paused clock: time moves only when
//! a test calls `advance`, so "100 ms later" takes no time at all and happens
//! at exactly the same point on every run.

mod common;

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use common::on_paused_runtime;
use solution06_log::{Log, Offset, Partition, Record};
use step07_futures::{Deadline, DeadlineElapsed, WaitForOffset};
use tokio::sync::oneshot;
use tokio::time::advance;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready_eq};
use workshop_testkit::expect_compile_error;

const MAX_WAIT: Duration = Duration::from_millis(100);

#[test]
fn output_that_is_ready_in_time_is_passed_through() {
    on_paused_runtime(|| async move {
        // An `async` block is `!Unpin`: a `poll` that needs `F: Unpin` does not
        // compile here.
        let mut deadline = spawn(Deadline::new(async { "paid" }, MAX_WAIT));

        assert_ready_eq!(
            deadline.poll(),
            Ok("paid"),
            "the inner future is ready on the first poll: `Deadline` must return its output in `Ok`"
        );
    });
}

#[test]
fn pending_until_the_time_runs_out_then_elapsed() {
    on_paused_runtime(|| async move {
        let mut deadline = spawn(Deadline::new(pending::<()>(), MAX_WAIT));

        assert_pending!(
            deadline.poll(),
            "the inner future never finishes, and no time has passed"
        );
        advance(MAX_WAIT - Duration::from_millis(1)).await;
        assert!(
            !deadline.is_woken(),
            "99 ms of a 100 ms wait have passed: nothing should have woken the task yet"
        );
        assert_pending!(
            deadline.poll(),
            "99 ms of a 100 ms wait have passed: keep waiting"
        );

        advance(Duration::from_millis(1)).await;
        assert!(
            deadline.is_woken(),
            "the 100 ms are over, but the task was not woken, so nothing would ever poll the \
         `Deadline` again: poll `sleep` (through `project()`) whenever the inner future is \
         pending, so that the timer has the task's waker"
        );
        assert_ready_eq!(
            deadline.poll(),
            Err(DeadlineElapsed { max_wait: MAX_WAIT }),
            "the inner future was not ready within 100 ms: `Deadline` must give up with DeadlineElapsed"
        );
    });
}

#[test]
fn the_inner_futures_wake_up_reaches_the_task() {
    on_paused_runtime(|| async move {
        let (payment, paid) = oneshot::channel::<&str>();
        let mut deadline = spawn(Deadline::new(paid, MAX_WAIT));
        assert_pending!(deadline.poll(), "nothing was sent yet");

        advance(Duration::from_millis(30)).await;
        payment.send("paid").expect("the receiver is still waiting");

        assert!(
            deadline.is_woken(),
            "the inner future was woken, but the task was not: poll the inner future with the \
         same `cx` you were given"
        );
        assert_ready_eq!(
            deadline.poll(),
            Ok(Ok("paid")),
            "the value arrived after 30 ms of a 100 ms wait: `Deadline` must return it"
        );
    });
}

#[test]
fn output_that_is_ready_wins_over_a_deadline_that_passed_at_the_same_time() {
    on_paused_runtime(|| async move {
        let (payment, paid) = oneshot::channel::<&str>();
        let mut deadline = spawn(Deadline::new(paid, MAX_WAIT));
        assert_pending!(deadline.poll(), "nothing was sent yet");

        // Both happen before the next poll: the value arrives and the time runs
        // out.
        payment.send("paid").expect("the receiver is still waiting");
        advance(MAX_WAIT).await;

        assert_ready_eq!(
            deadline.poll(),
            Ok(Ok("paid")),
            "the value is there, so return it, even though the time ran out too: poll the inner \
         future first and the timer second. Throwing away a finished result helps nobody"
        );
    });
}

// ANCHOR: long_poll
#[test]
fn a_long_poll_ends_with_the_next_record_or_when_the_wait_runs_out() {
    on_paused_runtime(|| async move {
        let log =
            Arc::new(Log::new(1).expect("a log with 1 partition is valid"));
        let partition = Partition(0);

        // Nothing arrives within the wait: the consumer gets "nothing yet".
        let wait = WaitForOffset::new(Arc::clone(&log), partition, Offset(0));
        let mut quiet = spawn(Deadline::new(wait, MAX_WAIT));
        assert_pending!(quiet.poll(), "the partition is empty");
        advance(MAX_WAIT).await;
        assert_ready_eq!(
            quiet.poll(),
            Err(DeadlineElapsed { max_wait: MAX_WAIT }),
            "no record arrived within 100 ms: the long poll must end with DeadlineElapsed (is `sleep` polled? an unpolled `Sleep` never fires, and checking `is_elapsed()` registers no waker)"
        );
        drop(quiet);
        assert_eq!(
            log.waiting(partition),
            0,
            "a long poll that gave up must not leave its waker in the log"
        );

        // A record arrives after 30 ms: the consumer gets it then, not at 100
        // ms.
        let wait = WaitForOffset::new(Arc::clone(&log), partition, Offset(0));
        let mut busy = spawn(Deadline::new(wait, MAX_WAIT));
        assert_pending!(busy.poll(), "the partition is still empty");
        advance(Duration::from_millis(30)).await;
        log.append(partition, Record::new("seat-A12", "requested"))
            .expect("partition 0 exists");
        assert!(
            busy.is_woken(),
            "the append woke the inner `WaitForOffset`, and that wake-up must reach the task"
        );
        assert_ready_eq!(
            busy.poll(),
            Ok(Ok(())),
            "the record arrived within the wait: the long poll must end now, with the inner output"
        );
    });
}
// ANCHOR_END: long_poll

// ANCHOR: compile_fail
/// `tests/ui/poll_without_pinning.rs` must not compile: a `Deadline` holds a
/// timer that must not move once polled, so it is not `Unpin`, and `Pin::new`
/// (which needs `Unpin`) refuses it. Error E0277 is "a trait is not
/// implemented"; the exact wording around it changes between compilers, so the
/// test checks only the code and the trait's name.
#[test]
fn a_deadline_cannot_be_polled_without_pinning_it_first() {
    expect_compile_error!("tests/ui/poll_without_pinning.rs", "E0277", "Unpin");
}
// ANCHOR_END: compile_fail
