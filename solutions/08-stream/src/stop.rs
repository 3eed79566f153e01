//! Asking a consumer to stop, from anywhere: another task, another thread, a
//! Ctrl-C handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Waker;

use futures::task::AtomicWaker;

// ANCHOR: stop_handle
/// Ends a consumer's stream: after [`StopHandle::stop`], the consumer hands out
/// no more records and its stream returns `None`.
///
/// Cloning gives another handle to the same consumer. Kafka's consumer has
/// `wakeup()` for the same job: the one method that is safe to call from
/// another thread, to break a consumer out of a waiting `poll`.
#[derive(Clone, Debug)]
pub struct StopHandle {
    signal: Arc<StopSignal>,
}
// ANCHOR_END: stop_handle

/// What a [`StopHandle`] and its consumer share.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    /// Set once, never cleared: a stopped stream stays ended.
    stopped: AtomicBool,
    /// The task that last polled the consumer while it was waiting, so that
    /// `stop` can wake it. An `AtomicWaker`, not a `Mutex<Option<Waker>>`: it
    /// is made for exactly this, one waiting task and any number of wakers on
    /// other threads, and it never blocks either side.
    waker: AtomicWaker,
}

impl StopHandle {
    /// Asks the consumer to stop. It wakes the consumer's task if the consumer
    /// is waiting for records; the consumer's next poll returns `None`, whether
    /// or not records are waiting in the log. Calling it again does nothing
    /// more.
    pub fn stop(&self) {
        // Release pairs with the Acquire in `is_stopped`. The flag is set
        // before waking, so the woken task is sure to see it.
        self.signal.stopped.store(true, Ordering::Release);
        self.signal.waker.wake();
    }

    /// Whether [`StopHandle::stop`] was called on this handle or a clone of it.
    pub fn is_stopped(&self) -> bool {
        self.signal.is_stopped()
    }

    pub(crate) fn new(signal: Arc<StopSignal>) -> StopHandle {
        StopHandle { signal }
    }
}

impl StopSignal {
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Leaves `waker` to be woken by the next [`StopHandle::stop`]. Like the
    /// log's `register_waker`: register first, then check
    /// [`StopSignal::is_stopped`], or a `stop` between the check and the
    /// registration is missed.
    pub(crate) fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }
}
