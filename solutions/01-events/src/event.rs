//! The events of the booking domain: facts that already happened, named in the
//! past tense, owned values that are moved from producer to handler.

use std::fmt;

use uuid::Uuid;

// ANCHOR: ids
/// Identifies one booking from its request to its end. Every event of a booking
/// carries it, so it is also the natural key to keep a booking's events in
/// order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BookingId(Uuid);

/// Identifies the person who asked for a seat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

/// A seat in the venue, written as on the ticket: a row letter and a number,
/// `A12`.
///
/// A newtype rather than a bare `String`, so that a seat cannot be passed where
/// a user name is expected, and so that every `SeatId` in the program is valid:
/// the only way to make one is [`SeatId::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeatId(String);
// ANCHOR_END: ids

impl BookingId {
    /// A new, random booking id (UUID version 4).
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps an existing UUID, for example one read from the wire.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for BookingId {
    fn default() -> Self {
        Self::new()
    }
}

impl UserId {
    /// A new, random user id (UUID version 4).
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Wraps an existing UUID, for example one read from the wire.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for UserId {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a text is not a seat id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a seat: expected a row letter A-Z and a seat number 1-999, like \"A12\""
)]
pub struct InvalidSeatId {
    /// The text that was rejected, kept so the error can show it.
    pub input: String,
}

impl SeatId {
    /// Parses a seat written as a row letter `A`-`Z` followed by a number 1-999
    /// without leading zeros, such as `A1` or `K120`.
    pub fn parse(input: &str) -> Result<Self, InvalidSeatId> {
        let invalid = || InvalidSeatId {
            input: input.to_owned(),
        };
        let mut chars = input.chars();
        let row = chars.next().ok_or_else(invalid)?;
        let number = chars.as_str();
        let number_ok = !number.is_empty()
            && number.len() <= 3
            && !number.starts_with('0')
            && number.bytes().all(|b| b.is_ascii_digit());
        if row.is_ascii_uppercase() && number_ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(invalid())
        }
    }

    /// The seat as written on the ticket.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for SeatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ANCHOR: event
/// Something that happened to a booking. Past tense on purpose: an event is a
/// fact, it cannot be refused, only recorded. Whether it is *accepted* by a
/// booking is decided by [`crate::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookingEvent {
    /// A user asked for a seat; if it is free, the seat is now held for them.
    ReservationRequested {
        booking_id: BookingId,
        seat_id: SeatId,
        user_id: UserId,
    },
    /// The user paid for the held seat.
    PaymentReceived { booking_id: BookingId },
    /// The hold ran out before a payment arrived.
    ReservationExpired { booking_id: BookingId },
}
// ANCHOR_END: event

// ANCHOR: accessors
impl BookingEvent {
    /// The booking this event belongs to. Every variant has one; a consumer
    /// uses it to find the booking's current state (and, later, as the
    /// partition key).
    pub fn booking_id(&self) -> BookingId {
        // exercise: solution
        match self {
            BookingEvent::ReservationRequested { booking_id, .. }
            | BookingEvent::PaymentReceived { booking_id }
            | BookingEvent::ReservationExpired { booking_id } => *booking_id,
        }
        // exercise: stub
        // todo!("return the booking id of any variant (chapter 01)")
        // exercise: end
    }

    /// The event's name as it appears in logs and on the dead-letter topic, for
    /// example `"PaymentReceived"`.
    pub fn name(&self) -> &'static str {
        // exercise: solution
        match self {
            BookingEvent::ReservationRequested { .. } => "ReservationRequested",
            BookingEvent::PaymentReceived { .. } => "PaymentReceived",
            BookingEvent::ReservationExpired { .. } => "ReservationExpired",
        }
        // exercise: stub
        // todo!("return the variant's name (chapter 01)")
        // exercise: end
    }
}
// ANCHOR_END: accessors
