//! Exercise "event_id": `encode_identified` and `decode_identified` in
//! src/event_id.rs.

mod common;

use common::{paid, requested};
use prost::Message;
use solution02_protobuf::{pb, pb_next};
use solution11_idempotency::{
    EventIdError, IdentifiedEvent, WireError, decode_identified,
    encode_identified,
};

#[test]
fn an_event_and_its_id_come_back_from_the_wire() {
    let (booking_id, request) = requested("A1");
    for event in [request, paid(booking_id)] {
        let bytes = encode_identified(&event);
        assert_eq!(
            decode_identified(&bytes),
            Ok(event.clone()),
            "decode_identified(encode_identified(e)) must give e back, with the same event id"
        );
    }
}

#[test]
fn the_id_travels_in_field_event_id_as_uuid_text() {
    let (_, event) = requested("A1");
    let bytes = encode_identified(&event);
    let message = pb::BookingEvent::decode(bytes.as_ref())
        .expect("encode_identified must write a booking.v1.BookingEvent");
    assert_eq!(
        message.event_id,
        event.id.as_uuid().hyphenated().to_string(),
        "the id goes into the message's event_id field, as UUID text with hyphens"
    );
    assert!(
        message.event.is_some(),
        "the event itself must be in the message too, as step 02 writes it"
    );
}

#[test]
fn a_reader_of_step_02_still_reads_the_new_bytes() {
    let (_, event) = requested("A1");
    let bytes = encode_identified(&event);
    assert_eq!(
        solution02_protobuf::decode(&bytes),
        Ok(event.event),
        "an old consumer (step 02's decode) must skip the new field and read the same event: \
         a new field number is a compatible change"
    );
}

#[test]
fn an_event_without_an_id_is_refused() {
    let (_, event) = requested("A1");
    let old_bytes = solution02_protobuf::encode(&event.event);
    assert_eq!(
        decode_identified(&old_bytes),
        Err(EventIdError::Missing),
        "bytes written by step 02's encode decode fine but carry no event id: without one, \
         a retry of the event cannot be recognised, so decode_identified must refuse them"
    );
}

#[test]
fn an_id_that_is_not_a_uuid_is_refused() {
    let (_, event) = requested("A1");
    let mut message = pb::BookingEvent::from(&event.event);
    message.event_id = "order-42".to_owned();
    assert_eq!(
        decode_identified(&message.encode_to_vec()),
        Err(EventIdError::Invalid {
            value: "order-42".to_owned()
        }),
        "an event_id that is not UUID text must give EventIdError::Invalid with the text"
    );
}

#[test]
fn bytes_that_are_no_event_are_refused_with_step_02s_error() {
    let result = decode_identified(&[0xff, 0xff, 0xff]);
    assert!(
        matches!(result, Err(EventIdError::Wire(WireError::Decode(_)))),
        "bytes that are not protobuf must give step 02's WireError::Decode inside \
         EventIdError::Wire, got {result:?}"
    );
}

/// The `event_id` field of `id` alone, as bytes: protobuf messages
/// concatenate, so appending these to a message sets its id.
fn event_id_field(id: &str) -> Vec<u8> {
    pb::BookingEvent {
        event: None,
        event_id: id.to_owned(),
    }
    .encode_to_vec()
}

#[test]
fn an_event_from_a_newer_schema_is_refused_as_unknown() {
    // A newer producer: a ReservationCancelled (oneof case 4, which this
    // schema does not have) with a valid event id.
    let mut bytes = pb_next::BookingEvent {
        event: Some(pb_next::booking_event::Event::ReservationCancelled(
            pb_next::ReservationCancelled {
                booking_id: "11111111-2222-3333-4444-555555555555".to_owned(),
                reason: "changed my mind".to_owned(),
            },
        )),
    }
    .encode_to_vec();
    bytes.extend(event_id_field("6f1c2a3e-0b5d-4c8e-9f10-2a3b4c5d6e7f"));
    assert_eq!(
        decode_identified(&bytes),
        Err(EventIdError::Wire(WireError::UnknownEvent)),
        "an event this reader does not know must be step 02's UnknownEvent (upgrade the \
         consumer), not MissingEvent (fix the producer). Only step 02's decode(bytes) can \
         tell them apart, because it still has the bytes: converting the decoded message \
         with BookingEvent::try_from sees no case and says MissingEvent"
    );
}

#[test]
fn an_id_without_an_event_is_refused_as_missing_its_event() {
    let bytes = event_id_field("6f1c2a3e-0b5d-4c8e-9f10-2a3b4c5d6e7f");
    assert_eq!(
        decode_identified(&bytes),
        Err(EventIdError::Wire(WireError::MissingEvent)),
        "a message with an event id and no case holds no event, and nothing this reader \
         does not know: step 02's MissingEvent, inside EventIdError::Wire"
    );
}

#[test]
fn encoding_keeps_the_id_so_a_retry_is_the_same_bytes() {
    let (_, event) = requested("A1");
    let retry: IdentifiedEvent = event.clone();
    assert_eq!(
        encode_identified(&event),
        encode_identified(&retry),
        "a retried publish sends the same event with the same id, so the same bytes"
    );
}
