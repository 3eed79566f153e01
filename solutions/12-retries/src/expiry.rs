//! Holds that are not paid in time: a timer per held booking, which produces
//! a `ReservationExpired` event when it runs out.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use solution01_events::{BookingEvent, BookingId, BookingState};
use tokio::time::Instant;

// ANCHOR: hold_timers
/// The deadline of every booking that is held and not paid.
///
/// The timers do not change a booking. When one runs out, it produces a
/// `ReservationExpired` event, which goes into the log like every other event
/// and reaches the booking through the state machine, in the booking's order.
/// A payment that races the expiry therefore has one defined outcome: the
/// event that is first in the booking's partition wins, and the state machine
/// refuses the other (`PaidAfterExpiry`: refund it; `ExpiredAfterPayment`:
/// nothing to do).
#[derive(Debug)]
pub struct HoldTimers {
    /// How long a hold lasts without a payment.
    hold_for: Duration,
    /// Each held booking's deadline.
    deadlines: HashMap<BookingId, Instant>,
    /// The same deadlines, soonest first: `due` looks at the front only.
    by_deadline: BTreeSet<(Instant, BookingId)>,
}
// ANCHOR_END: hold_timers

impl HoldTimers {
    pub fn new(hold_for: Duration) -> HoldTimers {
        HoldTimers {
            hold_for,
            deadlines: HashMap::new(),
            by_deadline: BTreeSet::new(),
        }
    }

    /// When the hold of `booking_id` runs out, if it is held and unpaid.
    pub fn deadline(&self, booking_id: BookingId) -> Option<Instant> {
        self.deadlines.get(&booking_id).copied()
    }

    /// The soonest deadline, to sleep until.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.first().map(|(deadline, _)| *deadline)
    }

    // ANCHOR: on_state
    /// The handler moved `booking_id` to `state` at `now`. A booking that is
    /// held gets a deadline `hold_for` from now, unless it has one already (a
    /// duplicate request must not extend the hold); a booking in any other
    /// state has no timer.
    pub fn on_state(
        &mut self,
        booking_id: BookingId,
        state: &BookingState,
        now: Instant,
    ) {
        // exercise: solution
        match state {
            BookingState::Held { .. } => {
                if !self.deadlines.contains_key(&booking_id) {
                    let deadline = now + self.hold_for;
                    self.deadlines.insert(booking_id, deadline);
                    self.by_deadline.insert((deadline, booking_id));
                }
            }
            BookingState::Empty
            | BookingState::Confirmed { .. }
            | BookingState::Expired { .. } => {
                if let Some(deadline) = self.deadlines.remove(&booking_id) {
                    self.by_deadline.remove(&(deadline, booking_id));
                }
            }
        }
        // exercise: stub
        // todo!("start or stop the booking's timer (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: on_state

    // ANCHOR: due
    /// Takes out every timer whose deadline is `now` or earlier, soonest
    /// first, and returns the `ReservationExpired` event of each: at its
    /// deadline a hold is over.
    pub fn due(&mut self, now: Instant) -> Vec<BookingEvent> {
        // exercise: solution
        let mut expired = Vec::new();
        while let Some(&(deadline, booking_id)) = self.by_deadline.first()
            && deadline <= now
        {
            self.by_deadline.remove(&(deadline, booking_id));
            self.deadlines.remove(&booking_id);
            expired.push(BookingEvent::ReservationExpired { booking_id });
        }
        expired
        // exercise: stub
        // todo!("take out the timers due at `now` (chapter 12)")
        // exercise: end
    }
    // ANCHOR_END: due
}
