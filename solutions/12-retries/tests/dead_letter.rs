//! Exercise "dead_letter": `DeadLetterTopic::send` and `replay` in
//! src/dead_letter.rs.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    bookings, dead_letter_dir, dead_letter_topic, dead_letters, lazy_config,
};
use solution12_retries::{
    BookingDb, BookingState, DbConfig, DeadLetter, DeadLetterError,
    DeadLetterTopic, Durability, Handler, HandlerError, IdentifiedEvent,
    Offset, Partition, Record, SimDisk, replay,
};

fn letter(offset: u64, reason: &str) -> DeadLetter {
    DeadLetter {
        partition: Partition(2),
        offset: Offset(offset),
        record: Record::new("booking-key", format!("value {offset}")),
        reason: reason.to_owned(),
        attempts: 5,
        at: UNIX_EPOCH + Duration::from_millis(1_764_500_000_123),
    }
}

// ANCHOR: send_tests
#[test]
fn a_dead_letter_keeps_where_it_came_from_why_how_often_and_when() {
    let disk = SimDisk::new(1);
    let topic = dead_letter_topic(&disk);
    let sent = letter(41, "the booking database stayed locked");
    let at = topic
        .send(&sent)
        .unwrap_or_else(|e| panic!("the simulated disk takes the write: {e}"));
    assert_eq!(at, Offset(0), "the first dead letter is at offset 0");
    assert_eq!(
        dead_letters(&topic),
        vec![sent],
        "reading the topic back gives the same dead letter: partition, \
         offset, record, reason, attempts and time"
    );
}

#[test]
fn a_sent_dead_letter_survives_a_power_cut() {
    // Each seed keeps a different part of what was not synced.
    for seed in 0..16 {
        let disk = SimDisk::new(seed);
        let sent = letter(7, "not a booking event");
        {
            // This topic's log fsyncs nothing on its own (FsyncPolicy::Never).
            let topic = dead_letter_topic(&disk);
            topic.send(&sent).unwrap_or_else(|e| {
                panic!("the simulated disk takes the write: {e}")
            });
        }
        disk.crash();
        let reopened = DeadLetterTopic::open(
            disk.clone(),
            &dead_letter_dir(),
            lazy_config(),
        )
        .unwrap_or_else(|e| panic!("the topic recovers after a crash: {e}"));
        assert_eq!(
            dead_letters(&reopened),
            vec![sent],
            "seed {seed}: send returned, so the worker commits the event's \
             offset next: the dead letter must be on disk by then, or a power \
             cut loses the event (neither handled nor dead-lettered); sync the \
             log when the append's ack is not durable"
        );
    }
}

#[test]
fn a_record_dead_lettered_again_after_a_restart_is_stored_once() {
    let disk = SimDisk::new(6);
    let first = letter(41, "the database was locked");
    let other = letter(42, "not a booking event");
    {
        let topic = dead_letter_topic(&disk);
        for dead_letter in [&first, &other, &first] {
            topic.send(dead_letter).unwrap_or_else(|e| {
                panic!("the simulated disk takes the write: {e}")
            });
        }
        assert_eq!(
            dead_letters(&topic).len(),
            2,
            "the third send repeats the first dead letter: the topic must \
             remember each dead letter it stores, and answer a repeat with it"
        );
    }
    // The consumer crashed before it committed offset 41, and after the
    // restart it gave up on the same record again.
    let reopened =
        DeadLetterTopic::open(disk.clone(), &dead_letter_dir(), lazy_config())
            .unwrap_or_else(|e| panic!("the topic opens again: {e}"));
    let again = DeadLetter {
        reason: "the database was locked, again".to_owned(),
        ..first.clone()
    };
    let at = reopened
        .send(&again)
        .unwrap_or_else(|e| panic!("the simulated disk takes the write: {e}"));
    assert_eq!(
        at,
        Offset(0),
        "partition 2, offset 41 is dead-lettered already, at offset 0 of the \
         topic: the answer is that offset"
    );
    assert_eq!(
        dead_letters(&reopened),
        vec![first, other],
        "a record is dead-lettered at most once, even across a restart: the \
         topic must remember the (partition, offset) of every dead letter it \
         holds, also those written before it was opened"
    );
}

#[test]
fn a_dead_letter_the_disk_refuses_is_an_error_that_names_the_event() {
    let disk = SimDisk::new(3);
    let topic = dead_letter_topic(&disk);
    disk.fail_after(0);
    let result = topic.send(&letter(41, "the database was locked"));
    let Err(error) = result else {
        panic!("a disk that fails every write cannot store a dead letter");
    };
    assert!(
        matches!(
            error,
            DeadLetterError::Append {
                partition: Partition(2),
                offset: Offset(41),
                ..
            }
        ),
        "the error must be DeadLetterError::Append with the dead letter's own \
         partition and offset, so that the worker knows which offset not to \
         commit; got {error:?}"
    );
    workshop_testkit::errors::assert_cause_not_repeated(&error, 2);
}

#[test]
fn a_dead_letter_that_failed_to_store_is_not_remembered_as_stored() {
    // Operation 0 is the append's write, operation 1 the sync: the disk
    // fails from the given operation on.
    let mut failures = 0;
    for ops_before_failure in 0..4 {
        let disk = SimDisk::new(6);
        let topic = dead_letter_topic(&disk);
        disk.fail_after(ops_before_failure);
        let dead_letter = letter(41, "the database was locked");
        if topic.send(&dead_letter).is_ok() {
            continue;
        }
        failures += 1;
        let again = topic.send(&dead_letter);
        assert!(
            again.is_err(),
            "the disk failed {ops_before_failure} operation(s) into the first \
             send, so the dead letter is not durable, and a second send of \
             the same record must fail too; it returned {again:?}, an offset \
             that holds nothing durable. Add the record to `stored` only \
             after the append and the sync both succeeded"
        );
    }
    assert!(
        failures >= 2,
        "a send on a disk that fails at the append or at the sync must be an \
         error; only {failures} of the 4 sends failed"
    );
}
// ANCHOR_END: send_tests

fn writable_db(dir: &tempfile::TempDir) -> BookingDb {
    let config = DbConfig {
        durability: Durability::SurvivesProcessCrash,
        ..DbConfig::default()
    };
    BookingDb::open(&dir.path().join("bookings.db"), config)
        .expect("a fresh database opens")
}

/// The consumer's bad day: it was deployed with its database opened
/// read-only, so every event failed (transiently: the event is fine, the
/// database is not) until it was dead-lettered. These are its dead letters,
/// in the order the worker gave up on the events.
fn read_only_day(events: &[IdentifiedEvent], topic: &DeadLetterTopic<SimDisk>) {
    for (offset, event) in events.iter().enumerate() {
        let dead_letter = DeadLetter {
            partition: common::P,
            offset: Offset(offset as u64),
            record: common::record_of(event),
            reason: "the booking database is read-only".to_owned(),
            attempts: 3,
            at: SystemTime::now(),
        };
        topic
            .send(&dead_letter)
            .unwrap_or_else(|e| panic!("the simulated disk takes it: {e}"));
    }
}

/// Step 11's handler, with a limit on how many events a replay may hand it: a
/// replay that reads the same dead letters again and again fails the test
/// instead of running for ever.
struct Limited<'a> {
    db: &'a mut BookingDb,
    left: usize,
}

impl Handler for Limited<'_> {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        assert!(
            self.left > 0,
            "the replay handed the handler more events than the topic holds: \
             it reads the same dead letters again; move `next` past each dead \
             letter read, and stop when a read comes back empty"
        );
        self.left -= 1;
        Handler::handle(self.db, offset, event)
    }
}

fn limited(db: &mut BookingDb, dead_letters: usize) -> Limited<'_> {
    Limited {
        db,
        left: dead_letters,
    }
}

// ANCHOR: replay_tests
#[test]
fn replaying_after_the_fix_handles_every_dead_letter_in_order() {
    let (ids, events) = bookings(3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let disk = SimDisk::new(3);
    let topic = dead_letter_topic(&disk);
    read_only_day(&events, &topic);
    assert_eq!(dead_letters(&topic).len(), 6, "all 6 events dead-lettered");

    let mut fixed = writable_db(&dir);
    let replayed = replay(&topic, Offset(0), &mut limited(&mut fixed, 8))
        .unwrap_or_else(|e| panic!("the replay must read the topic: {e}"));

    assert_eq!(
        replayed.handled,
        (0..6).map(Offset).collect::<Vec<_>>(),
        "every dead letter is handed to the fixed handler, in topic order \
         (so each booking's request comes before its payment); failed: {:?}",
        replayed.failed
    );
    assert_eq!(
        replayed.next,
        Offset(6),
        "the next replay starts after them"
    );
    for id in ids {
        assert!(
            matches!(fixed.state(id), Ok(BookingState::Confirmed { .. })),
            "after the replay every booking is requested and paid; got {:?}",
            fixed.state(id)
        );
    }
}

#[test]
fn replaying_twice_changes_nothing_the_second_time() {
    let (_, events) = bookings(2);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let disk = SimDisk::new(4);
    let topic = dead_letter_topic(&disk);
    read_only_day(&events, &topic);

    let mut fixed = writable_db(&dir);
    replay(&topic, Offset(0), &mut limited(&mut fixed, 8))
        .unwrap_or_else(|e| panic!("the first replay reads the topic: {e}"));
    let after_first = fixed.snapshot().expect("the database reads");
    // The replay's own position was lost (a crash before it was stored), so
    // the operator runs it again from the start.
    let again = replay(&topic, Offset(0), &mut limited(&mut fixed, 8))
        .unwrap_or_else(|e| panic!("the second replay reads the topic: {e}"));
    assert_eq!(
        again.handled.len(),
        4,
        "the second replay hands every dead letter to the handler again, \
         which answers each one as a duplicate"
    );
    assert_eq!(
        fixed.snapshot().expect("the database reads"),
        after_first,
        "step 11's handler stores each event id with its effect: replaying \
         the same dead letters again must change nothing"
    );
}

#[test]
fn a_dead_letter_that_fails_again_is_reported_and_the_replay_goes_on() {
    let disk = SimDisk::new(5);
    let topic = dead_letter_topic(&disk);
    let (_, events) = bookings(1);
    let garbage = DeadLetter {
        record: Record::new("?", "this is not protobuf"),
        ..letter(3, "not a booking event")
    };
    topic
        .send(&garbage)
        .unwrap_or_else(|e| panic!("send works: {e}"));
    let request = DeadLetter {
        record: common::record_of(&events[0]),
        ..letter(4, "the database was locked")
    };
    topic
        .send(&request)
        .unwrap_or_else(|e| panic!("send works: {e}"));

    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut fixed = writable_db(&dir);
    let replayed = replay(&topic, Offset(0), &mut limited(&mut fixed, 8))
        .unwrap_or_else(|e| panic!("the replay reads the topic: {e}"));

    assert!(
        matches!(
            replayed.failed.as_slice(),
            [(Offset(0), HandlerError::Permanent { .. })]
        ),
        "the dead letter whose bytes are not an event fails again, \
         permanently, and is reported with its offset in the topic; got {:?}",
        replayed.failed
    );
    assert_eq!(
        replayed.handled,
        vec![Offset(1)],
        "a dead letter that fails again must not stop the replay: the next \
         one is handled"
    );
    assert_eq!(replayed.next, Offset(2));

    let nothing_new =
        replay(&topic, replayed.next, &mut limited(&mut fixed, 8))
            .unwrap_or_else(|e| panic!("the replay reads the topic: {e}"));
    assert_eq!(
        (
            nothing_new.handled.len(),
            nothing_new.failed.len(),
            nothing_new.next
        ),
        (0, 0, Offset(2)),
        "a replay from `next` starts after the last dead letter read: nothing \
         to do"
    );
}
// ANCHOR_END: replay_tests

/// A handler that takes every event and notes the offset it was given; like
/// `Limited`, it stops a replay that reads the same dead letters for ever.
#[derive(Default)]
struct Offsets(Vec<Offset>);

impl Handler for Offsets {
    fn handle(
        &mut self,
        offset: Offset,
        _event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        assert!(
            self.0.len() < 2,
            "the replay handed the handler more events than the topic holds \
             (2): it reads the same dead letters again; move `next` past each \
             dead letter read, and stop when a read comes back empty"
        );
        self.0.push(offset);
        Ok(())
    }
}

#[test]
fn a_replayed_event_reaches_the_handler_with_its_offset_in_the_source() {
    let disk = SimDisk::new(7);
    let topic = dead_letter_topic(&disk);
    let (_, events) = bookings(1);
    for (offset, event) in [(41, &events[0]), (57, &events[1])] {
        let dead_letter = DeadLetter {
            record: common::record_of(event),
            ..letter(offset, "the database was locked")
        };
        topic
            .send(&dead_letter)
            .unwrap_or_else(|e| panic!("send works: {e}"));
    }

    let mut handler = Offsets::default();
    let replayed = replay(&topic, Offset(0), &mut handler)
        .unwrap_or_else(|e| panic!("the replay reads the topic: {e}"));

    assert_eq!(
        handler.0,
        vec![Offset(41), Offset(57)],
        "the handler must get each event with the offset it had in its \
         source partition (`dead_letter.offset`), as the worker gave it the \
         first time, not the dead letter's offset in the topic (0, 1)"
    );
    assert_eq!(
        replayed.handled,
        vec![Offset(0), Offset(1)],
        "`handled` lists the dead letters by their offset in the topic"
    );
}
