//! Exercise "typestate": `Booking<Held>::pay` and `Booking<Held>::expire` in
//! src/typestate.rs.
//!
//! The runtime tests check that a transition keeps the booking's ids. The types
//! (`Booking<Confirmed>`, `Booking<Expired>`) are checked by the compiler:
//! these tests would not compile if `pay` or `expire` returned the wrong state.
//! The last test checks the other half: that illegal transitions do not
//! compile.

use step01_events::typestate::{Booking, Confirmed, Expired, Held};
use step01_events::{BookingId, SeatId, UserId};
use workshop_testkit::expect_compile_error;

fn held_booking() -> Booking<Held> {
    let seat = SeatId::parse("A12").expect("the tests only use valid seats");
    Booking::request(BookingId::new(), seat, UserId::new())
}

#[test]
fn paying_keeps_the_booking_seat_and_user() {
    let held = held_booking();
    let (booking_id, seat_id, user_id) =
        (held.booking_id(), held.seat_id().clone(), held.user_id());

    let confirmed: Booking<Confirmed> = held.pay();

    assert_eq!(
        confirmed.booking_id(),
        booking_id,
        "pay() must keep the booking id of the held booking"
    );
    assert_eq!(
        confirmed.seat_id(),
        &seat_id,
        "pay() must keep the seat of the held booking: the paid seat is the one that was held"
    );
    assert_eq!(
        confirmed.user_id(),
        user_id,
        "pay() must keep the user of the held booking: the ticket goes to whoever asked for the seat"
    );
}

#[test]
fn expiring_keeps_the_booking_seat_and_user() {
    let held = held_booking();
    let (booking_id, seat_id, user_id) =
        (held.booking_id(), held.seat_id().clone(), held.user_id());

    let expired: Booking<Expired> = held.expire();

    assert_eq!(
        expired.booking_id(),
        booking_id,
        "expire() must keep the booking id of the held booking"
    );
    assert_eq!(
        expired.seat_id(),
        &seat_id,
        "expire() must keep the seat of the held booking: it is the seat that becomes free again"
    );
    assert_eq!(
        expired.user_id(),
        user_id,
        "expire() must keep the user of the held booking"
    );
}

#[test]
fn two_bookings_stay_apart_through_their_transitions() {
    let first = held_booking();
    let second = held_booking();
    let (first_id, second_id) = (first.booking_id(), second.booking_id());

    let paid = first.pay();
    let expired = second.expire();

    assert_eq!(
        (paid.booking_id(), expired.booking_id()),
        (first_id, second_id),
        "pay() and expire() must carry over the ids of the booking they are called on"
    );
}

// ANCHOR: compile_fail
// Each file in tests/ui/ is a small program that must NOT compile. The test
// compiles it against your library and checks the reason: the error code and a
// key phrase of the compiler's message, which stay the same on every stable
// Rust.

/// A paid booking has no way back: `Booking<Confirmed>` has no `expire` method.
#[test]
fn a_confirmed_booking_cannot_expire() {
    expect_compile_error!(
        "tests/ui/expire_after_pay.rs",
        "E0599",
        "no method named `expire`"
    );
}

/// `pay` takes the held booking by value, so it cannot be paid twice.
#[test]
fn a_held_booking_cannot_be_paid_twice() {
    expect_compile_error!(
        "tests/ui/use_after_pay.rs",
        "E0382",
        "use of moved value: `held`"
    );
}
// ANCHOR_END: compile_fail
