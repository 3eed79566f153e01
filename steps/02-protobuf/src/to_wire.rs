//! From the domain to the wire. Every domain event has a protobuf form, so this
//! direction cannot fail: it is a `From`, not a `TryFrom`.

use solution01_events::BookingEvent;

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
        todo!("build the message for the event (chapter 02)")
    }
}
// ANCHOR_END: to_wire
