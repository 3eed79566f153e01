//! Exercise "expiry": `HoldTimers::on_state` and `due` in src/expiry.rs, and
//! the one outcome of a payment racing the expiry.

mod common;

use std::time::Duration;

use common::{dead_letter_topic, log_of, paid, requested, run, seat};
use solution12_retries::{
    BookingDb, BookingEvent, BookingId, BookingState, DbConfig, Durability,
    HoldTimers, IdentifiedEvent, Outcome, SimDisk, UserId,
};
use tokio::time::Instant;

const HOLD: Duration = Duration::from_secs(600);

/// Runs a test of `HoldTimers` under a time limit: a `due` that never takes a
/// timer out would loop for ever.
fn watched(body: impl FnOnce() + Send + 'static) {
    workshop_testkit::watchdog::within(
        Duration::from_secs(3),
        "HoldTimers::due did not return: does it take each due timer out of \
         both `by_deadline` and `deadlines` before it looks at the next one?",
        body,
    );
}

fn held(booking_id: BookingId) -> BookingState {
    BookingState::Held {
        booking_id,
        seat_id: seat("A1"),
        user_id: UserId::new(),
    }
}

fn confirmed(booking_id: BookingId) -> BookingState {
    BookingState::Confirmed {
        booking_id,
        seat_id: seat("A1"),
        user_id: UserId::new(),
    }
}

fn expired_state(booking_id: BookingId) -> BookingState {
    BookingState::Expired {
        booking_id,
        seat_id: seat("A1"),
        user_id: UserId::new(),
    }
}

fn expiry_of(booking_id: BookingId) -> BookingEvent {
    BookingEvent::ReservationExpired { booking_id }
}

// ANCHOR: timers
#[test]
fn a_hold_expires_exactly_hold_for_after_it_started() {
    watched(|| {
        let mut timers = HoldTimers::new(HOLD);
        let booking = BookingId::new();
        let start = Instant::now();
        timers.on_state(booking, &held(booking), start);
        assert_eq!(timers.deadline(booking), Some(start + HOLD));
        assert_eq!(
            timers.due(start + HOLD - Duration::from_millis(1)),
            Vec::<BookingEvent>::new(),
            "one millisecond before the deadline the hold is still on"
        );
        assert_eq!(
            timers.due(start + HOLD),
            vec![expiry_of(booking)],
            "at its deadline the hold is over: a ReservationExpired for it"
        );
        assert_eq!(
            timers.due(start + HOLD * 2),
            Vec::<BookingEvent>::new(),
            "a timer fires once: due takes it out"
        );
    });
}

#[test]
fn a_paid_booking_never_gets_an_expiry() {
    watched(|| {
        let mut timers = HoldTimers::new(HOLD);
        let booking = BookingId::new();
        let start = Instant::now();
        timers.on_state(booking, &held(booking), start);
        timers.on_state(booking, &confirmed(booking), start + HOLD / 2);
        assert_eq!(
            timers.due(start + HOLD),
            Vec::<BookingEvent>::new(),
            "the booking was paid before its deadline: its timer must be stopped, \
             or a paid booking gets a ReservationExpired"
        );
        assert_eq!(timers.next_deadline(), None, "no timer is left");
    });
}

#[test]
fn a_second_hold_of_the_same_booking_does_not_extend_the_deadline() {
    watched(|| {
        let mut timers = HoldTimers::new(HOLD);
        let booking = BookingId::new();
        let start = Instant::now();
        timers.on_state(booking, &held(booking), start);
        // A duplicate request, handled again a minute later, reports Held again.
        timers.on_state(
            booking,
            &held(booking),
            start + Duration::from_secs(60),
        );
        assert_eq!(
            timers.due(start + HOLD),
            vec![expiry_of(booking)],
            "the deadline counts from the first hold: a redelivered request must \
             not give the user more time"
        );
    });
}

#[test]
fn due_returns_the_soonest_deadlines_first() {
    watched(|| {
        let mut timers = HoldTimers::new(HOLD);
        let start = Instant::now();
        let late = BookingId::new();
        let early = BookingId::new();
        timers.on_state(late, &held(late), start + Duration::from_secs(2));
        timers.on_state(early, &held(early), start);
        assert_eq!(timers.next_deadline(), Some(start + HOLD));
        assert_eq!(
            timers.due(start + HOLD + Duration::from_secs(5)),
            vec![expiry_of(early), expiry_of(late)],
            "two holds ran out: the one whose deadline came first is first"
        );
    });
}
#[test]
fn every_state_but_held_stops_the_timer() {
    watched(|| {
        let start = Instant::now();
        for (name, state) in [
            ("Expired", expired_state as fn(BookingId) -> BookingState),
            ("Empty", |_| BookingState::Empty),
        ] {
            let mut timers = HoldTimers::new(HOLD);
            let booking = BookingId::new();
            timers.on_state(booking, &held(booking), start);
            timers.on_state(booking, &state(booking), start + HOLD / 2);
            assert_eq!(
                (timers.deadline(booking), timers.due(start + HOLD)),
                (None, Vec::<BookingEvent>::new()),
                "a booking that is {name} is not held any more: `on_state` \
                 must stop its timer for every state but Held, not only for \
                 Confirmed"
            );
        }
    });
}

#[test]
fn a_timer_that_fired_is_gone_from_both_maps() {
    watched(|| {
        let mut timers = HoldTimers::new(HOLD);
        let booking = BookingId::new();
        let start = Instant::now();
        timers.on_state(booking, &held(booking), start);
        assert_eq!(timers.due(start + HOLD), vec![expiry_of(booking)]);
        assert_eq!(
            timers.deadline(booking),
            None,
            "`due` took the timer out of `by_deadline` but left it in \
             `deadlines`: remove it from both"
        );
        let later = start + HOLD * 2;
        timers.on_state(booking, &held(booking), later);
        assert_eq!(
            timers.deadline(booking),
            Some(later + HOLD),
            "once a timer has fired, a new hold of the booking starts a new \
             one; a deadline left in `deadlines` blocks it"
        );
    });
}

// ANCHOR_END: timers

fn booking_db() -> (tempfile::TempDir, BookingDb) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = DbConfig {
        durability: Durability::SurvivesProcessCrash,
        ..DbConfig::default()
    };
    let db = BookingDb::open(&dir.path().join("bookings.db"), config)
        .expect("a fresh database opens");
    (dir, db)
}

/// The booking service around the race: the request is handled at the
/// start, the clock runs to the deadline, and there the payment arrives and
/// the timer fires. Both events go into the booking's partition; `payment_first`
/// says which one the log got first. Returns the database after a worker
/// handled the whole partition.
async fn race(
    payment_first: bool,
) -> (
    BookingId,
    IdentifiedEvent,
    IdentifiedEvent,
    BookingDb,
    tempfile::TempDir,
) {
    let booking = BookingId::new();
    let request = requested(booking, "A1");
    let mut timers = HoldTimers::new(HOLD);
    timers.on_state(booking, &held(booking), Instant::now());

    tokio::time::advance(HOLD).await;
    let payment = paid(booking);
    let fired = timers.due(Instant::now());
    assert_eq!(fired, vec![expiry_of(booking)], "the deadline has come");
    let expiry = IdentifiedEvent::new(fired[0].clone());

    let events = if payment_first {
        vec![request, payment.clone(), expiry.clone()]
    } else {
        vec![request, expiry.clone(), payment.clone()]
    };
    let log = log_of(&events);
    let (dir, mut db) = booking_db();
    let disk = SimDisk::new(7);
    let topic = dead_letter_topic(&disk);
    let report = run(&log, &mut db, &topic, common::config(3), 7).await;
    assert!(
        report.dead_lettered.is_empty(),
        "nothing fails in this race"
    );
    (booking, payment, expiry, db, dir)
}

/// Runs `future` to its end on a runtime whose clock is paused, as
/// `#[tokio::test(start_paused = true)]` does, inside a watched test.
fn paused<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

// ANCHOR: race
#[test]
fn a_payment_racing_the_expiry_wins_when_it_is_first_in_the_log() {
    watched(|| {
        let (booking, payment, expiry, db, _dir) = paused(race(true));
        assert!(
            matches!(db.state(booking), Ok(BookingState::Confirmed { .. })),
            "the payment is first in the booking's partition: the seat is sold; \
             got {:?}",
            db.state(booking)
        );
        assert_eq!(
            db.outcome(payment.id).ok().flatten(),
            Some(Outcome::Applied)
        );
        assert!(
            matches!(
                db.outcome(expiry.id).ok().flatten(),
                Some(Outcome::Refused { .. })
            ),
            "the expiry comes second and is refused: a paid booking never expires"
        );
    });
}

#[test]
fn an_expiry_first_in_the_log_wins_and_the_late_payment_is_refused_for_a_refund()
 {
    watched(|| {
        let (booking, payment, expiry, db, _dir) = paused(race(false));
        assert!(
            matches!(db.state(booking), Ok(BookingState::Expired { .. })),
            "the expiry is first in the booking's partition: the hold is over and \
             the seat is free; got {:?}",
            db.state(booking)
        );
        assert_eq!(
            db.outcome(expiry.id).ok().flatten(),
            Some(Outcome::Applied)
        );
        let outcome = db.outcome(payment.id).ok().flatten();
        assert!(
            matches!(&outcome, Some(Outcome::Refused { reason }) if reason.contains("refunded")),
            "the payment comes second: the state machine refuses it as \
             PaidAfterExpiry, and the money goes back; got {outcome:?}"
        );
    });
}
// ANCHOR_END: race
