//! An id for every event, given by its producer and carried on the wire.

use std::fmt;

use bytes::Bytes;
use prost::Message;
use solution01_events::BookingEvent;
use solution02_protobuf::{WireError, decode, pb};
use uuid::Uuid;

// ANCHOR: event_id
/// The id a producer gives an event when it creates it. A retry sends the same
/// event with the same id, so the repeat is recognised wherever it lands in the
/// log. An offset cannot do that: it names a place in the log, and a retried
/// publish is a second place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Uuid);
// ANCHOR_END: event_id

impl EventId {
    /// A fresh, random id (UUID version 4): producers that never talk to each
    /// other do not pick the same one.
    pub fn new() -> EventId {
        EventId(Uuid::new_v4())
    }

    pub fn from_uuid(uuid: Uuid) -> EventId {
        EventId(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for EventId {
    fn default() -> EventId {
        EventId::new()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

// ANCHOR: identified_event
/// A booking event together with the id its producer gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifiedEvent {
    pub id: EventId,
    pub event: BookingEvent,
}
// ANCHOR_END: identified_event

impl IdentifiedEvent {
    /// Gives `event` a fresh id: call it once, where the event is created, and
    /// keep the result for every retry.
    pub fn new(event: BookingEvent) -> IdentifiedEvent {
        IdentifiedEvent {
            id: EventId::new(),
            event,
        }
    }
}

// ANCHOR: event_id_error
/// Why bytes are not an identified booking event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventIdError {
    /// The bytes are not a valid booking event at all (step 02's checks).
    #[error("the bytes are not a valid booking event")]
    Wire(#[from] WireError),
    /// A valid event with no id: written by a producer that does not set one
    /// yet, such as step 02's `encode`. It cannot be told apart from a retry.
    #[error(
        "the event has no event_id, so a retry of it could not be recognised: \
         give every event an id where it is created (IdentifiedEvent::new) and \
         encode it with encode_identified"
    )]
    Missing,
    /// The id is there but is not a UUID.
    #[error(
        "the event_id {value:?} is not a UUID: the producer must send the id as \
         UUID text, such as 6f1c2a3e-0b5d-4c8e-9f10-2a3b4c5d6e7f"
    )]
    Invalid { value: String },
}
// ANCHOR_END: event_id_error

// ANCHOR: encode_identified
/// The protobuf bytes of an event and its id: step 02's message with its
/// `event_id` field (number 15) set.
pub fn encode_identified(event: &IdentifiedEvent) -> Bytes {
    todo!(
        "step 02's message, with event_id set to the id as UUID text (chapter 11)"
    )
}
// ANCHOR_END: encode_identified

// ANCHOR: decode_identified
/// Reads an event and its id from protobuf bytes. The event is checked exactly
/// as step 02 checks it; an event without an id is refused, because nothing
/// could recognise its retries.
pub fn decode_identified(
    bytes: &[u8],
) -> Result<IdentifiedEvent, EventIdError> {
    todo!("decode with step 02, then check the event_id (chapter 11)")
}
// ANCHOR_END: decode_identified
