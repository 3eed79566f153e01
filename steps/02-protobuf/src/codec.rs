//! Domain events to bytes and back: the two functions a producer and a consumer
//! call.

use bytes::Bytes;
use prost::Message;
use solution01_events::BookingEvent;

use crate::WireError;
use crate::pb;

// ANCHOR: encode
/// Encodes an event as a `booking.v1.BookingEvent`: the bytes a producer sends.
/// The event becomes its protobuf message (the `From` in `to_wire.rs`), and
/// that message is encoded.
pub fn encode(event: &BookingEvent) -> Bytes {
    todo!("convert to pb::BookingEvent and encode it (chapter 02)")
}
// ANCHOR_END: encode

// ANCHOR: decode
/// Decodes the bytes a consumer received into a `pb::BookingEvent`, then
/// converts it with `TryFrom`, which checks every field. Bytes from the outside
/// can hold anything: every problem is a [`WireError`], never a panic.
pub fn decode(bytes: &[u8]) -> Result<BookingEvent, WireError> {
    todo!("decode, then convert with TryFrom (chapter 02)")
}
// ANCHOR_END: decode
