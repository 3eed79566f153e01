//! What `.await` compiles to: an `async fn` that awaits a [`WaitForOffset`],
//! and the state machine the compiler turns it into, written by hand.
//!
//! Given code: nothing to write here. Both versions behave the same, and the
//! tests use both once your [`WaitForOffset`] works.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use solution06_log::{Log, LogError, Offset, Partition, StoredRecord};

use crate::wait::WaitForOffset;

// ANCHOR: fetch
/// Waits until `partition` holds the record at `from`, then reads up to `max`
/// records from there: a fetch that never comes back empty-handed. (Kafka's
/// fetch does this with `fetch.min.bytes=1`; `Deadline` adds the maximum wait.)
pub async fn fetch(
    log: Arc<Log>,
    partition: Partition,
    from: Offset,
    max: usize,
) -> Result<Vec<StoredRecord>, LogError> {
    WaitForOffset::new(Arc::clone(&log), partition, from).await?;
    log.read(partition, from, max)
}
// ANCHOR_END: fetch

// ANCHOR: fetch_state_machine
/// [`fetch`] as the compiler sees it: one variant per place the function can be
/// paused, holding exactly what is still needed from there on.
#[derive(Debug)]
pub enum Fetch {
    /// Created but not polled yet: an `async fn` runs none of its body until it
    /// is first polled, so all there is are the arguments.
    Start {
        log: Arc<Log>,
        partition: Partition,
        from: Offset,
        max: usize,
    },
    /// Paused at the `.await`: the future being awaited, and every variable
    /// that is used after the `.await` (here: all of them, for the `read`).
    Waiting {
        wait: WaitForOffset,
        log: Arc<Log>,
        partition: Partition,
        from: Offset,
        max: usize,
    },
    /// The output was returned. Nothing is kept.
    Done,
}

impl Fetch {
    /// What calling `fetch(log, partition, from, max)` does: store the
    /// arguments, run nothing.
    pub fn new(
        log: Arc<Log>,
        partition: Partition,
        from: Offset,
        max: usize,
    ) -> Fetch {
        Fetch::Start {
            log,
            partition,
            from,
            max,
        }
    }
}

impl Future for Fetch {
    type Output = Result<Vec<StoredRecord>, LogError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every variant holds only `Unpin` values, so `Fetch` is `Unpin` and
        // the pin can be taken off. The compiler's version cannot do this in
        // general: a local that borrows another local across an `.await` would
        // point into the state machine itself, and moving it would leave that
        // pointer dangling. That is what `Pin` is for.
        let this = self.get_mut();
        loop {
            match this {
                Fetch::Start {
                    log,
                    partition,
                    from,
                    max,
                } => {
                    // The body up to the `.await`: create the future to await,
                    // and keep what the rest of the body needs next to it.
                    let wait =
                        WaitForOffset::new(Arc::clone(log), *partition, *from);
                    *this = Fetch::Waiting {
                        wait,
                        log: Arc::clone(log),
                        partition: *partition,
                        from: *from,
                        max: *max,
                    };
                    // No return: a first poll runs on until the first `.await`
                    // that is not ready.
                }
                Fetch::Waiting {
                    wait,
                    log,
                    partition,
                    from,
                    max,
                } => {
                    // The `.await` itself: poll the awaited future, and if it
                    // is pending, return `Pending` too (that is all `ready!`
                    // does). Its waker registration is what will get us polled
                    // again.
                    let waited = ready!(Pin::new(wait).poll(cx));
                    // The `?`, then the rest of the body.
                    let output = match waited {
                        Err(error) => Err(error),
                        Ok(()) => log.read(*partition, *from, *max),
                    };
                    // Dropping the old state drops the finished
                    // `WaitForOffset`.
                    *this = Fetch::Done;
                    return Poll::Ready(output);
                }
                // An `async fn` panics here too: "`async fn` resumed after
                // completion". Polling a finished future is the caller's bug.
                Fetch::Done => panic!(
                    "`Fetch` was polled again after it returned its output"
                ),
            }
        }
    }
}
// ANCHOR_END: fetch_state_machine
