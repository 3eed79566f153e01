//! From the domain to the wire. Every domain event has a protobuf form, so this
//! direction cannot fail: it is a `From`, not a `TryFrom`.

use solution01_events::BookingEvent;
// exercise: solution
use uuid::Uuid;
// exercise: end

use crate::pb;
use crate::pb::booking_event::Event;

// ANCHOR: to_wire
/// The protobuf form of a domain event, ready to be encoded.
///
/// Ids become UUID text in the standard lowercase form with hyphens,
/// `6f1c2a3e-0b5d-4c8e-9f10-2a3b4c5d6e7f`, which every language can parse; the
/// seat stays as written on the ticket, `A12`.
impl From<&BookingEvent> for pb::BookingEvent {
    /// The protobuf form of a domain event: the case of the `event` oneof that
    /// matches the variant, with every id written as lowercase hyphenated UUID
    /// text.
    fn from(event: &BookingEvent) -> Self {
        // exercise: solution
        // No `_ =>` arm: when the domain gains an event, this stops compiling
        // until the schema has a case for it.
        let event = match event {
            BookingEvent::ReservationRequested {
                booking_id,
                seat_id,
                user_id,
            } => Event::ReservationRequested(pb::ReservationRequested {
                booking_id: uuid_text(booking_id.as_uuid()),
                seat_id: seat_id.as_str().to_owned(),
                user_id: uuid_text(user_id.as_uuid()),
            }),
            BookingEvent::PaymentReceived { booking_id } => {
                Event::PaymentReceived(pb::PaymentReceived {
                    booking_id: uuid_text(booking_id.as_uuid()),
                })
            }
            BookingEvent::ReservationExpired { booking_id } => {
                Event::ReservationExpired(pb::ReservationExpired {
                    booking_id: uuid_text(booking_id.as_uuid()),
                })
            }
        };
        // Step 02's events have no id yet: an empty `event_id` is not written
        // at all, so the bytes are what they were before step 11 added it.
        pb::BookingEvent {
            event: Some(event),
            event_id: String::new(),
        }
        // exercise: stub
        // todo!("build the message for the event (chapter 02)")
        // exercise: end
    }
}
// ANCHOR_END: to_wire
// exercise: solution

/// The wire form of an id. Spelled out rather than left to `Display`: `Display`
/// is for people and may change, while these bytes are a contract.
fn uuid_text(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}
// exercise: end
