//! Domain events to bytes and back: the two functions a producer and a consumer call.

use bytes::Bytes;
use prost::Message;
use solution01_events::BookingEvent;

use crate::WireError;
use crate::pb;

// ANCHOR: encode
/// Encodes an event as a `booking.v1.BookingEvent`: the bytes a producer sends.
pub fn encode(event: &BookingEvent) -> Bytes {
    todo!(
        "turn the event into its protobuf message and encode that into bytes (chapter 02)"
    )
}
// ANCHOR_END: encode

// ANCHOR: decode
/// Decodes the bytes a consumer received. Bytes from the outside can hold anything:
/// every problem is a [`WireError`], never a panic.
pub fn decode(bytes: &[u8]) -> Result<BookingEvent, WireError> {
    todo!(
        "decode the bytes into a pb::BookingEvent, then convert it with TryFrom; return errors, never panic (chapter 02)"
    )
}
// ANCHOR_END: decode
