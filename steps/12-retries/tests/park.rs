//! Exercise "park": `Park::park`, `release` and `expired` in src/park.rs, and
//! the worker that parks a payment until its request arrives.

mod common;

use std::time::Duration;

use common::{
    ScriptedHandler, dead_letter_topic, dead_letters, expired, log_of, paid,
    requested, run,
};
use step12_retries::{
    BookingDb, BookingId, BookingState, DbConfig, Durability, IdentifiedEvent,
    Offset, Outcome, Park, ParkLimits, Parked, SimDisk, StoredRecord,
    WorkerConfig,
};
use tokio::time::Instant;

fn limits(max_per_booking: usize, max_wait_secs: u64) -> ParkLimits {
    ParkLimits {
        max_per_booking,
        max_wait: Duration::from_secs(max_wait_secs),
    }
}

fn parked(offset: u64, event: IdentifiedEvent, since: Instant) -> Parked {
    Parked {
        record: StoredRecord {
            partition: common::P,
            offset: Offset(offset),
            record: common::record_of(&event),
        },
        event,
        attempts: 1,
        since,
    }
}

fn offsets_of(parked: &[Parked]) -> Vec<u64> {
    parked.iter().map(|p| p.record.offset.0).collect()
}

// ANCHOR: park_unit
#[tokio::test(start_paused = true)]
async fn released_events_come_back_in_the_order_they_were_parked() {
    let mut park = Park::new(limits(4, 60));
    let booking = BookingId::new();
    let other = BookingId::new();
    let now = Instant::now();
    for (offset, id) in [(3, booking), (5, other), (7, booking)] {
        park.park(id, parked(offset, paid(id), now))
            .unwrap_or_else(|e| panic!("there is room in the park: {e}"));
    }
    assert_eq!(park.len(), 3);
    assert_eq!(
        offsets_of(&park.release(booking)),
        vec![3, 7],
        "releasing a booking gives back all of its events, oldest first, and \
         none of another booking's"
    );
    assert_eq!(
        offsets_of(&park.release(booking)),
        Vec::<u64>::new(),
        "a released event leaves the park: releasing again gives nothing"
    );
    assert_eq!(park.len(), 1, "the other booking's event is still parked");
}

#[tokio::test(start_paused = true)]
async fn a_full_booking_hands_the_event_back_and_other_bookings_still_park() {
    let mut park = Park::new(limits(2, 60));
    let booking = BookingId::new();
    let now = Instant::now();
    for offset in [1, 2] {
        park.park(booking, parked(offset, paid(booking), now))
            .unwrap_or_else(|e| panic!("2 fit for one booking: {e}"));
    }
    let refused = park.park(booking, parked(3, paid(booking), now));
    let Err(full) = refused else {
        panic!(
            "a third event for a booking with max_per_booking = 2 must be refused"
        );
    };
    assert_eq!(
        (full.booking_id, full.parked.record.offset),
        (booking, Offset(3)),
        "ParkFull must hand back the refused event itself, so that it can be \
         dead-lettered, not dropped"
    );
    assert_eq!(park.len(), 2, "the refused event is not in the park");
    let other = BookingId::new();
    assert!(
        park.park(other, parked(4, paid(other), now)).is_ok(),
        "the limit is per booking: another booking still has room"
    );
}

#[tokio::test(start_paused = true)]
async fn an_event_leaves_the_park_when_it_has_waited_max_wait() {
    let mut park = Park::new(limits(4, 10));
    let booking = BookingId::new();
    let start = Instant::now();
    park.park(booking, parked(1, paid(booking), start))
        .unwrap_or_else(|e| panic!("there is room: {e}"));
    park.park(
        booking,
        parked(2, expired(booking), start + Duration::from_secs(5)),
    )
    .unwrap_or_else(|e| panic!("there is room: {e}"));
    assert_eq!(
        park.next_deadline(),
        Some(start + Duration::from_secs(10)),
        "the first event parked runs out first"
    );
    let just_before =
        start + Duration::from_secs(10) - Duration::from_millis(1);
    assert_eq!(
        offsets_of(&park.expired(just_before)),
        Vec::<u64>::new(),
        "nothing has waited 10 s yet"
    );
    assert_eq!(
        offsets_of(&park.expired(start + Duration::from_secs(10))),
        vec![1],
        "after exactly max_wait the first event leaves; the second, parked 5 \
         s later, stays"
    );
    assert_eq!(
        offsets_of(&park.expired(start + Duration::from_secs(15))),
        vec![2]
    );
    assert!(park.is_empty(), "both events are out");
}
// ANCHOR_END: park_unit

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

fn worker_config(max_per_booking: usize, max_wait_secs: u64) -> WorkerConfig {
    WorkerConfig {
        park: limits(max_per_booking, max_wait_secs),
        ..common::config(3)
    }
}

// ANCHOR: park_worker
#[tokio::test(start_paused = true)]
async fn a_payment_that_arrives_before_its_request_waits_and_then_confirms() {
    let booking = BookingId::new();
    let other = BookingId::new();
    let payment = paid(booking);
    // 0: the payment of `booking`, 1: another booking, 2: the request.
    let log = log_of(&[
        payment.clone(),
        requested(other, "B1"),
        requested(booking, "A1"),
    ]);
    let (_dir, mut db) = booking_db();
    let disk = SimDisk::new(1);
    let topic = dead_letter_topic(&disk);

    let report = run(&log, &mut db, &topic, worker_config(4, 60), 1).await;

    assert_eq!(
        report.processed,
        vec![Offset(1), Offset(2), Offset(0)],
        "the payment (0) is parked, the other booking (1) goes on, and the \
         payment is handled right after its request (2)"
    );
    assert!(report.dead_lettered.is_empty(), "nothing is given up on");
    assert!(
        matches!(db.state(booking), Ok(BookingState::Confirmed { .. })),
        "the request and then the parked payment: the booking is confirmed, \
         got {:?}",
        db.state(booking)
    );
    assert_eq!(report.committed, Offset(3));
}

#[tokio::test(start_paused = true)]
async fn released_events_are_decided_by_the_state_machine_not_by_the_park() {
    let booking = BookingId::new();
    let payment = paid(booking);
    let expiry = expired(booking);
    // Both arrive before the request: the payment first, then the expiry.
    let log =
        log_of(&[payment.clone(), expiry.clone(), requested(booking, "A1")]);
    let (_dir, mut db) = booking_db();
    let disk = SimDisk::new(2);
    let topic = dead_letter_topic(&disk);

    let report = run(&log, &mut db, &topic, worker_config(4, 60), 2).await;

    assert_eq!(
        report.processed,
        vec![Offset(2), Offset(0), Offset(1)],
        "both parked events are released to the handler when the request is \
         handled, in the order they came: payment, then expiry"
    );
    assert_eq!(
        db.outcome(payment.id).ok().flatten(),
        Some(Outcome::Applied),
        "the released payment confirms the booking"
    );
    let expiry_outcome = db.outcome(expiry.id).ok().flatten();
    assert!(
        matches!(&expiry_outcome, Some(Outcome::Refused { reason }) if reason.contains("paid")),
        "the released expiry reaches the state machine, which refuses it \
         because the booking is paid (ExpiredAfterPayment); a park that drops \
         or judges events itself leaves no such answer. Got {expiry_outcome:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_that_never_comes_dead_letters_the_parked_payment_after_max_wait()
 {
    let booking = BookingId::new();
    let log = log_of(&[paid(booking)]);
    let (_dir, mut db) = booking_db();
    let disk = SimDisk::new(3);
    let topic = dead_letter_topic(&disk);

    let started = Instant::now();
    let report = run(&log, &mut db, &topic, worker_config(4, 30), 3).await;

    assert_eq!(
        report.dead_lettered,
        vec![Offset(0)],
        "a payment whose request never arrives must not wait forever: after \
         max_wait it is dead-lettered"
    );
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(30),
        "it waits exactly max_wait (30 s) in the park, no less, no more"
    );
    let letters = dead_letters(&topic);
    assert!(
        letters[0].reason.contains("never came"),
        "the reason must say it waited for a request that never came; got \
         {:?}",
        letters[0].reason
    );
    assert_eq!(report.committed, Offset(1));
}

#[tokio::test(start_paused = true)]
async fn a_full_park_dead_letters_the_extra_event_with_the_reason() {
    let booking = BookingId::new();
    let log = log_of(&[
        paid(booking),
        paid(booking),
        paid(booking),
        requested(booking, "A1"),
    ]);
    let (_dir, mut db) = booking_db();
    let disk = SimDisk::new(4);
    let topic = dead_letter_topic(&disk);

    let report = run(&log, &mut db, &topic, worker_config(2, 60), 4).await;

    assert_eq!(
        report.dead_lettered,
        vec![Offset(2)],
        "with max_per_booking = 2, the third early payment is dead-lettered \
         at once"
    );
    assert_eq!(
        report.processed,
        vec![Offset(3), Offset(0), Offset(1)],
        "the two parked payments are released after the request"
    );
    let letters = dead_letters(&topic);
    assert!(
        letters[0].reason.contains("cannot be parked"),
        "the dead letter must say the park was full; got {:?}",
        letters[0].reason
    );
}

#[tokio::test(start_paused = true)]
async fn released_events_go_before_later_events_of_the_booking() {
    let booking = BookingId::new();
    // 0: a payment before its request (parked), 1: the request (fails once,
    // so it waits for a retry), 2: a later event of the booking, queued
    // behind the request.
    let log =
        log_of(&[paid(booking), requested(booking, "A1"), expired(booking)]);
    let mut handler = ScriptedHandler::default()
        .not_requested_yet(0, booking)
        .transient(1, 1);
    let disk = SimDisk::new(5);
    let topic = dead_letter_topic(&disk);

    run(&log, &mut handler, &topic, worker_config(4, 60), 5).await;

    assert_eq!(
        handler.handled,
        vec![Offset(1), Offset(0), Offset(2)],
        "when the request (1) is handled, the parked payment (0) was read \
         before the event still queued behind the request (2): it goes first"
    );
}
// ANCHOR_END: park_worker
