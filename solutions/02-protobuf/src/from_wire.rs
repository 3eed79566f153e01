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
        // exercise: solution
        // `None` cannot say why no case is set: the message was empty, or it
        // held a case this schema does not know and the decoder skipped it.
        // Only `decode`, which still has the bytes, can tell (see codec.rs).
        let event = message.event.ok_or(WireError::MissingEvent)?;
        let domain = match event {
            Event::ReservationRequested(requested) => {
                BookingEvent::ReservationRequested {
                    booking_id: BookingId::from_uuid(parse_uuid(
                        "booking_id",
                        requested.booking_id,
                    )?),
                    seat_id: SeatId::parse(&requested.seat_id)?,
                    user_id: UserId::from_uuid(parse_uuid(
                        "user_id",
                        requested.user_id,
                    )?),
                }
            }
            Event::PaymentReceived(paid) => BookingEvent::PaymentReceived {
                booking_id: BookingId::from_uuid(parse_uuid(
                    "booking_id",
                    paid.booking_id,
                )?),
            },
            Event::ReservationExpired(expired) => {
                BookingEvent::ReservationExpired {
                    booking_id: BookingId::from_uuid(parse_uuid(
                        "booking_id",
                        expired.booking_id,
                    )?),
                }
            }
        };
        Ok(domain)
        // exercise: stub
        // todo!("check every field and build the event (chapter 02)")
        // exercise: end
    }
}
// ANCHOR_END: from_wire
// exercise: solution

/// Parses an id field, naming the field if it is not UUID text.
///
/// `Uuid::try_parse` also accepts the other spellings of a UUID (no hyphens,
/// braces, `urn:uuid:`), which costs nothing here: the value is the same UUID.
fn parse_uuid(field: &'static str, text: String) -> Result<Uuid, WireError> {
    Uuid::try_parse(&text)
        .map_err(|_| WireError::InvalidUuid { field, value: text })
}
// exercise: end
