//! Exercise `from_wire`: `impl TryFrom<pb::BookingEvent> for BookingEvent` in
//! src/from_wire.rs.

mod common;

use common::{BOOKING, SEAT, USER};
use step02_protobuf::pb::booking_event::Event;
use step02_protobuf::{BookingEvent, InvalidSeatId, WireError, pb};

fn message(event: Event) -> pb::BookingEvent {
    pb::BookingEvent {
        event: Some(event),
        ..Default::default()
    }
}

fn requested(
    booking_id: &str,
    seat_id: &str,
    user_id: &str,
) -> pb::BookingEvent {
    message(Event::ReservationRequested(pb::ReservationRequested {
        booking_id: booking_id.to_owned(),
        seat_id: seat_id.to_owned(),
        user_id: user_id.to_owned(),
    }))
}

#[test]
fn a_valid_reservation_request_becomes_the_domain_event() {
    assert_eq!(
        BookingEvent::try_from(requested(BOOKING, SEAT, USER)),
        Ok(common::requested()),
        "a `reservation_requested` message with valid ids and seat must become ReservationRequested with the same ids and seat"
    );
}

#[test]
fn a_valid_payment_becomes_the_domain_event() {
    let wire = message(Event::PaymentReceived(pb::PaymentReceived {
        booking_id: BOOKING.to_owned(),
    }));
    assert_eq!(
        BookingEvent::try_from(wire),
        Ok(common::paid()),
        "a `payment_received` message must become PaymentReceived with the same booking id"
    );
}

#[test]
fn a_valid_expiry_becomes_the_domain_event() {
    let wire = message(Event::ReservationExpired(pb::ReservationExpired {
        booking_id: BOOKING.to_owned(),
    }));
    assert_eq!(
        BookingEvent::try_from(wire),
        Ok(common::expired()),
        "a `reservation_expired` message must become ReservationExpired with the same booking id"
    );
}

#[test]
fn a_message_with_no_case_set_is_missing_its_event() {
    assert_eq!(
        BookingEvent::try_from(pb::BookingEvent::default()),
        Err(WireError::MissingEvent),
        "when no case of the oneof is set there is no event to build: return WireError::MissingEvent, do not panic or invent one"
    );
}

#[test]
fn a_booking_id_that_is_not_a_uuid_is_rejected_and_named() {
    assert_eq!(
        BookingEvent::try_from(requested("not-a-uuid", SEAT, USER)),
        Err(WireError::InvalidUuid {
            field: "booking_id",
            value: "not-a-uuid".to_owned()
        }),
        "a booking id that is not UUID text must give WireError::InvalidUuid naming the field `booking_id` and keeping the text that was sent"
    );
}

#[test]
fn a_user_id_that_is_not_a_uuid_is_rejected_and_named() {
    assert_eq!(
        BookingEvent::try_from(requested(BOOKING, SEAT, "user-42")),
        Err(WireError::InvalidUuid {
            field: "user_id",
            value: "user-42".to_owned()
        }),
        "a bad user id must be reported as field `user_id`, not `booking_id`: the error is what an operator reads to find the faulty producer"
    );
}

#[test]
fn an_id_left_unset_is_rejected_not_defaulted() {
    // proto3 does not send a string field that holds "", so a producer that
    // forgot to set the id and one that set it to "" send the same bytes.
    let wire = message(Event::PaymentReceived(pb::PaymentReceived {
        booking_id: String::new(),
    }));
    assert_eq!(
        BookingEvent::try_from(wire),
        Err(WireError::InvalidUuid {
            field: "booking_id",
            value: String::new()
        }),
        "an empty booking id (a producer that never set the field) must be rejected as InvalidUuid, not replaced by a nil or random UUID"
    );
}

#[test]
fn an_expiry_with_a_bad_booking_id_is_rejected() {
    let wire = message(Event::ReservationExpired(pb::ReservationExpired {
        booking_id: "11111111-2222".to_owned(),
    }));
    assert_eq!(
        BookingEvent::try_from(wire),
        Err(WireError::InvalidUuid {
            field: "booking_id",
            value: "11111111-2222".to_owned()
        }),
        "every case's booking id must be checked, ReservationExpired's too"
    );
}

#[test]
fn a_seat_that_is_not_a_seat_is_rejected() {
    assert_eq!(
        BookingEvent::try_from(requested(BOOKING, "row 7", USER)),
        Err(WireError::InvalidSeat(InvalidSeatId {
            input: "row 7".to_owned()
        })),
        "the seat must go through SeatId::parse, and its error must become WireError::InvalidSeat"
    );
}

#[test]
fn a_seat_with_spaces_around_it_is_rejected_not_trimmed() {
    for seat in [" A12", "A12 ", "A 12"] {
        assert_eq!(
            BookingEvent::try_from(requested(BOOKING, seat, USER)),
            Err(WireError::InvalidSeat(InvalidSeatId {
                input: seat.to_owned()
            })),
            "the seat {seat:?} must be rejected as sent: trimming it would \
             accept bytes that another reader of the topic rejects, and hide \
             the producer's bug"
        );
    }
}

#[test]
fn an_unset_user_id_is_rejected_not_replaced() {
    assert_eq!(
        BookingEvent::try_from(requested(BOOKING, SEAT, "")),
        Err(WireError::InvalidUuid {
            field: "user_id",
            value: String::new()
        }),
        "an empty user id (a producer that never set it) must be rejected as \
         InvalidUuid for `user_id`, not replaced by a fresh or nil id: the \
         ticket would go to nobody"
    );
    assert_eq!(
        BookingEvent::try_from(requested("", SEAT, USER)),
        Err(WireError::InvalidUuid {
            field: "booking_id",
            value: String::new()
        }),
        "an empty booking id in a reservation request must be rejected as \
         InvalidUuid for `booking_id`, not replaced by a fresh id"
    );
}

#[test]
fn ids_with_spaces_around_them_are_rejected_not_trimmed() {
    let padded_booking = format!(" {BOOKING}");
    assert_eq!(
        BookingEvent::try_from(requested(&padded_booking, SEAT, USER)),
        Err(WireError::InvalidUuid {
            field: "booking_id",
            value: padded_booking.clone()
        }),
        "the booking id {padded_booking:?} is not UUID text: reject it as sent, \
         do not trim it"
    );
    let padded_user = format!("{USER}\n");
    assert_eq!(
        BookingEvent::try_from(requested(BOOKING, SEAT, &padded_user)),
        Err(WireError::InvalidUuid {
            field: "user_id",
            value: padded_user.clone()
        }),
        "the user id {padded_user:?} is not UUID text: reject it as sent, do \
         not trim it"
    );
}

#[test]
fn an_error_message_does_not_repeat_its_cause() {
    let seat = WireError::InvalidSeat(InvalidSeatId {
        input: "row 7".to_owned(),
    });
    workshop_testkit::errors::assert_cause_not_repeated(&seat, 2);
    let garbage: &[u8] = &[0xff; 12];
    let decode = WireError::from(
        <pb::BookingEvent as prost::Message>::decode(garbage)
            .expect_err("twelve 0xff bytes are not a protobuf message"),
    );
    workshop_testkit::errors::assert_cause_not_repeated(&decode, 2);
}
