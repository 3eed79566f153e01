//! Exercise "apply": the booking state machine, `apply` in src/state.rs.

use solution01_events::{
    BookingEvent, BookingId, BookingState, Rejected, SeatId, UserId, apply,
};

/// One booking's ids, and the states and events built from them.
struct Booking {
    booking_id: BookingId,
    seat_id: SeatId,
    user_id: UserId,
}

impl Booking {
    fn new(seat: &str) -> Self {
        Booking {
            booking_id: BookingId::new(),
            seat_id: SeatId::parse(seat)
                .expect("the tests only use valid seats"),
            user_id: UserId::new(),
        }
    }

    fn requested(&self) -> BookingEvent {
        BookingEvent::ReservationRequested {
            booking_id: self.booking_id,
            seat_id: self.seat_id.clone(),
            user_id: self.user_id,
        }
    }

    fn paid(&self) -> BookingEvent {
        BookingEvent::PaymentReceived {
            booking_id: self.booking_id,
        }
    }

    fn ran_out(&self) -> BookingEvent {
        BookingEvent::ReservationExpired {
            booking_id: self.booking_id,
        }
    }

    fn held(&self) -> BookingState {
        BookingState::Held {
            booking_id: self.booking_id,
            seat_id: self.seat_id.clone(),
            user_id: self.user_id,
        }
    }

    fn confirmed(&self) -> BookingState {
        BookingState::Confirmed {
            booking_id: self.booking_id,
            seat_id: self.seat_id.clone(),
            user_id: self.user_id,
        }
    }

    fn expired(&self) -> BookingState {
        BookingState::Expired {
            booking_id: self.booking_id,
            seat_id: self.seat_id.clone(),
            user_id: self.user_id,
        }
    }
}

/// A state's name without its ids, to keep failure messages short.
fn state_name(state: &BookingState) -> &'static str {
    match state {
        BookingState::Empty => "Empty",
        BookingState::Held { .. } => "Held",
        BookingState::Confirmed { .. } => "Confirmed",
        BookingState::Expired { .. } => "Expired",
    }
}

/// An event's name without its ids. (Not `BookingEvent::name`: this test must
/// not depend on the "accessors" exercise being done.)
fn event_name(event: &BookingEvent) -> &'static str {
    match event {
        BookingEvent::ReservationRequested { .. } => "ReservationRequested",
        BookingEvent::PaymentReceived { .. } => "PaymentReceived",
        BookingEvent::ReservationExpired { .. } => "ReservationExpired",
    }
}

/// The booking an event belongs to. (Not `BookingEvent::booking_id`, for the
/// same reason.)
fn event_booking(event: &BookingEvent) -> BookingId {
    match event {
        BookingEvent::ReservationRequested { booking_id, .. }
        | BookingEvent::PaymentReceived { booking_id }
        | BookingEvent::ReservationExpired { booking_id } => *booking_id,
    }
}

/// A result's variant without its ids, to keep failure messages short.
fn outcome_name(outcome: &Result<BookingState, Rejected>) -> String {
    match outcome {
        Ok(state) => format!("Ok({})", state_name(state)),
        Err(rejected) => {
            let reason = match rejected {
                Rejected::WrongBooking { .. } => "WrongBooking",
                Rejected::NotRequested { .. } => "NotRequested",
                Rejected::AlreadyRequested { .. } => "AlreadyRequested",
                Rejected::PaidAfterExpiry { .. } => "PaidAfterExpiry",
                Rejected::ExpiredAfterPayment { .. } => "ExpiredAfterPayment",
                Rejected::AlreadyPaid { .. } => "AlreadyPaid",
                Rejected::AlreadyExpired { .. } => "AlreadyExpired",
            };
            format!("Err(Rejected::{reason})")
        }
    }
}

/// One row of the table: a state, an event, what `apply` must answer, and why.
struct Case {
    state: BookingState,
    event: BookingEvent,
    want: Result<BookingState, Rejected>,
    why: &'static str,
}

/// Every (state, event) pair, for the booking's own events and for another
/// booking's events.
fn every_pair(ours: &Booking, other: &Booking) -> Vec<Case> {
    let id = ours.booking_id;
    let wrong_booking = Err(Rejected::WrongBooking {
        state_booking: ours.booking_id,
        event_booking: other.booking_id,
    });
    vec![
        // Empty: only a request can start a booking.
        Case {
            state: BookingState::Empty,
            event: ours.requested(),
            want: Ok(ours.held()),
            why: "a ReservationRequested must start the booking: hold the seat with the event's booking, seat and user",
        },
        Case {
            state: BookingState::Empty,
            event: ours.paid(),
            want: Err(Rejected::NotRequested { booking_id: id }),
            why: "a PaymentReceived for a booking that was never requested must be rejected",
        },
        Case {
            state: BookingState::Empty,
            event: ours.ran_out(),
            want: Err(Rejected::NotRequested { booking_id: id }),
            why: "a ReservationExpired for a booking that was never requested must be rejected",
        },
        // Held: waiting for a payment or for the hold to run out.
        Case {
            state: ours.held(),
            event: ours.requested(),
            want: Err(Rejected::AlreadyRequested { booking_id: id }),
            why: "a second ReservationRequested for the same booking must be rejected",
        },
        Case {
            state: ours.held(),
            event: ours.paid(),
            want: Ok(ours.confirmed()),
            why: "a payment for a held booking must confirm it, keeping its seat and user",
        },
        Case {
            state: ours.held(),
            event: ours.ran_out(),
            want: Ok(ours.expired()),
            why: "a held booking whose hold runs out must expire, keeping its seat and user",
        },
        // Confirmed: final, a paid booking is never lost.
        Case {
            state: ours.confirmed(),
            event: ours.requested(),
            want: Err(Rejected::AlreadyRequested { booking_id: id }),
            why: "a ReservationRequested for a booking that is already paid must be rejected",
        },
        Case {
            state: ours.confirmed(),
            event: ours.paid(),
            want: Err(Rejected::AlreadyPaid { booking_id: id }),
            why: "a second PaymentReceived must be rejected as a duplicate",
        },
        Case {
            state: ours.confirmed(),
            event: ours.ran_out(),
            want: Err(Rejected::ExpiredAfterPayment { booking_id: id }),
            why: "a paid booking must never expire: reject the ReservationExpired",
        },
        // Expired: final, the seat may already be held by someone else.
        Case {
            state: ours.expired(),
            event: ours.requested(),
            want: Err(Rejected::AlreadyRequested { booking_id: id }),
            why: "a ReservationRequested for a booking that already expired must be rejected",
        },
        Case {
            state: ours.expired(),
            event: ours.paid(),
            want: Err(Rejected::PaidAfterExpiry { booking_id: id }),
            why: "a payment after the hold expired comes too late and must be rejected",
        },
        Case {
            state: ours.expired(),
            event: ours.ran_out(),
            want: Err(Rejected::AlreadyExpired { booking_id: id }),
            why: "a second ReservationExpired must be rejected as a duplicate",
        },
        // Another booking's events, in every state that belongs to a booking.
        Case {
            state: ours.held(),
            event: other.requested(),
            want: wrong_booking.clone(),
            why: "an event of another booking must be rejected, even a ReservationRequested",
        },
        Case {
            state: ours.held(),
            event: other.paid(),
            want: wrong_booking.clone(),
            why: "another booking's payment must not confirm this booking",
        },
        Case {
            state: ours.held(),
            event: other.ran_out(),
            want: wrong_booking.clone(),
            why: "another booking's expiry must not expire this booking",
        },
        Case {
            state: ours.confirmed(),
            event: other.requested(),
            want: wrong_booking.clone(),
            why: "an event of another booking must be rejected as WrongBooking, before any other check",
        },
        Case {
            state: ours.confirmed(),
            event: other.paid(),
            want: wrong_booking.clone(),
            why: "an event of another booking must be rejected as WrongBooking, not as a duplicate payment",
        },
        Case {
            state: ours.confirmed(),
            event: other.ran_out(),
            want: wrong_booking.clone(),
            why: "an event of another booking must be rejected as WrongBooking, before any other check",
        },
        Case {
            state: ours.expired(),
            event: other.requested(),
            want: wrong_booking.clone(),
            why: "an event of another booking must be rejected as WrongBooking, before any other check",
        },
        Case {
            state: ours.expired(),
            event: other.paid(),
            want: wrong_booking.clone(),
            why: "an event of another booking must be rejected as WrongBooking, not as a late payment",
        },
        Case {
            state: ours.expired(),
            event: other.ran_out(),
            want: wrong_booking,
            why: "an event of another booking must be rejected as WrongBooking, before any other check",
        },
    ]
}

#[test]
fn every_state_and_event_pair_is_decided_correctly() {
    let ours = Booking::new("A12");
    let other = Booking::new("B7");
    let cases = every_pair(&ours, &other);
    let total = cases.len();

    // Check every row before failing, so that one run shows all the wrong
    // pairs.
    let mut wrong = Vec::new();
    for case in cases {
        let got = apply(&case.state, &case.event);
        if got != case.want {
            let other_booking = case
                .state
                .booking_id()
                .is_some_and(|id| id != event_booking(&case.event));
            let whose = if other_booking {
                " of another booking"
            } else {
                ""
            };
            let mut report = format!(
                "- {} + {}{whose}: {}\n    want {}, got {}",
                state_name(&case.state),
                event_name(&case.event),
                case.why,
                outcome_name(&case.want),
                outcome_name(&got),
            );
            if outcome_name(&got) == outcome_name(&case.want) {
                report.push_str(&format!(
                    "\n    (the right variant, but a field differs)\n    want {:?}\n    got  {:?}",
                    case.want, got
                ));
            }
            wrong.push(report);
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {total} (state, event) pairs are decided wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn a_reservation_request_holds_the_seat() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&BookingState::Empty, &booking.requested()),
        Ok(booking.held()),
        "a ReservationRequested on an empty booking must hold the seat for the user, with the event's booking, seat and user"
    );
}

#[test]
fn a_payment_confirms_a_held_booking() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&booking.held(), &booking.paid()),
        Ok(booking.confirmed()),
        "a PaymentReceived on a held booking must confirm it, keeping the seat and user from the held state"
    );
}

#[test]
fn a_held_booking_expires_when_its_hold_runs_out() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&booking.held(), &booking.ran_out()),
        Ok(booking.expired()),
        "a ReservationExpired on a held booking must expire it, keeping the seat and user from the held state"
    );
}

#[test]
fn a_payment_for_a_booking_never_requested_is_rejected() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&BookingState::Empty, &booking.paid()),
        Err(Rejected::NotRequested {
            booking_id: booking.booking_id
        }),
        "a PaymentReceived for a booking that was never requested must be rejected"
    );
}

#[test]
fn a_payment_after_expiry_is_rejected_as_too_late() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&booking.expired(), &booking.paid()),
        Err(Rejected::PaidAfterExpiry {
            booking_id: booking.booking_id
        }),
        "a payment after the hold expired is too late: it must be rejected, the seat may already be someone else's"
    );
}

#[test]
fn a_paid_booking_never_expires() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&booking.confirmed(), &booking.ran_out()),
        Err(Rejected::ExpiredAfterPayment {
            booking_id: booking.booking_id
        }),
        "a ReservationExpired for a paid booking must be rejected: a paid booking is never lost"
    );
}

#[test]
fn a_second_payment_is_rejected_as_a_duplicate() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&booking.confirmed(), &booking.paid()),
        Err(Rejected::AlreadyPaid {
            booking_id: booking.booking_id
        }),
        "a second PaymentReceived for a paid booking must be rejected as a duplicate"
    );
}

#[test]
fn a_second_request_for_the_same_booking_is_rejected() {
    let booking = Booking::new("A12");
    assert_eq!(
        apply(&booking.held(), &booking.requested()),
        Err(Rejected::AlreadyRequested {
            booking_id: booking.booking_id
        }),
        "a second ReservationRequested for a booking that is already held must be rejected"
    );
}

#[test]
fn an_event_of_another_booking_is_rejected() {
    let ours = Booking::new("A12");
    let other = Booking::new("B7");
    assert_eq!(
        apply(&ours.held(), &other.paid()),
        Err(Rejected::WrongBooking {
            state_booking: ours.booking_id,
            event_booking: other.booking_id,
        }),
        "a payment of another booking must be rejected as WrongBooking: it must not confirm this one"
    );
}

// ANCHOR: replay
/// Applies a whole history in order, the way a consumer would: a rejected event
/// is recorded and skipped, and the state stays as it was.
fn replay(history: &[BookingEvent]) -> (BookingState, Vec<Rejected>) {
    let mut state = BookingState::Empty;
    let mut rejected = Vec::new();
    for event in history {
        match apply(&state, event) {
            Ok(next) => state = next,
            Err(reason) => rejected.push(reason),
        }
    }
    (state, rejected)
}
// ANCHOR_END: replay

#[test]
fn folding_a_happy_history_ends_confirmed() {
    let booking = Booking::new("A12");
    let history = [booking.requested(), booking.paid()];
    let folded = history
        .iter()
        .try_fold(BookingState::Empty, |state, event| apply(&state, event));
    assert_eq!(
        folded,
        Ok(booking.confirmed()),
        "applying ReservationRequested then PaymentReceived, starting from Empty, must end in Confirmed"
    );
}

#[test]
fn folding_a_history_without_payment_ends_expired() {
    let booking = Booking::new("A12");
    let history = [booking.requested(), booking.ran_out()];
    let folded = history
        .iter()
        .try_fold(BookingState::Empty, |state, event| apply(&state, event));
    assert_eq!(
        folded,
        Ok(booking.expired()),
        "applying ReservationRequested then ReservationExpired, starting from Empty, must end in Expired"
    );
}

#[test]
fn a_messy_history_keeps_the_paid_booking() {
    let booking = Booking::new("A12");
    // A duplicate payment and an expiry that lost the race against the payment.
    let history = [
        booking.requested(),
        booking.paid(),
        booking.paid(),
        booking.ran_out(),
    ];
    let (state, rejected) = replay(&history);
    assert_eq!(
        state,
        booking.confirmed(),
        "after Requested, Paid, Paid again and a late Expired the booking must still be Confirmed: a paid booking is never lost"
    );
    assert_eq!(
        rejected,
        vec![
            Rejected::AlreadyPaid {
                booking_id: booking.booking_id
            },
            Rejected::ExpiredAfterPayment {
                booking_id: booking.booking_id
            },
        ],
        "the second payment must be rejected as AlreadyPaid and the late expiry as ExpiredAfterPayment"
    );
}

#[test]
fn a_late_payment_does_not_revive_an_expired_booking() {
    let booking = Booking::new("A12");
    let history = [booking.requested(), booking.ran_out(), booking.paid()];
    let (state, rejected) = replay(&history);
    assert_eq!(
        state,
        booking.expired(),
        "after Requested, Expired and a late Paid the booking must stay Expired: its seat may already be sold to someone else"
    );
    assert_eq!(
        rejected,
        vec![Rejected::PaidAfterExpiry {
            booking_id: booking.booking_id
        }],
        "the late payment must be rejected as PaidAfterExpiry, so that it can be refunded"
    );
}
