//! A future around another future that gives up after a maximum wait: the shape
//! of a long poll, such as a Kafka fetch that waits at most `fetch.max.wait.ms`
//! for data.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project::pin_project;
use tokio::time::Sleep;

// ANCHOR: deadline
/// Runs `inner`, but for at most `max_wait`: its output is `Ok` with the inner
/// future's output if that is ready in time, and `Err(DeadlineElapsed)` if the
/// wait ran out first.
///
/// A `Deadline` owns two futures and polls both: `inner`, and the timer
/// `sleep`. Neither may move once it has been polled (`Sleep` is `!Unpin`, and
/// `inner` may be an `async` block, which is `!Unpin` too), so `Deadline` is
/// `!Unpin` itself, and `poll` reaches its fields through pin projection:
/// `#[pin_project]` generates `project()`, which turns `Pin<&mut Deadline<F>>`
/// into a `Pin<&mut F>` and a `Pin<&mut Sleep>` for the fields marked `#[pin]`,
/// and a plain `&mut` for the others.
#[pin_project]
#[derive(Debug)]
pub struct Deadline<F> {
    /// The future that does the work.
    #[pin]
    inner: F,
    /// The timer that ends the wait. It is created with the `Deadline`, so the
    /// clock starts when the `Deadline` is made, not when it is first polled.
    #[pin]
    sleep: Sleep,
    /// How long the wait was allowed to be, for the error.
    max_wait: Duration,
}
// ANCHOR_END: deadline

impl<F> Deadline<F> {
    /// Wraps `inner` so that it may take at most `max_wait`, starting now.
    ///
    /// Like `tokio::time::sleep`, this must be called inside a Tokio runtime
    /// whose time driver is enabled: the timer registers with it.
    pub fn new(inner: F, max_wait: Duration) -> Deadline<F> {
        Deadline {
            inner,
            sleep: tokio::time::sleep(max_wait),
            max_wait,
        }
    }
}

// ANCHOR: elapsed
/// The inner future of a [`Deadline`] was not ready within its maximum wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "gave up after waiting {max_wait:?}: the awaited future was not ready in time; wait longer, or treat \"nothing yet\" as an answer (a long poll that times out returns an empty batch) and try again"
)]
pub struct DeadlineElapsed {
    /// The maximum wait that ran out.
    pub max_wait: Duration,
}
// ANCHOR_END: elapsed

// ANCHOR: poll
impl<F: Future> Future for Deadline<F> {
    type Output = Result<F::Output, DeadlineElapsed>;

    /// `Ready(Ok(output))` as soon as `inner` is ready, even when the time ran
    /// out in the same instant; `Ready(Err(DeadlineElapsed))` once the timer
    /// `sleep` is ready; otherwise `Pending`, with `cx`'s waker left with both.
    /// The pinned fields are reached through `self.project()`.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("poll `inner`, then the timer (chapter 07)")
    }
}
// ANCHOR_END: poll
