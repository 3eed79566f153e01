//! Steps 01 and 02 together: a booking's history, sent over the wire and read back,
//! rebuilds the same state as the original events. If the state machine and the
//! codec ever disagree about an event (a field dropped, two ids swapped), the state
//! rebuilt on the other side of the wire differs and this test names the event.

use solution01_events::{BookingEvent, BookingId, BookingState, SeatId, UserId, apply};
use solution02_protobuf::{decode, encode};

fn history(booking_id: BookingId) -> Vec<BookingEvent> {
    vec![
        BookingEvent::ReservationRequested {
            booking_id,
            seat_id: SeatId::parse("C7").expect("C7 is a valid seat"),
            user_id: UserId::new(),
        },
        BookingEvent::PaymentReceived { booking_id },
        // A duplicate delivery: the state machine must reject it the same way on
        // both sides of the wire.
        BookingEvent::PaymentReceived { booking_id },
    ]
}

/// Folds a history with `apply`, keeping the state after each event and whether
/// the event was accepted.
fn replay(events: &[BookingEvent]) -> Vec<(BookingState, bool)> {
    let mut state = BookingState::Empty;
    let mut trail = Vec::new();
    for event in events {
        let accepted = match apply(&state, event) {
            Ok(next) => {
                state = next;
                true
            }
            Err(_) => false,
        };
        trail.push((state.clone(), accepted));
    }
    trail
}

#[test]
fn a_history_read_back_from_the_wire_rebuilds_the_same_state() {
    let original = history(BookingId::new());
    let received: Vec<BookingEvent> = original
        .iter()
        .map(|event| decode(&encode(event)).expect("bytes we encoded must decode"))
        .collect();
    assert_eq!(
        received, original,
        "the wire must carry every field unchanged"
    );

    let here = replay(&original);
    let there = replay(&received);
    for (i, (a, b)) in here.iter().zip(&there).enumerate() {
        assert_eq!(
            a,
            b,
            "state after event {i} ({}) differs across the wire",
            original[i].name()
        );
    }
    assert!(
        matches!(there.last(), Some((BookingState::Confirmed { .. }, false))),
        "the paid booking must end confirmed, with the duplicate payment rejected: {there:?}"
    );
}
