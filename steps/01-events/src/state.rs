//! The booking state machine: what one booking looks like after the events so
//! far, and [`apply`], which decides whether the next event is accepted.
//!
//! `apply` is a pure function: it reads the current state and an event and
//! returns the next state or the reason for refusing the event. It changes
//! nothing and sends nothing, so it can be called again on the same input and
//! give the same answer. Later steps rely on that: replaying history (step 10)
//! and handling a duplicate (step 11) both call it again with events it has
//! seen before.

use crate::event::{BookingEvent, BookingId, SeatId, UserId};

// ANCHOR: state
/// Where one booking stands, given the events applied to it so far.
///
/// Every state after `Empty` keeps the booking's id, seat and user: a confirmed
/// booking must still say which seat it sold, and an expired one which seat it
/// released.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookingState {
    /// Nothing has happened to this booking yet: the state before its first
    /// event.
    Empty,
    /// The seat is held for the user until they pay or the hold runs out.
    Held {
        booking_id: BookingId,
        seat_id: SeatId,
        user_id: UserId,
    },
    /// The user paid: the seat is sold. A final state that nothing may undo,
    /// because a paid booking is never lost.
    Confirmed {
        booking_id: BookingId,
        seat_id: SeatId,
        user_id: UserId,
    },
    /// The hold ran out before a payment arrived: the seat is free again. Also
    /// final.
    Expired {
        booking_id: BookingId,
        seat_id: SeatId,
        user_id: UserId,
    },
}
// ANCHOR_END: state

impl BookingState {
    /// The booking this state belongs to, or `None` before its first event.
    pub fn booking_id(&self) -> Option<BookingId> {
        match self {
            BookingState::Empty => None,
            BookingState::Held { booking_id, .. }
            | BookingState::Confirmed { booking_id, .. }
            | BookingState::Expired { booking_id, .. } => Some(*booking_id),
        }
    }
}

// ANCHOR: rejected
/// Why [`apply`] refused an event. One variant per reason, so that a caller can
/// react to each one differently: a duplicate can be dropped quietly, a payment
/// after expiry must be refunded, an event for the wrong booking is a bug in
/// the caller.
///
/// Refusing an event does not make it untrue: the payment really arrived. It
/// means this booking does not change because of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// The event belongs to another booking than the state it was applied to.
    #[error(
        "an event of booking {event_booking} was applied to the state of booking {state_booking}: apply each event to the state of its own booking"
    )]
    WrongBooking {
        state_booking: BookingId,
        event_booking: BookingId,
    },
    /// A payment or an expiry arrived for a booking that was never requested.
    #[error(
        "booking {booking_id} was never requested: a payment or an expiry can only follow a ReservationRequested"
    )]
    NotRequested { booking_id: BookingId },
    /// A second `ReservationRequested` for a booking that already exists.
    #[error(
        "booking {booking_id} was already requested: a second ReservationRequested for the same booking is a duplicate"
    )]
    AlreadyRequested { booking_id: BookingId },
    /// The payment came after the hold had expired: too late, the seat may be
    /// sold to someone else by now. The money has to go back.
    #[error(
        "the payment for booking {booking_id} came too late: the hold had already expired, so the payment must be refunded, not turned into a ticket"
    )]
    PaidAfterExpiry { booking_id: BookingId },
    /// An expiry arrived for a booking that is already paid.
    #[error(
        "booking {booking_id} is paid and cannot expire: a paid booking is never lost"
    )]
    ExpiredAfterPayment { booking_id: BookingId },
    /// A second `PaymentReceived` for a booking that is already paid.
    #[error(
        "booking {booking_id} is already paid: a second PaymentReceived is a duplicate, not a second ticket"
    )]
    AlreadyPaid { booking_id: BookingId },
    /// A second `ReservationExpired` for a booking that has already expired.
    #[error(
        "booking {booking_id} has already expired: a second ReservationExpired is a duplicate"
    )]
    AlreadyExpired { booking_id: BookingId },
}
// ANCHOR_END: rejected

// ANCHOR: apply
/// Decides what `event` does to a booking in `state`: the next state, or why
/// the event is refused (the [`Rejected`] reason for every pair the table in
/// the chapter does not allow).
///
/// Every pair of (state, event) is written out in one `match` without a `_`
/// arm. When a new event or state is added, the compiler lists every pair that
/// nobody has decided yet, instead of letting a catch-all quietly accept it.
pub fn apply(
    state: &BookingState,
    event: &BookingEvent,
) -> Result<BookingState, Rejected> {
    todo!("return the next state or the Rejected reason (chapter 01)")
}
// ANCHOR_END: apply
