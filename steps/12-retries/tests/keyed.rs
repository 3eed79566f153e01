//! Exercise "keyed": `Worker::drain` in src/worker.rs, the per-booking queue
//! that retries an event without letting a later event of its booking
//! overtake it.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use common::{
    ScriptedHandler, bookings, config, dead_letter_topic, dead_letters, log_of,
    paid, policy, requested, run,
};
use rand::RngExt;
use step12_retries::{BookingId, Offset, SimDisk};
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
        report.attempts.get(&Offset(1)),
        Some(&3),
        "record 1 fails twice and then succeeds: the handler must be called \
         3 times with it"
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
