//! Exercise "relay": `Relay::run_once` in src/relay.rs, publishing the
//! outbox through the idempotent producer, with crashes at every point.

mod common;

use std::collections::HashSet;

use common::{
    P0, Rng, TestDb, batches, batches_in, open_log, open_log_with_partitions,
    published, record_requests, requested, rows, sent_count,
};
use step13_outbox::{
    BookingDb, BookingState, EventId, Handled, IdempotentProducer,
    IdentifiedEvent, MarkMode, Offset, OutboxError, OutboxRow, Partition, Pass,
    Relay, RelayConfig, RelayCrash, RelayError, SimDisk,
};

fn config(max_in_flight: usize) -> RelayConfig {
    RelayConfig {
        partition: Partition(0),
        max_in_flight,
        marks: MarkMode::Batched,
    }
}

fn ids(events: &[IdentifiedEvent]) -> Vec<EventId> {
    events.iter().map(|event| event.id).collect()
}

fn row_ids(rows: &[OutboxRow]) -> Vec<EventId> {
    rows.iter().map(|row| row.event.id).collect()
}

/// The ids in the order of their first appearance: what a consumer that
/// drops duplicates sees.
fn first_appearances(events: &[IdentifiedEvent]) -> Vec<EventId> {
    let mut seen = HashSet::new();
    events
        .iter()
        .filter(|event| seen.insert(event.id))
        .map(|event| event.id)
        .collect()
}

#[test]
fn the_relay_publishes_every_row_in_order_and_marks_it() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 5);
    let disk = SimDisk::new(1);
    let log = open_log(&disk);
    let mut relay = Relay::new(config(10));
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(
            pass,
            Ok(Pass::Published {
                rows: 5,
                duplicate: false
            })
        ),
        "one pass publishes the five unsent rows, got {pass:?}"
    );
    assert_eq!(
        ids(&published(&log)),
        row_ids(&recorded),
        "the log must hold the rows' events, with the ids they were recorded \
         with, in the outbox's order"
    );
    assert!(
        rows(&db).iter().all(|(_, sent)| *sent),
        "every published row must be marked sent"
    );
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Idle)),
        "with nothing unsent, a pass is Idle and publishes nothing, got \
         {pass:?}"
    );
    assert_eq!(published(&log).len(), 5, "nothing was published twice");
}

#[test]
fn a_pass_takes_no_more_than_max_in_flight_rows() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 10);
    let disk = SimDisk::new(2);
    let log = open_log(&disk);
    let mut relay = Relay::new(config(3));
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Published { rows: 3, .. })),
        "with max_in_flight 3, one pass publishes 3 rows, got {pass:?}"
    );
    let in_log: Vec<usize> = batches(&log)
        .iter()
        .map(|batch| batch.events.len())
        .collect();
    assert_eq!(
        in_log,
        vec![3],
        "the log must hold one batch of 3 events: read unsent(max_in_flight)"
    );
    let sent = rows(&db).iter().filter(|(_, sent)| *sent).count();
    assert_eq!(
        sent, 3,
        "only the 3 published rows may be marked; marking every unsent row \
         would lose the 7 that were never published"
    );
    for _ in 0..3 {
        let pass = relay.run_once(&mut db, &log, None);
        assert!(
            matches!(pass, Ok(Pass::Published { rows: 3 | 1, .. })),
            "the next passes publish 3, 3 and 1 rows, got {pass:?}"
        );
    }
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Idle)),
        "after 10 rows in passes of 3 the relay must be idle, got {pass:?}: \
         does unsent skip the rows marked sent?"
    );
    assert_eq!(
        ids(&published(&log)),
        row_ids(&recorded),
        "the log must hold every recorded event once, in outbox order, with \
         its recorded id"
    );
}

#[test]
fn a_crash_before_publishing_leaves_the_rows_to_the_next_relay() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 3);
    let disk = SimDisk::new(3);
    let log = open_log(&disk);
    let pass = Relay::new(config(10)).run_once(
        &mut db,
        &log,
        Some(RelayCrash::BeforePublish),
    );
    assert!(
        matches!(pass, Ok(Pass::Crashed(RelayCrash::BeforePublish))),
        "run_once(Some(RelayCrash::BeforePublish)) must stop at that point and \
         return Ok(Pass::Crashed(BeforePublish)); got {pass:?}"
    );
    assert!(published(&log).is_empty(), "nothing was published yet");
    assert!(
        rows(&db).iter().all(|(_, sent)| !sent),
        "a row marked before it is published is lost when the relay crashes \
         in between: publish first, then mark"
    );
    let mut relay = Relay::new(config(10));
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Published { rows: 3, .. })),
        "a new relay after a crash before the publish must publish the 3 \
         rows the crashed one left unsent; got {pass:?}"
    );
    assert_eq!(
        ids(&published(&log)),
        row_ids(&recorded),
        "the log must hold every recorded event once, in outbox order, with \
         its recorded id"
    );
}

#[test]
fn a_crash_between_publish_and_mark_gives_a_duplicate_the_consumer_absorbs() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 3);
    let disk = SimDisk::new(4);
    let log = open_log(&disk);
    let pass = Relay::new(config(10)).run_once(
        &mut db,
        &log,
        Some(RelayCrash::AfterPublish),
    );
    assert!(
        matches!(pass, Ok(Pass::Crashed(RelayCrash::AfterPublish))),
        "run_once(Some(RelayCrash::AfterPublish)) must stop at that point and \
         return Ok(Pass::Crashed(AfterPublish)); got {pass:?}"
    );
    assert_eq!(published(&log).len(), 3, "the batch reached the log");
    assert!(
        rows(&db).iter().all(|(_, sent)| !sent),
        "the rows are marked sent, yet the relay crashed before its mark: \
         rows were marked sent before they were published; mark only after \
         produce returns"
    );
    let mut relay = Relay::new(config(10));
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Published { rows: 3, .. })),
        "a new relay after a crash between publish and mark must publish the \
         3 unmarked rows again (the log already has them) and mark them; got \
         {pass:?}"
    );
    let events = published(&log);
    assert_eq!(
        ids(&events),
        [row_ids(&recorded), row_ids(&recorded)].concat(),
        "the rows are published again, with the same event ids: a new id on \
         the second try would make the duplicate look like a new event"
    );
    // Step 11's consumer handles each event once, whatever the log holds.
    let consumer_dir = TestDb::new();
    let mut consumer = BookingDb::open(&consumer_dir.path, TestDb::config())
        .expect("the consumer's database opens");
    let mut first = 0;
    for (offset, event) in events.iter().enumerate() {
        match consumer.handle(Offset(offset as u64), event) {
            Ok(Handled::First(_)) => first += 1,
            Ok(Handled::Duplicate(_)) => {}
            Err(e) => panic!("the consumer failed: {e} ({e:?})"),
        }
    }
    assert_eq!(first, 3, "each event takes effect once at the consumer");
}

#[test]
fn a_crash_after_the_mark_publishes_nothing_again() {
    let test = TestDb::new();
    let mut db = test.open();
    record_requests(&mut db, 3);
    let disk = SimDisk::new(5);
    let log = open_log(&disk);
    let pass = Relay::new(config(10)).run_once(
        &mut db,
        &log,
        Some(RelayCrash::AfterMark),
    );
    assert!(
        matches!(pass, Ok(Pass::Crashed(RelayCrash::AfterMark))),
        "run_once(Some(RelayCrash::AfterMark)) must stop at that point and \
         return Ok(Pass::Crashed(AfterMark)); got {pass:?}"
    );
    let mut relay = Relay::new(config(10));
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Idle)),
        "a new relay after a crash after the mark must find no unsent row and \
         return Ok(Pass::Idle): the rows were published and marked; got \
         {pass:?}"
    );
    assert_eq!(published(&log).len(), 3, "no duplicate after the mark");
}

#[test]
fn a_failed_mark_is_finished_with_the_same_batch_which_the_log_recognises() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 2);
    let disk = SimDisk::new(6);
    let log = open_log(&disk);
    let mut relay = Relay::new(config(10));
    let other = test.other_connection();
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let failed = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(failed, Err(RelayError::Outbox(OutboxError::Locked { .. }))),
        "a mark that failed must be reported, got {failed:?}"
    );
    other
        .execute_batch("ROLLBACK")
        .expect("the lock is released");
    let again = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(
            again,
            Ok(Pass::Published {
                rows: 2,
                duplicate: true
            })
        ),
        "the next pass must send the very same batch (same producer, same \
         sequence numbers, same event ids), which the log answers as a \
         duplicate; got {again:?}"
    );
    assert_eq!(
        ids(&published(&log)),
        row_ids(&recorded),
        "the producer's dedupe keeps the log at one copy of each event"
    );
}

#[test]
fn a_row_that_does_not_decode_stops_the_relay_before_anything_is_published() {
    let test = TestDb::new();
    let mut db = test.open();
    record_requests(&mut db, 1);
    test.other_connection()
        .execute(
            "INSERT INTO outbox (event_id, payload) VALUES ('x', x'ff00ff')",
            [],
        )
        .expect("a bad row is inserted by hand");
    record_requests(&mut db, 1);
    let disk = SimDisk::new(7);
    let log = open_log(&disk);
    let mut relay = Relay::new(config(10));
    for pass in 1..=2 {
        let result = relay.run_once(&mut db, &log, None);
        assert!(
            matches!(
                result,
                Err(RelayError::Outbox(OutboxError::BadRow { .. }))
            ),
            "pass {pass}: a row that does not decode must stop the relay \
             with OutboxError::BadRow, not be skipped; got {result:?}"
        );
        assert!(
            published(&log).is_empty(),
            "pass {pass}: nothing of the batch may be published"
        );
        assert_eq!(
            sent_count(&test),
            0,
            "pass {pass}: nothing may be marked sent"
        );
    }
}

#[test]
fn a_publish_the_log_refuses_marks_nothing_and_is_sent_again_later() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 2);
    let disk = SimDisk::new(8);
    let log = open_log(&disk);
    // The disk fails from its next write on: the log refuses the batch.
    disk.fail_after(0);
    let mut relay = Relay::new(config(10));
    let failed = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(failed, Err(RelayError::Publish(_))),
        "when log.produce fails, the pass must return RelayError::Publish \
         (pass the error on with `?`), got {failed:?}"
    );
    assert_eq!(
        sent_count(&test),
        0,
        "rows marked sent after a failed publish: the log does not have \
         them, and no relay will ever send them. Mark only after produce \
         returns Ok"
    );
    // The machine restarts: the disk works again and the log is reopened.
    disk.crash();
    let log = open_log(&disk);
    let again = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(again, Ok(Pass::Published { rows: 2, .. })),
        "once the log takes batches again, the next pass must publish the \
         rows that the failed pass left unsent, got {again:?}"
    );
    assert_eq!(
        ids(&published(&log)),
        row_ids(&recorded),
        "the log must hold each row's event once, with its recorded id"
    );
    assert_eq!(sent_count(&test), 2, "both rows are marked sent now");
}

#[test]
fn the_relay_publishes_to_its_configured_partition() {
    let test = TestDb::new();
    let mut db = test.open();
    let recorded = record_requests(&mut db, 3);
    let disk = SimDisk::new(10);
    let log = open_log_with_partitions(&disk, 2);
    let mut relay = Relay::new(RelayConfig {
        partition: Partition(1),
        ..config(10)
    });
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Published { rows: 3, .. })),
        "one pass publishes the three unsent rows, got {pass:?}"
    );
    let in_partition = |partition| -> Vec<EventId> {
        batches_in(&log, partition)
            .into_iter()
            .flat_map(|batch| batch.events)
            .map(|event| event.id)
            .collect()
    };
    assert_eq!(
        (in_partition(Partition(1)), in_partition(P0)),
        (row_ids(&recorded), Vec::new()),
        "(partition 1, partition 0): the relay must build and produce its \
         batch for self.config.partition, not partition 0"
    );
}

#[test]
fn the_relay_marks_the_way_its_config_says() {
    for (marks, want) in [(MarkMode::Batched, 0), (MarkMode::PerRow, 2)] {
        let test = TestDb::new();
        let mut db = test.open();
        record_requests(&mut db, 3);
        test.other_connection()
            .execute_batch(
                "CREATE TRIGGER refuse_third BEFORE UPDATE ON outbox
                 WHEN old.position = 3
                 BEGIN SELECT RAISE(ABORT, 'not this one'); END;",
            )
            .expect("the trigger is created");
        let disk = SimDisk::new(9);
        let log = open_log(&disk);
        let mut relay = Relay::new(RelayConfig {
            marks,
            ..config(10)
        });
        let failed = relay.run_once(&mut db, &log, None);
        assert!(
            matches!(failed, Err(RelayError::Outbox(_))),
            "with {marks:?}, a mark the database refuses must be reported, \
             got {failed:?}"
        );
        let sent = sent_count(&test);
        assert_eq!(
            sent, want,
            "with {marks:?} and the third row's mark refused, {sent} rows \
             were marked sent, want {want}: pass self.config.marks to \
             mark_sent"
        );
    }
}

/// Runs relays over the outbox until a pass is idle, crashing each at a
/// point drawn from `rng`, and starting a new one after each crash.
fn relay_with_crashes(
    db: &mut step13_outbox::OutboxDb,
    log: &step13_outbox::IdempotentLog<SimDisk>,
    rng: &mut Rng,
    max_in_flight: usize,
) -> usize {
    let points = [
        None,
        Some(RelayCrash::BeforePublish),
        Some(RelayCrash::AfterPublish),
        Some(RelayCrash::AfterMark),
    ];
    let mut relay = Relay::new(config(max_in_flight));
    let mut crashes = 0;
    for _ in 0..1_000 {
        let crash = points[rng.below(4) as usize];
        match relay.run_once(db, log, crash) {
            Ok(Pass::Idle) => return crashes,
            Ok(Pass::Published { .. }) => {}
            Ok(Pass::Crashed(_)) => {
                crashes += 1;
                relay = Relay::new(config(max_in_flight));
            }
            Err(e) => panic!("a relay pass failed: {e} ({e:?})"),
        }
    }
    panic!(
        "the relay never became idle in 1,000 passes: does a pass always \
         mark what it published?"
    );
}

#[test]
fn with_crashes_at_every_point_every_row_is_published_and_nothing_else() {
    for seed in 0..30 {
        let mut rng = Rng::new(seed);
        let test = TestDb::new();
        let mut db = test.open();
        let disk = SimDisk::new(seed);
        let log = open_log(&disk);
        let mut recorded = Vec::new();
        // New rows arrive while relays run and crash.
        for _ in 0..3 {
            let more = 1 + rng.below(6) as usize;
            let first = recorded.len();
            for n in 0..more {
                let (_, event) =
                    common::requested(&format!("S{}", first + n + 1));
                recorded.push(db.record(&event).expect("recorded"));
            }
            let max_in_flight = 1 + rng.below(4) as usize;
            relay_with_crashes(&mut db, &log, &mut rng, max_in_flight);
        }
        let events = published(&log);
        assert_eq!(
            first_appearances(&events),
            row_ids(&recorded),
            "seed {seed}: every committed row must be published, in the \
             outbox's order, and no event without a row"
        );
        let expected: HashSet<EventId> =
            row_ids(&recorded).into_iter().collect();
        assert!(
            events.iter().all(|event| expected.contains(&event.id)),
            "seed {seed}: the log holds an event no row has (a new id on a \
             retry?)"
        );
        assert!(
            rows(&db).iter().all(|(_, sent)| *sent),
            "seed {seed}: every row ends marked sent"
        );
    }
}

/// The naive service: write the database, then publish, as two steps. A
/// crash between them is all it takes.
fn naive_confirm(
    test: &TestDb,
    log: &step13_outbox::IdempotentLog<SimDisk>,
    producer: &mut IdempotentProducer,
    event: IdentifiedEvent,
    crash_between: bool,
) {
    test.other_connection()
        .execute(
            "INSERT INTO bookings (booking_id, seat_id, user_id, state)
             VALUES (?1, 'B1', ?2, 'held')",
            [
                event.event.booking_id().as_uuid().to_string(),
                uuid::Uuid::new_v4().to_string(),
            ],
        )
        .expect("the naive write");
    if crash_between {
        return;
    }
    let batch = producer.batch(P0, vec![event]);
    log.produce(P0, &batch).expect("the naive publish");
}

#[test]
fn a_crash_between_write_and_publish_loses_the_naive_event_but_not_the_outbox_one()
 {
    let test = TestDb::new();
    let mut db = test.open();
    let disk = SimDisk::new(13);
    let log = open_log(&disk);

    // The naive way: the hold is committed, the crash comes, and the event
    // never reaches the log.
    let (naive_booking, naive_request) = requested("B1");
    naive_confirm(
        &test,
        &log,
        &mut IdempotentProducer::new(),
        IdentifiedEvent::new(naive_request),
        true,
    );
    assert!(
        matches!(db.state(naive_booking), Ok(BookingState::Held { .. })),
        "the naive write is committed"
    );
    assert!(published(&log).is_empty(), "and its event is lost");

    // The outbox way: the crash comes at the same moment, after the commit
    // and before any publish; a relay started afterwards publishes the row.
    let row = record_requests(&mut db, 1).remove(0);
    drop(db);
    let mut db = test.open();
    let mut relay = Relay::new(RelayConfig::default());
    let pass = relay.run_once(&mut db, &log, None);
    assert!(
        matches!(pass, Ok(Pass::Published { rows: 1, .. })),
        "the relay after the restart must publish the committed row, got \
         {pass:?}"
    );
    assert_eq!(
        published(&log),
        vec![row.event],
        "with the outbox, the event of a committed change is published after \
         the crash: invariant 10"
    );
}
