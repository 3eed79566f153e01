//! The bus a service talks to: publish an event with its id, and hand every
//! event to a handler, whichever log or broker is underneath (given code).

use solution06_log::{Offset, Partition};
use solution11_idempotency::IdentifiedEvent;
use solution12_retries::Handler;

// ANCHOR: published
/// Where a published event went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// Its booking's partition (on JetStream, the subject `bookings.<n>`).
    pub partition: Partition,
    /// Its place: the log's offset, or the stream's sequence number.
    pub position: Offset,
    /// `true` when the bus recognised the event id and stored nothing new.
    pub duplicate: bool,
}

/// What one run of the consumer did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Consumed {
    /// Deliveries the handler took (an effect, a refusal or a duplicate),
    /// acknowledged or committed after it.
    pub handled: usize,
    /// Failed deliveries that will be tried again later.
    pub retried: usize,
    /// Events given up on and sent to the dead letters.
    pub dead_lettered: usize,
}
// ANCHOR_END: published

// ANCHOR: event_bus
/// Publish events, and run a handler over them: what the booking service
/// needs from a log, and all it knows about it.
///
/// The handler is step 12's [`Handler`]: `Ok` when the event is handled,
/// a transient error when it may succeed later, a permanent one when it never
/// will. The bus decides what each answer means for its own bookkeeping (a
/// committed offset, an ack, a redelivery, a dead letter).
// The futures are used with generic code on one task, never boxed or sent to
// another thread, so the lint's advice (a `Send` bound) buys nothing here.
#[allow(async_fn_in_trait)]
pub trait EventBus {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Publishes `event` under its id. Publishing the same event again (a
    /// retry after a timeout) must not make it two events for the handler.
    async fn publish(
        &mut self,
        event: &IdentifiedEvent,
    ) -> Result<Published, Self::Error>;

    /// Hands every event published so far to `handler`, retrying and
    /// dead-lettering as the bus's policy says, and returns once nothing is
    /// left to deliver or waiting for a retry.
    async fn run_until_idle<H: Handler>(
        &mut self,
        handler: &mut H,
    ) -> Result<Consumed, Self::Error>;
}
// ANCHOR_END: event_bus
