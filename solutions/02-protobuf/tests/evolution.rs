//! Exercise `evolution`: `decode` in src/codec.rs, when producer and consumer
//! run different versions of the schema.
//!
//! `pb_next` is the later version in proto/evolution/booking_next.proto: it
//! adds `PaymentReceived.amount_cents` and a `ReservationCancelled` case. Its
//! bytes play the part of an upgraded producer; `decode` plays this step's
//! consumer.

mod common;

use common::BOOKING;
use prost::Message;
use solution02_protobuf::{WireError, decode, encode, pb, pb_next};

fn next_payment(amount_cents: i64) -> Vec<u8> {
    pb_next::BookingEvent {
        event: Some(pb_next::booking_event::Event::PaymentReceived(
            pb_next::PaymentReceived {
                booking_id: BOOKING.to_owned(),
                amount_cents,
            },
        )),
    }
    .encode_to_vec()
}

// ANCHOR: old_reader
#[test]
fn an_old_reader_ignores_a_field_added_later() {
    assert_eq!(
        decode(&next_payment(4_200)),
        Ok(common::paid()),
        "a PaymentReceived written with the newer schema carries amount_cents, which this \
         reader does not know: decode must skip it and return the payment, not fail"
    );
}

#[test]
fn an_old_reader_reports_a_new_kind_of_event_as_unknown() {
    let cancelled = pb_next::BookingEvent {
        event: Some(pb_next::booking_event::Event::ReservationCancelled(
            pb_next::ReservationCancelled {
                booking_id: BOOKING.to_owned(),
                reason: "changed my mind".to_owned(),
            },
        )),
    };
    assert_eq!(
        decode(&cancelled.encode_to_vec()),
        Err(WireError::UnknownEvent),
        "a ReservationCancelled is oneof case 4, unknown to this schema: the decoded message \
         has no case set, but the bytes were not empty, so decode must say UnknownEvent \
         (written by a newer producer), not MissingEvent (written empty)"
    );
}
// ANCHOR_END: old_reader

#[test]
fn an_empty_message_is_missing_its_event_not_unknown() {
    assert_eq!(
        decode(&[]),
        Err(WireError::MissingEvent),
        "zero bytes hold no field at all, known or unknown: that is MissingEvent"
    );
}

/// A message with an `event_id` (field 15, which step 11 sets) and no case.
fn id_only() -> Vec<u8> {
    pb::BookingEvent {
        event: None,
        event_id: "6f1c2a3e-0b5d-4c8e-9f10-2a3b4c5d6e7f".to_owned(),
    }
    .encode_to_vec()
}

#[test]
fn a_message_with_only_an_event_id_is_missing_its_event_not_unknown() {
    assert_eq!(
        decode(&id_only()),
        Err(WireError::MissingEvent),
        "event_id sits beside the oneof and this reader knows it: a message with an id and \
         no case is not empty, but it holds nothing this reader skipped, so it is \
         MissingEvent. Compare message.encoded_len() with bytes.len() rather than asking \
         whether the bytes are empty"
    );
}

#[test]
fn a_new_kind_of_event_with_an_event_id_is_still_unknown() {
    // Protobuf messages concatenate: the bytes of two messages in a row decode
    // as one message with the fields of both. This is a ReservationCancelled
    // from a newer producer that also sets event_id.
    let mut bytes = pb_next::BookingEvent {
        event: Some(pb_next::booking_event::Event::ReservationCancelled(
            pb_next::ReservationCancelled {
                booking_id: BOOKING.to_owned(),
                reason: "changed my mind".to_owned(),
            },
        )),
    }
    .encode_to_vec();
    bytes.extend(id_only());
    assert_eq!(
        decode(&bytes),
        Err(WireError::UnknownEvent),
        "the event_id this reader knows does not make an unknown case known: the bytes \
         still hold oneof case 4, which this reader skipped, so decode must say UnknownEvent"
    );
}

// ANCHOR: new_reader
#[test]
fn a_new_reader_sees_zero_for_a_field_old_writers_never_sent() {
    let old_bytes = encode(&common::paid());
    let read = pb_next::BookingEvent::decode(old_bytes.as_ref())
        .expect("the newer schema must read bytes written with the older one");
    let Some(pb_next::booking_event::Event::PaymentReceived(paid)) = read.event
    else {
        panic!(
            "an old PaymentReceived must still be a PaymentReceived to the newer schema, got {read:?}"
        );
    };
    assert_eq!(
        paid.booking_id, BOOKING,
        "fields that exist in both versions keep their values"
    );
    assert_eq!(
        paid.amount_cents, 0,
        "a field the writer did not know reads as its default, 0: a new reader cannot tell \
         an old producer from a free ticket"
    );
}
// ANCHOR_END: new_reader

#[test]
fn a_new_reader_reads_every_old_event() {
    use pb_next::booking_event::Event;
    for old in [common::requested(), common::paid(), common::expired()] {
        let read = pb_next::BookingEvent::decode(encode(&old).as_ref()).expect(
            "the newer schema must read bytes written with the older one",
        );
        let same_case = matches!(
            (&old, &read.event),
            (
                solution02_protobuf::BookingEvent::ReservationRequested { .. },
                Some(Event::ReservationRequested(_))
            ) | (
                solution02_protobuf::BookingEvent::PaymentReceived { .. },
                Some(Event::PaymentReceived(_))
            ) | (
                solution02_protobuf::BookingEvent::ReservationExpired { .. },
                Some(Event::ReservationExpired(_))
            )
        );
        assert!(
            same_case,
            "{old:?} must be read as the same case by the newer schema, got {:?}",
            read.event
        );
    }
}

// ANCHOR: reencode
#[test]
fn an_old_reader_that_re_encodes_an_event_loses_the_new_field() {
    let forwarded = encode(
        &decode(&next_payment(4_200))
            .expect("an old reader reads a new payment"),
    );
    let read = pb_next::BookingEvent::decode(forwarded.as_ref())
        .expect("the newer schema reads what the old reader wrote");
    let Some(pb_next::booking_event::Event::PaymentReceived(paid)) = read.event
    else {
        panic!(
            "the forwarded event must still be a PaymentReceived, got {read:?}"
        );
    };
    assert_eq!(
        paid.amount_cents, 0,
        "prost drops the fields it does not know while decoding, so an old reader that \
         decodes and re-encodes an event forwards it without amount_cents. A service that \
         passes events on must forward the bytes it received, not a re-encoded copy"
    );
}
// ANCHOR_END: reencode
