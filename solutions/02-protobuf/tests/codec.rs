//! Exercise `codec`: `encode` and `decode` in src/codec.rs.

mod common;

use common::{BOOKING, from_hex, to_hex};
use proptest::prelude::*;
use prost::Message;
use solution02_protobuf::pb::booking_event::Event;
use solution02_protobuf::{
    BookingEvent, BookingId, InvalidSeatId, SeatId, UserId, WireError, decode,
    encode, pb,
};
use uuid::Uuid;

// ANCHOR: golden
// The wire format is frozen: consumers that are already deployed read these
// exact bytes. Each field starts with a tag, `(field number << 3) | wire type`;
// wire type 2 means "length-delimited": a length follows, then that many bytes
// (a string or a nested message). A tag below 128 fits in one byte, and so does
// a length.

/// `PaymentReceived { booking_id: 11111111-2222-3333-4444-555555555555 }`
const PAYMENT_RECEIVED: &str = concat!(
    "12", // BookingEvent field 2 (payment_received), wire type 2: (2 << 3) | 2
    "26", // length 38: the PaymentReceived message follows
    "0a", //   PaymentReceived field 1 (booking_id), wire type 2: (1 << 3) | 2
    "24", //   length 36: UUID text, one byte a character ('1' is 0x31, '-' is 0x2d)
    "31313131313131312d323232322d333333332d343434342d353535353535353535353535",
);
// ANCHOR_END: golden

/// `ReservationRequested { booking_id: 1111..., seat_id: A12, user_id: 6666...
/// }`
const RESERVATION_REQUESTED: &str = concat!(
    "0a", // BookingEvent field 1 (reservation_requested), wire type 2: (1 << 3) | 2
    "51", // length 81 = (1 + 1 + 36) + (1 + 1 + 3) + (1 + 1 + 36)
    "0a", //   field 1 (booking_id), wire type 2
    "24", //   length 36
    "31313131313131312d323232322d333333332d343434342d353535353535353535353535",
    "12",     //   field 2 (seat_id), wire type 2: (2 << 3) | 2
    "03",     //   length 3
    "413132", //   "A12"
    "1a",     //   field 3 (user_id), wire type 2: (3 << 3) | 2
    "24",     //   length 36
    "36363636363636362d373737372d383838382d393939392d616161616161616161616161",
);

/// `ReservationExpired { booking_id: 11111111-2222-3333-4444-555555555555 }`
const RESERVATION_EXPIRED: &str = concat!(
    "1a", // BookingEvent field 3 (reservation_expired), wire type 2: (3 << 3) | 2
    "26", // length 38
    "0a", //   field 1 (booking_id), wire type 2
    "24", //   length 36
    "31313131313131312d323232322d333333332d343434342d353535353535353535353535",
);

// ANCHOR: golden_test
#[test]
fn a_payment_is_encoded_to_the_frozen_bytes() {
    assert_eq!(
        to_hex(&encode(&common::paid())),
        PAYMENT_RECEIVED,
        "PaymentReceived must encode to exactly these bytes: deployed consumers read them. \
         Compare tag by tag with the comments on PAYMENT_RECEIVED: a different first byte \
         means another oneof case, a different id means the id text is not plain UUID text"
    );
}
// ANCHOR_END: golden_test

#[test]
fn a_reservation_request_is_encoded_to_the_frozen_bytes() {
    assert_eq!(
        to_hex(&encode(&common::requested())),
        RESERVATION_REQUESTED,
        "ReservationRequested must encode to exactly these bytes. Compare tag by tag with \
         the comments on RESERVATION_REQUESTED: are the booking id and the user id swapped?"
    );
}

#[test]
fn an_expiry_is_encoded_to_the_frozen_bytes() {
    assert_eq!(
        to_hex(&encode(&common::expired())),
        RESERVATION_EXPIRED,
        "ReservationExpired must encode to exactly these bytes: its tag is 0x1a, oneof field 3"
    );
}

#[test]
fn the_frozen_bytes_decode_to_the_events_they_were_written_from() {
    for (name, hex, want) in [
        (
            "ReservationRequested",
            RESERVATION_REQUESTED,
            common::requested(),
        ),
        ("PaymentReceived", PAYMENT_RECEIVED, common::paid()),
        ("ReservationExpired", RESERVATION_EXPIRED, common::expired()),
    ] {
        assert_eq!(
            decode(&from_hex(hex)),
            Ok(want),
            "the frozen bytes of {name} must decode back to the event they were written from"
        );
    }
}

/// Any booking event: random ids, any seat from A1 to Z999.
fn any_event() -> impl Strategy<Value = BookingEvent> {
    let booking_id =
        any::<u128>().prop_map(|n| BookingId::from_uuid(Uuid::from_u128(n)));
    let user_id =
        any::<u128>().prop_map(|n| UserId::from_uuid(Uuid::from_u128(n)));
    let seat_id = (b'A'..=b'Z', 1u16..=999).prop_map(|(row, number)| {
        SeatId::parse(&format!("{}{number}", char::from(row)))
            .expect("A1..Z999 are seats")
    });
    prop_oneof![
        (booking_id.clone(), seat_id, user_id).prop_map(
            |(booking_id, seat_id, user_id)| {
                BookingEvent::ReservationRequested {
                    booking_id,
                    seat_id,
                    user_id,
                }
            }
        ),
        booking_id.clone().prop_map(|booking_id| {
            BookingEvent::PaymentReceived { booking_id }
        }),
        booking_id.prop_map(|booking_id| BookingEvent::ReservationExpired {
            booking_id
        }),
    ]
}

// Few cases keep the check fast after every save; the properties are simple
// enough that 64 random inputs find a mistake.

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    #[test]
    fn every_event_survives_the_trip_to_bytes_and_back(event in any_event()) {
        prop_assert_eq!(
            decode(&encode(&event)),
            Ok(event.clone()),
            "decode(encode(event)) must give back the same event"
        );
    }

    #[test]
    fn arbitrary_bytes_give_an_event_or_an_error_never_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..128)
    ) {
        // Reaching the end of this test is the point: a panic fails it.
        if let Ok(event) = decode(&bytes) {
            prop_assert_eq!(
                decode(&encode(&event)),
                Ok(event.clone()),
                "whatever decode accepts must survive encode and decode unchanged"
            );
        }
    }

    #[test]
    fn a_corrupted_event_gives_an_event_or_an_error_never_a_panic(
        event in any_event(),
        position in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = encode(&event).to_vec();
        // An `Index` shrinks towards the first byte and prints as a small
        // number, unlike a random usize taken modulo the length.
        let position = position.index(bytes.len());
        bytes[position] = byte;
        if let Ok(event) = decode(&bytes) {
            prop_assert_eq!(
                decode(&encode(&event)),
                Ok(event.clone()),
                "whatever decode accepts must survive encode and decode unchanged"
            );
        }
    }
}

#[test]
fn no_bytes_at_all_are_missing_an_event() {
    assert_eq!(
        decode(&[]),
        Err(WireError::MissingEvent),
        "zero bytes are a valid protobuf message with no field set: decode must return WireError::MissingEvent"
    );
}

#[test]
fn every_truncated_event_is_an_error() {
    let bytes = encode(&common::requested());
    for length in 1..bytes.len() {
        let result = decode(&bytes[..length]);
        assert!(
            matches!(result, Err(WireError::Decode(_))),
            "the first {length} of {} bytes of an event must give WireError::Decode, got {result:?}",
            bytes.len()
        );
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let cases: [(&str, &[u8]); 5] = [
        ("a varint that never ends", &[0xff; 12]),
        ("field number 0, which protobuf forbids", &[0x00, 0x01]),
        (
            "a number where the reservation_requested message belongs",
            &[0x08, 0x01],
        ),
        (
            "a booking id that is not UTF-8",
            &[0x12, 0x03, 0x0a, 0x01, 0xff],
        ),
        (
            "JSON instead of protobuf",
            br#"{"payment_received":{"booking_id":"11111111-2222-3333-4444-555555555555"}}"#,
        ),
    ];
    for (what, bytes) in cases {
        let result = decode(bytes);
        assert!(
            matches!(result, Err(WireError::Decode(_))),
            "{what} must give WireError::Decode, got {result:?}"
        );
    }
}

#[test]
fn decoding_checks_the_fields_too() {
    let bad_id = pb::BookingEvent {
        event: Some(Event::PaymentReceived(pb::PaymentReceived {
            booking_id: "tomorrow".to_owned(),
        })),
        ..Default::default()
    };
    assert_eq!(
        decode(&bad_id.encode_to_vec()),
        Err(WireError::InvalidUuid {
            field: "booking_id",
            value: "tomorrow".to_owned()
        }),
        "well-formed bytes can still hold a bad id: decode must convert with TryFrom, which checks every field"
    );

    let bad_seat = pb::BookingEvent {
        event: Some(Event::ReservationRequested(pb::ReservationRequested {
            booking_id: BOOKING.to_owned(),
            seat_id: "A0".to_owned(),
            user_id: common::USER.to_owned(),
        })),
        ..Default::default()
    };
    assert_eq!(
        decode(&bad_seat.encode_to_vec()),
        Err(WireError::InvalidSeat(InvalidSeatId {
            input: "A0".to_owned()
        })),
        "well-formed bytes can still hold a bad seat: decode must give WireError::InvalidSeat"
    );
}
