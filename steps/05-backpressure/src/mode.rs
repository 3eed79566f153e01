//! What a send does when the buffer has no room.

use std::time::Duration;

// ANCHOR: mode
/// What [`ProducerBuffer::send`](crate::ProducerBuffer::send) does when the
/// buffer has no room for the record. There is no fourth choice that drops the
/// record: whichever mode is chosen, the caller either gets `Ok(())` (the
/// record is in the buffer) or gets the record back inside the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackpressureMode {
    /// Wait as long as it takes. Overload becomes latency: the caller stands
    /// still until the sender has made room. Kafka has no "forever" setting;
    /// the nearest is a very large `max.block.ms`.
    Block,
    /// Wait at most this long, then hand the record back as
    /// [`BufferError::TimedOut`](crate::BufferError::TimedOut). Overload
    /// becomes latency up to a cap, then errors. Kafka's `max.block.ms`
    /// (default 60 s).
    BlockWithTimeout(Duration),
    /// Never wait: hand the record back at once as
    /// [`BufferError::Full`](crate::BufferError::Full). Overload becomes errors
    /// the caller must handle right away. Kafka's `max.block.ms = 0`.
    FailImmediately,
}
// ANCHOR_END: mode
