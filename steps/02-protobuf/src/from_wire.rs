//! From the wire to the domain. The message was written by another program,
//! maybe in another language, maybe by a newer or buggy version: nothing in it
//! is trusted until it has been checked, and a bad value is an error, never a
//! panic.

use solution01_events::{BookingEvent, BookingId, SeatId, UserId};
use uuid::Uuid;

use crate::WireError;
use crate::pb;
use crate::pb::booking_event::Event;

// ANCHOR: from_wire
/// The domain event a protobuf message describes, once every field has been
/// checked: the oneof holds a case, ids are UUIDs, the seat is a seat.
impl TryFrom<pb::BookingEvent> for BookingEvent {
    type Error = WireError;

    /// Checks the oneof case and every field, and builds the domain event, or
    /// returns the [`WireError`] that names the field that is wrong.
    fn try_from(message: pb::BookingEvent) -> Result<Self, Self::Error> {
        todo!("check every field and build the event (chapter 02)")
    }
}
// ANCHOR_END: from_wire
