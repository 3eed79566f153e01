//! Domain events to bytes and back: the two functions a producer and a consumer call.

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
    // exercise: solution
    // `encode_to_vec` sizes its buffer first, so it cannot run out of room and
    // cannot fail, unlike `Message::encode` into a buffer of fixed capacity.
    Bytes::from(pb::BookingEvent::from(event).encode_to_vec())
    // exercise: stub
    // todo!("convert to pb::BookingEvent and encode it (chapter 02)")
    // exercise: end
}
// ANCHOR_END: encode

// ANCHOR: decode
/// Decodes the bytes a consumer received into a `pb::BookingEvent`, then
/// converts it with `TryFrom`, which checks every field. Bytes from the outside
/// can hold anything: every problem is a [`WireError`], never a panic.
pub fn decode(bytes: &[u8]) -> Result<BookingEvent, WireError> {
    // exercise: solution
    let message = pb::BookingEvent::decode(bytes)?;
    // A reader skips the fields its schema does not know, so a case added to the
    // oneof by a newer schema decodes to `event: None`, just like an empty
    // message. The bytes tell the two apart: since the oneof is BookingEvent's
    // only field, a message with no known case but some bytes held only fields
    // this reader does not know. (If BookingEvent ever gets a field beside the
    // oneof, compare `message.encoded_len()` with `bytes.len()` instead.)
    if message.event.is_none() && !bytes.is_empty() {
        return Err(WireError::UnknownEvent);
    }
    BookingEvent::try_from(message)
    // exercise: stub
    // todo!("decode, then convert with TryFrom (chapter 02)")
    // exercise: end
}
// ANCHOR_END: decode
