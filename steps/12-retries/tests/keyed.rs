//! Exercise "keyed": `Worker::drain` in src/worker.rs, the per-booking queue
//! that retries an event without letting a later event of its booking
//! overtake it, and parks an event whose booking is not known yet (with the
//! park of the previous exercise).

mod common;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use common::{
    ScriptedHandler, bookings, config, dead_letter_topic, dead_letters,
    expired, log_of, paid, policy, requested, run, transient,
};
use rand::RngExt;
use step12_retries::{
    BookingDb, BookingId, BookingState, DbConfig, Durability, HandlerError,
    Offset, Outcome, ParkLimits, SimDisk, WorkerConfig,
};
use tokio::time::Instant;

fn offsets(list: &[u64]) -> Vec<Offset> {
    list.iter().copied().map(Offset).collect()
}

// ANCHOR: transient_then_success
#[tokio::test(start_paused = true)]
async fn a_handler_that_fails_transiently_twice_then_succeeds_is_processed() {
    let (_, events) = bookings(2);
    let log = log_of(&events);
    let mut handler = ScriptedHandler::default().transient(1, 2);
    let disk = SimDisk::new(1);
    let topic = dead_letter_topic(&disk);

    let started = Instant::now();
    let report = run(&log, &mut handler, &topic, config(5), 1).await;

    assert_eq!(
        handler.calls_of(1),
        3,
        "record 1 fails twice and then succeeds: the handler must be called \
         3 times with it"
    );
    assert_eq!(
        report.attempts.get(&Offset(1)),
        Some(&3),
        "the handler was called 3 times with record 1, and `drain` must count \
         every call in `self.report.attempts` (the report is how an operator \
         sees what was retried)"
    );
    assert!(
        report.processed.contains(&Offset(1))
            && report.dead_lettered.is_empty(),
        "record 1 succeeded on its third attempt: it is processed, and \
         nothing is dead-lettered (processed {:?}, dead-lettered {:?})",
        report.processed,
        report.dead_lettered
    );
    assert_eq!(report.committed, Offset(4), "all 4 records are done");
    let waited = started.elapsed();
    assert!(
        waited <= Duration::from_millis(300),
        "two retries wait at most 100 ms + 200 ms; the worker waited \
         {waited:?}"
    );
}
// ANCHOR_END: transient_then_success

// ANCHOR: poison_pill
#[tokio::test(start_paused = true)]
async fn a_poison_pill_is_dead_lettered_after_max_attempts_and_the_rest_goes_on()
 {
    let (_, events) = bookings(2);
    let log = log_of(&events);
    let mut handler = ScriptedHandler::default().poison(1);
    let disk = SimDisk::new(2);
    let topic = dead_letter_topic(&disk);

    let started = Instant::now();
    let report = run(&log, &mut handler, &topic, config(4), 2).await;

    assert_eq!(
        handler.calls_of(1),
        4,
        "max_attempts is 4: the poison pill at offset 1 must be tried exactly \
         4 times, no more"
    );
    assert_eq!(
        report.dead_lettered,
        offsets(&[1]),
        "the poison pill must end in the dead-letter topic"
    );
    assert_eq!(
        handler.handled,
        offsets(&[0, 2, 3]),
        "every other record must be handled: a poison pill must not stall \
         its partition"
    );
    assert_eq!(
        report.committed,
        Offset(4),
        "with the poison pill dead-lettered, the whole partition can be \
         committed"
    );
    let waited = started.elapsed();
    assert!(
        waited <= Duration::from_millis(700),
        "three retries wait at most 100 + 200 + 400 ms; the worker waited \
         {waited:?}"
    );

    let letters = dead_letters(&topic);
    assert_eq!(letters.len(), 1, "one dead letter in the topic");
    let letter = &letters[0];
    assert_eq!(
        (letter.partition, letter.offset, letter.attempts),
        (common::P, Offset(1), 4),
        "the dead letter must say where the event was read (partition 0, \
         offset 1) and how often it was tried (4)"
    );
    assert!(
        letter.reason.contains("still locked"),
        "the dead letter's reason must be the last error, in words; got \
         {:?}",
        letter.reason
    );
    assert_eq!(
        letter.record,
        common::record_of(&events[1]),
        "the dead letter must carry the original record, byte for byte"
    );
}
// ANCHOR_END: poison_pill

#[tokio::test(start_paused = true)]
async fn a_permanent_failure_is_never_retried() {
    let (_, events) = bookings(2);
    let log = log_of(&events);
    let mut handler = ScriptedHandler::default().permanent(0);
    let disk = SimDisk::new(3);
    let topic = dead_letter_topic(&disk);

    let started = Instant::now();
    let report = run(&log, &mut handler, &topic, config(5), 3).await;

    assert_eq!(
        handler.calls_of(0),
        1,
        "a permanent failure must not be retried: the handler is called once"
    );
    assert_eq!(
        report.dead_lettered,
        offsets(&[0]),
        "the permanent failure must end in the dead-letter topic"
    );
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "nothing was retried, so nothing waited"
    );
}

// ANCHOR: order
#[tokio::test(start_paused = true)]
async fn a_later_event_of_the_same_booking_never_overtakes_a_retried_one() {
    let first = BookingId::new();
    let other = BookingId::new();
    // 0: request of `first` (fails 3 times), 1: payment of `first`,
    // 2: request of `other`.
    let log =
        log_of(&[requested(first, "A1"), paid(first), requested(other, "B2")]);
    let mut handler = ScriptedHandler::default().transient(0, 3);
    let disk = SimDisk::new(4);
    let topic = dead_letter_topic(&disk);

    let report = run(&log, &mut handler, &topic, config(5), 4).await;

    let first_call_of_1 = handler.calls.iter().position(|&o| o == Offset(1));
    let success_of_0 = handler.handled.iter().position(|&o| o == Offset(0));
    assert!(
        first_call_of_1.is_some() && success_of_0.is_some(),
        "both events of the booking must be handled in the end; calls were \
         {:?}",
        handler.calls
    );
    assert_eq!(
        handler.handled,
        offsets(&[2, 0, 1]),
        "while record 0 waits for its retries, record 2 (another booking) \
         goes ahead, and record 1 (the same booking) waits behind record 0; \
         the calls were {:?}",
        handler.calls
    );
    assert_eq!(
        handler.calls_of(1),
        1,
        "record 1 must not be tried while record 0 of its booking is \
         retried: it is called once, after record 0 succeeded; calls were \
         {:?}",
        handler.calls
    );
    assert_eq!(report.committed, Offset(3));
}
// ANCHOR_END: order

#[tokio::test(start_paused = true)]
async fn a_dead_lettered_event_lets_the_next_event_of_its_booking_go() {
    let booking = BookingId::new();
    let log = log_of(&[requested(booking, "A1"), paid(booking)]);
    let mut handler = ScriptedHandler::default().poison(0);
    let disk = SimDisk::new(5);
    let topic = dead_letter_topic(&disk);

    let report = run(&log, &mut handler, &topic, config(3), 5).await;

    assert_eq!(
        report.dead_lettered,
        offsets(&[0]),
        "the poison pill must end in the dead-letter topic"
    );
    assert_eq!(
        handler.handled,
        offsets(&[1]),
        "once record 0 is dead-lettered, it no longer holds up its booking: \
         record 1 is handled (the handler decides what a payment without its \
         request means)"
    );
}

// ANCHOR: invariant
#[tokio::test(start_paused = true)]
async fn every_event_ends_processed_or_dead_lettered_never_both_never_neither()
{
    for seed in 0..24 {
        let (ids, events) = bookings(8);
        let booking_of: HashMap<Offset, BookingId> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (Offset(i as u64), e.event.booking_id()))
            .collect();
        let log = log_of(&events);
        let mut dice = common::rng(1_000 + seed);
        let mut handler = ScriptedHandler::default();
        for offset in 0..events.len() as u64 {
            handler = match dice.random_range(0..6) {
                0 => handler.permanent(offset),
                1 => handler.poison(offset),
                2 | 3 => handler.transient(offset, dice.random_range(1..=6)),
                _ => handler,
            };
        }
        let disk = SimDisk::new(seed);
        let topic = dead_letter_topic(&disk);
        let max_attempts = 4;

        let report =
            run(&log, &mut handler, &topic, config(max_attempts), seed).await;

        let processed: BTreeSet<Offset> =
            report.processed.iter().copied().collect();
        let dead: BTreeSet<Offset> =
            report.dead_lettered.iter().copied().collect();
        for offset in (0..events.len() as u64).map(Offset) {
            let times =
                report.processed.iter().filter(|&&o| o == offset).count()
                    + report
                        .dead_lettered
                        .iter()
                        .filter(|&&o| o == offset)
                        .count();
            assert_eq!(
                times, 1,
                "seed {seed}: record {offset} must end exactly once, processed \
                 or dead-lettered (invariant 8); processed {processed:?}, \
                 dead-lettered {dead:?}"
            );
            let attempts = report.attempts.get(&offset).copied().unwrap_or(0);
            assert!(
                (1..=max_attempts).contains(&attempts),
                "seed {seed}: record {offset} was tried {attempts} times; \
                 every record is tried at least once and at most \
                 max_attempts ({max_attempts}) times"
            );
        }
        let in_topic: Vec<Offset> =
            dead_letters(&topic).iter().map(|d| d.offset).collect();
        assert_eq!(
            in_topic, report.dead_lettered,
            "seed {seed}: the dead-letter topic must hold exactly the records \
             the report calls dead-lettered"
        );
        assert_eq!(
            report.processed, handler.handled,
            "seed {seed}: processed means the handler succeeded, nothing else"
        );
        for id in ids {
            let handled: Vec<Offset> = handler
                .handled
                .iter()
                .copied()
                .filter(|o| booking_of[o] == id)
                .collect();
            assert!(
                handled.is_sorted(),
                "seed {seed}: the events of one booking must be handled in \
                 log order, even when some were retried: got {handled:?}"
            );
        }
        assert_eq!(
            report.committed,
            Offset(events.len() as u64),
            "seed {seed}: once every record is processed or dead-lettered, \
             the log end is committed"
        );
    }
}
// ANCHOR_END: invariant

#[tokio::test(start_paused = true)]
async fn retries_never_wait_longer_than_the_policy_allows() {
    let (_, events) = bookings(1);
    let log = log_of(&events);
    let mut handler = ScriptedHandler::default().poison(0);
    let disk = SimDisk::new(6);
    let topic = dead_letter_topic(&disk);
    let max_attempts = 8;
    let policy = policy(max_attempts);
    let longest: Duration = (1..max_attempts).map(|r| policy.ceiling(r)).sum();

    let started = Instant::now();
    run(&log, &mut handler, &topic, config(max_attempts), 6).await;
    let waited = started.elapsed();

    assert!(
        waited <= longest,
        "{} retries may wait at most {longest:?} in all; the worker waited \
         {waited:?}",
        max_attempts - 1
    );
    assert!(
        waited > Duration::ZERO,
        "a transient failure must wait before its retry, not retry at once"
    );
}

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
        park: ParkLimits {
            max_per_booking,
            max_wait: Duration::from_secs(max_wait_secs),
        },
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

#[tokio::test(start_paused = true)]
async fn a_released_event_gets_the_whole_retry_budget_again() {
    let booking = BookingId::new();
    // 0: a payment before its request, 1: the request.
    let log = log_of(&[paid(booking), requested(booking, "A1")]);
    let mut handler = ScriptedHandler::default();
    // The payment: its booking is unknown (parked), then, once released,
    // it fails transiently twice and succeeds on the third try.
    handler.failures.insert(
        Offset(0),
        VecDeque::from([
            HandlerError::NotRequestedYet {
                booking_id: booking,
            },
            transient("busy 0"),
            transient("busy 1"),
        ]),
    );
    let disk = SimDisk::new(6);
    let topic = dead_letter_topic(&disk);

    // max_attempts = 3.
    let report = run(&log, &mut handler, &topic, worker_config(4, 60), 6).await;

    assert_eq!(
        (report.processed.clone(), report.dead_lettered.clone()),
        (vec![Offset(1), Offset(0)], vec![]),
        "a released event starts with `attempts: 0`: being parked is not a \
         failure of the kind the retry budget limits, so after its release \
         the payment may fail twice and succeed on its third try \
         (max_attempts = 3). A payment dead-lettered here was released with \
         the attempts it had when it was parked"
    );
    assert_eq!(
        report.attempts.get(&Offset(0)),
        Some(&4),
        "`report.attempts` counts every call of the handler: once before the \
         park, three times after the release"
    );
}
// ANCHOR_END: park_worker
