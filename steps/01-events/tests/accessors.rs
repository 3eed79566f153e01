//! Exercise "accessors": `BookingEvent::booking_id` and `BookingEvent::name` in
//! src/event.rs.

use step01_events::{BookingEvent, BookingId, SeatId, UserId};

fn seat(text: &str) -> SeatId {
    SeatId::parse(text).expect("the tests only use valid seats")
}

/// One event of each kind, all for the same booking.
fn one_of_each(booking_id: BookingId) -> [BookingEvent; 3] {
    [
        BookingEvent::ReservationRequested {
            booking_id,
            seat_id: seat("A12"),
            user_id: UserId::new(),
        },
        BookingEvent::PaymentReceived { booking_id },
        BookingEvent::ReservationExpired { booking_id },
    ]
}

#[test]
fn every_event_returns_the_booking_id_it_carries() {
    let booking_id = BookingId::new();
    for event in one_of_each(booking_id) {
        assert_eq!(
            event.booking_id(),
            booking_id,
            "booking_id() of {event:?} must return the booking id stored in the event"
        );
    }
}

#[test]
fn two_bookings_are_told_apart_by_their_id() {
    let first = BookingId::new();
    let second = BookingId::new();
    let paid_first = BookingEvent::PaymentReceived { booking_id: first };
    let paid_second = BookingEvent::PaymentReceived { booking_id: second };
    assert_ne!(
        paid_first.booking_id(),
        paid_second.booking_id(),
        "booking_id() must return the id inside the event, not a new or fixed one"
    );
}

#[test]
fn a_reservation_request_is_named_reservation_requested() {
    let [requested, _, _] = one_of_each(BookingId::new());
    assert_eq!(
        requested.name(),
        "ReservationRequested",
        "name() must return the variant's name exactly as it is spelled in the enum"
    );
}

#[test]
fn a_payment_is_named_payment_received() {
    let [_, paid, _] = one_of_each(BookingId::new());
    assert_eq!(
        paid.name(),
        "PaymentReceived",
        "name() must return the variant's name exactly as it is spelled in the enum"
    );
}

#[test]
fn an_expiry_is_named_reservation_expired() {
    let [_, _, expired] = one_of_each(BookingId::new());
    assert_eq!(
        expired.name(),
        "ReservationExpired",
        "name() must return the variant's name exactly as it is spelled in the enum"
    );
}
