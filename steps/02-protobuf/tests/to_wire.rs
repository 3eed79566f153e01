//! Exercise `to_wire`: `impl From<&BookingEvent> for pb::BookingEvent` in
//! src/to_wire.rs.

mod common;

use common::{BOOKING, SEAT, USER};
use step02_protobuf::pb;
use step02_protobuf::pb::booking_event::Event;

#[test]
fn a_reservation_request_becomes_the_reservation_requested_case() {
    let wire = pb::BookingEvent::from(&common::requested());
    let Some(Event::ReservationRequested(requested)) = wire.event else {
        panic!(
            "a ReservationRequested event must set the `reservation_requested` case of the oneof, got {:?}",
            wire.event
        );
    };
    assert!(
        !requested.booking_id.starts_with("BookingId("),
        "`booking_id` holds Rust's debug output {:?}; the wire needs plain UUID text that any language can parse",
        requested.booking_id
    );
    assert_eq!(
        requested.booking_id,
        BOOKING,
        "`booking_id` must hold the booking id as UUID text{}",
        if requested.booking_id == USER {
            " (it holds the user id: are the two swapped?)"
        } else {
            ""
        }
    );
    assert_eq!(
        requested.seat_id, SEAT,
        "`seat_id` must hold the seat as written on the ticket"
    );
    assert_eq!(
        requested.user_id,
        USER,
        "`user_id` must hold the user id as UUID text{}",
        if requested.user_id == BOOKING {
            " (it holds the booking id: are the two swapped?)"
        } else {
            ""
        }
    );
}

#[test]
fn a_payment_becomes_the_payment_received_case() {
    let wire = pb::BookingEvent::from(&common::paid());
    assert_eq!(
        wire.event,
        Some(Event::PaymentReceived(pb::PaymentReceived {
            booking_id: BOOKING.to_owned()
        })),
        "a PaymentReceived event must set the `payment_received` case, with the booking id as UUID text"
    );
}

#[test]
fn an_expiry_becomes_the_reservation_expired_case() {
    let wire = pb::BookingEvent::from(&common::expired());
    assert_eq!(
        wire.event,
        Some(Event::ReservationExpired(pb::ReservationExpired {
            booking_id: BOOKING.to_owned()
        })),
        "a ReservationExpired event must set the `reservation_expired` case, with the booking id as UUID text"
    );
}

#[test]
fn ids_are_plain_uuid_text_that_any_language_can_parse() {
    let wire = pb::BookingEvent::from(&common::paid());
    let Some(Event::PaymentReceived(paid)) = wire.event else {
        panic!(
            "a PaymentReceived event must set the `payment_received` case, got {:?}",
            wire.event
        );
    };
    assert!(
        !paid.booking_id.contains("BookingId"),
        "`booking_id` is {:?}: that is Rust's debug output, which a consumer in another language cannot parse; write the UUID text only",
        paid.booking_id
    );
    assert_eq!(
        paid.booking_id, BOOKING,
        "ids go on the wire as UUID text in lowercase with hyphens, like {BOOKING:?}"
    );
}
