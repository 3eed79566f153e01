//! Events that arrived before their booking's request, set aside until it
//! arrives, within a bound in count and in time.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use solution01_events::BookingId;
use solution06_log::StoredRecord;
use solution11_idempotency::IdentifiedEvent;
use tokio::time::Instant;

// ANCHOR: park_limits
/// How much the park holds, so that a request that never comes cannot make it
/// grow without end, or hold back the committed offset forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParkLimits {
    /// At most this many events wait for one booking; one more is refused.
    pub max_per_booking: usize,
    /// An event that has waited this long is taken out and dead-lettered.
    pub max_wait: Duration,
}
// ANCHOR_END: park_limits

// ANCHOR: parked
/// An event waiting in the park, with the record it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parked {
    pub record: StoredRecord,
    pub event: IdentifiedEvent,
    /// Its failed attempts when it was parked (what a dead letter reports).
    /// When it is released it starts again from 0: waiting for its request
    /// was not a failure that the retry budget limits.
    pub attempts: u32,
    /// When it was parked: it leaves, at the latest, `max_wait` after this.
    pub since: Instant,
}

/// The park is full for this booking: the event is handed back, for the
/// dead-letter topic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{limit} events already wait for the ReservationRequested of booking \
     {booking_id}; this one cannot be parked"
)]
pub struct ParkFull {
    pub booking_id: BookingId,
    pub limit: usize,
    pub parked: Box<Parked>,
}
// ANCHOR_END: parked

// ANCHOR: park
/// Events whose booking the handler does not know yet, per booking, in the
/// order they arrived.
///
/// The park decides nothing about the events: which event is legal in which
/// state is the state machine's question (step 01). The park only keeps what
/// the handler could not place yet, and gives it back, in order, when the
/// handler says the booking exists.
#[derive(Debug)]
pub struct Park {
    limits: ParkLimits,
    waiting: HashMap<BookingId, VecDeque<Parked>>,
}
// ANCHOR_END: park

impl Park {
    pub fn new(limits: ParkLimits) -> Park {
        Park {
            limits,
            waiting: HashMap::new(),
        }
    }

    /// How many events are parked, over all bookings.
    pub fn len(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// When the next parked event runs out of time, if any is parked.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.waiting
            .values()
            .filter_map(VecDeque::front)
            .map(|parked| parked.since + self.limits.max_wait)
            .min()
    }

    // ANCHOR: park_fn
    /// Parks `parked` behind the events already waiting for `booking_id`, or
    /// hands it back if `max_per_booking` are waiting already.
    pub fn park(
        &mut self,
        booking_id: BookingId,
        parked: Parked,
    ) -> Result<(), ParkFull> {
        // exercise: solution
        let queue = self.waiting.entry(booking_id).or_default();
        if queue.len() >= self.limits.max_per_booking {
            // Leave no empty queue behind (a limit of 0 parks nothing).
            if queue.is_empty() {
                self.waiting.remove(&booking_id);
            }
            return Err(ParkFull {
                booking_id,
                limit: self.limits.max_per_booking,
                parked: Box::new(parked),
            });
        }
        queue.push_back(parked);
        Ok(())
        // exercise: stub
        // todo!("park it last for its booking, or hand it back (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: park_fn

    // ANCHOR: release
    /// Takes out every event parked for `booking_id`, oldest first: the
    /// handler now knows the booking, and will decide about each of them.
    pub fn release(&mut self, booking_id: BookingId) -> Vec<Parked> {
        // exercise: solution
        self.waiting
            .remove(&booking_id)
            .map(Vec::from)
            .unwrap_or_default()
        // exercise: stub
        // todo!("take out the booking's events, oldest first (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: release

    // ANCHOR: expired
    /// Takes out every event that has waited `max_wait` or longer at `now`,
    /// in offset order (the log's order) over all bookings, so that the
    /// worker dead-letters them in the order they were read.
    pub fn expired(&mut self, now: Instant) -> Vec<Parked> {
        // exercise: solution
        let max_wait = self.limits.max_wait;
        let mut expired = Vec::new();
        // Within a booking the events were parked in order, so those that ran
        // out of time are a prefix of its queue.
        self.waiting.retain(|_, queue| {
            while queue
                .front()
                .is_some_and(|parked| parked.since + max_wait <= now)
            {
                expired.extend(queue.pop_front());
            }
            !queue.is_empty()
        });
        // The map's order is random; give the caller the order of the log.
        expired.sort_by_key(|parked| parked.record.offset);
        expired
        // exercise: stub
        // todo!("take out what waited max_wait, in offset order (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: expired
}
