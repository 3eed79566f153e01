//! Exercise "handler": `BookingDb::handle` in src/handler.rs: the effect and
//! the event id in one SQLite transaction.

mod common;

use common::{TestDb, expired, paid, requested, seat};
use solution11_idempotency::{
    BookingDb, BookingState, DbConfig, HandleError, Handled, Offset, Outcome,
};

fn handle(
    db: &mut BookingDb,
    offset: u64,
    event: &solution11_idempotency::IdentifiedEvent,
) -> Handled {
    db.handle(Offset(offset), event).unwrap_or_else(|e| {
        panic!(
            "handling {} at offset {offset} failed: {e} ({e:?})",
            event.event.name()
        )
    })
}

#[test]
fn the_first_delivery_applies_the_event_and_marks_it_processed() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    assert_eq!(
        handle(&mut db, 0, &request),
        Handled::First(Outcome::Applied),
        "a new ReservationRequested for a free seat is applied"
    );
    assert!(
        matches!(db.state(booking_id), Ok(BookingState::Held { .. })),
        "after the request the booking must be Held in the database"
    );
    assert_eq!(
        db.outcome(request.id).ok().flatten(),
        Some(Outcome::Applied),
        "the event id must be in processed_events with its outcome (use mark_processed)"
    );
}

#[test]
fn a_redelivery_is_a_duplicate_answered_with_the_first_outcome() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    handle(&mut db, 0, &request);
    let before = db.snapshot().expect("a snapshot");
    assert_eq!(
        handle(&mut db, 0, &request),
        Handled::Duplicate(Outcome::Applied),
        "the same event delivered again must be answered Duplicate, with the outcome stored \
         the first time (Applied), not refused as AlreadyRequested"
    );
    assert_eq!(
        db.snapshot().expect("a snapshot"),
        before,
        "a duplicate must write nothing"
    );
    assert!(matches!(
        db.state(booking_id),
        Ok(BookingState::Held { .. })
    ));
}

#[test]
fn a_retried_publish_at_a_new_offset_is_still_a_duplicate() {
    let test = TestDb::new();
    let mut db = test.open();
    let (_, request) = requested("A1");
    handle(&mut db, 0, &request);
    assert_eq!(
        handle(&mut db, 7, &request),
        Handled::Duplicate(Outcome::Applied),
        "a producer that retried its publish wrote the event again at offset 7: same event id, \
         new offset. Dedupe by the event id, not by the offset"
    );
}

#[test]
fn two_events_of_one_record_are_two_events() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    let payment = paid(booking_id);
    assert_eq!(
        handle(&mut db, 3, &request),
        Handled::First(Outcome::Applied)
    );
    assert_eq!(
        handle(&mut db, 3, &payment),
        Handled::First(Outcome::Applied),
        "a batch puts several events in one record, so they share an offset: the payment is a \
         new event (a new event id) and must be applied, not taken for a duplicate"
    );
    assert!(matches!(
        db.state(booking_id),
        Ok(BookingState::Confirmed { .. })
    ));
}

#[test]
fn the_dedupe_key_survives_a_restart() {
    let test = TestDb::new();
    let (_, request) = requested("A1");
    {
        let mut db = test.open();
        handle(&mut db, 0, &request);
    } // The process stops here: everything in memory is gone.
    let mut db = test.open();
    assert_eq!(
        handle(&mut db, 0, &request),
        Handled::Duplicate(Outcome::Applied),
        "after a restart the event must still be known as processed: the dedupe key belongs \
         in the database, not in a set in memory"
    );
}

#[test]
fn a_second_booking_for_a_held_seat_is_refused_by_the_database() {
    let test = TestDb::new();
    let mut db = test.open();
    let (first, first_request) = requested("A1");
    let (second, second_request) = requested("A1");
    handle(&mut db, 0, &first_request);
    assert_eq!(
        handle(&mut db, 1, &second_request),
        Handled::First(Outcome::SeatTaken {
            seat_id: seat("A1")
        }),
        "seat A1 is held by another booking: the unique index refuses the hold and the outcome \
         is SeatTaken"
    );
    assert!(matches!(db.state(first), Ok(BookingState::Held { .. })));
    assert_eq!(
        db.state(second).ok(),
        Some(BookingState::Empty),
        "the refused booking holds nothing"
    );
    let refused_payment = paid(second);
    assert!(
        matches!(
            handle(&mut db, 2, &refused_payment),
            Handled::First(Outcome::Refused { .. })
        ),
        "a payment for a booking refused for its seat is refused too, and marked processed"
    );

    handle(&mut db, 3, &expired(first));
    let (third, third_request) = requested("A1");
    assert_eq!(
        handle(&mut db, 4, &third_request),
        Handled::First(Outcome::Applied),
        "once the first hold expired, the seat is free again"
    );
    assert!(matches!(db.state(third), Ok(BookingState::Held { .. })));
}

#[test]
fn the_database_itself_never_holds_two_live_bookings_for_a_seat() {
    let test = TestDb::new();
    let mut db = test.open();
    let (_, request) = requested("A1");
    handle(&mut db, 0, &request);
    let other = test.other_connection();
    let result = other.execute(
        "INSERT INTO bookings (booking_id, seat_id, user_id, state)
         VALUES ('someone-else', 'A1', 'u', 'confirmed')",
        [],
    );
    assert!(
        result.is_err(),
        "even a write that bypasses the handler cannot sell seat A1 twice: the unique index \
         one_live_booking_per_seat refuses it"
    );
}

#[test]
fn a_payment_for_an_unknown_booking_is_an_error_and_writes_nothing() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    let early_payment = paid(booking_id);
    let before = db.snapshot().expect("a snapshot");
    let result = db.handle(Offset(0), &early_payment);
    match &result {
        Err(HandleError::UnknownBooking {
            event_id,
            booking_id: id,
            ..
        }) => {
            assert_eq!(*event_id, early_payment.id);
            assert_eq!(*id, booking_id);
            let message = result.as_ref().map(|_| ()).unwrap_err().to_string();
            assert!(
                message.contains("do not commit"),
                "the message must say what to do: {message}"
            );
        }
        other => panic!(
            "a payment for a booking never requested must be HandleError::UnknownBooking, \
             got {other:?}"
        ),
    }
    assert_eq!(
        db.snapshot().expect("a snapshot"),
        before,
        "an event that failed must leave nothing behind, not even its event id"
    );
    handle(&mut db, 1, &request);
    assert_eq!(
        handle(&mut db, 0, &early_payment),
        Handled::First(Outcome::Applied),
        "the failed payment was not marked processed, so once its request is in, a redelivery \
         applies it"
    );
}

#[test]
fn a_locked_database_is_a_transient_error_and_writes_nothing() {
    let test = TestDb::new();
    let mut db = test.open();
    let (_, request) = requested("A1");
    let other = test.other_connection();
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the other connection takes the write lock");
    let result = db.handle(Offset(0), &request);
    assert!(
        matches!(result, Err(HandleError::Locked { .. })),
        "while another connection holds the write lock, handle must give HandleError::Locked \
         after the busy timeout, got {result:?}"
    );
    if let Err(error) = &result {
        assert!(error.to_string().contains("retry"), "{error}");
    }
    other
        .execute_batch("ROLLBACK")
        .expect("the lock is released");
    assert_eq!(db.outcome(request.id).ok().flatten(), None);
    assert_eq!(
        handle(&mut db, 0, &request),
        Handled::First(Outcome::Applied),
        "once the lock is gone the same event is handled"
    );
}

#[test]
fn a_read_only_database_is_an_error_that_says_so() {
    let test = TestDb::new();
    drop(test.open()); // Creates the tables.
    let config = DbConfig {
        read_only: true,
        ..TestDb::config()
    };
    let mut db = match BookingDb::open(&test.path, config) {
        Ok(db) => db,
        Err(e) => panic!("opening read-only failed: {e}"),
    };
    let (_, request) = requested("A1");
    let result = db.handle(Offset(0), &request);
    assert!(
        matches!(result, Err(HandleError::ReadOnly { .. })),
        "a write to a read-only database must give HandleError::ReadOnly, got {result:?}"
    );
    if let Err(error) = &result {
        assert!(error.to_string().contains("read-write"), "{error}");
    }
}

#[test]
fn a_failure_after_the_effect_rolls_the_effect_back() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    // Makes the insert into processed_events fail, as a full disk would: the
    // booking has been written by then, in the same transaction.
    let other = test.other_connection();
    other
        .execute_batch(
            "CREATE TRIGGER fail_marking BEFORE INSERT ON processed_events
             BEGIN SELECT RAISE(ABORT, 'injected failure: disk full'); END;",
        )
        .expect("the test's trigger");
    let before = db.snapshot().expect("a snapshot");
    let result = db.handle(Offset(0), &request);
    assert!(
        matches!(result, Err(HandleError::Database { .. })),
        "when the event id cannot be stored, handle must return the error (never ignore a \
         failed write), got {result:?}"
    );
    assert_eq!(
        db.snapshot().expect("a snapshot"),
        before,
        "the booking was written before the event id failed: both must be in one transaction, \
         so the failure rolls the booking back too. Committing the booking first, or storing \
         the id in a second transaction, leaves an effect without its dedupe key"
    );
    other
        .execute_batch("DROP TRIGGER fail_marking")
        .expect("the trigger is removed");
    assert_eq!(
        handle(&mut db, 0, &request),
        Handled::First(Outcome::Applied),
        "the redelivery after the failure applies the event, once"
    );
    assert!(matches!(
        db.state(booking_id),
        Ok(BookingState::Held { .. })
    ));
}

// Two consumers, one event: during a rebalance, a consumer that lost its
// partition and has not noticed yet handles the same records as its successor.

use std::cell::RefCell;
use std::time::Duration;

use rusqlite::trace::TraceEvent;
use solution11_idempotency::BookingEvent;

/// How far a second consumer got when it handled the same event right after
/// the first one's lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SecondConsumer {
    /// It has not started: `handle` has not looked the event up yet.
    NotStarted,
    /// Its BEGIN IMMEDIATE found the write lock taken, so it must wait for the
    /// first consumer's commit. This is right.
    Waited,
    /// It wrote the event and committed, between the first consumer's lookup
    /// and its writes.
    Committed,
    /// It wrote the event, but could not commit while the first consumer held
    /// a read lock: the two transactions now block each other.
    StuckAtCommit,
    /// Something else went wrong in the test's own SQL.
    Failed(String),
}

/// The second consumer, as plain SQL on its own connection: what its handler
/// writes for the event.
struct Interloper {
    connection: rusqlite::Connection,
    writes: String,
    looked_up: bool,
    state: SecondConsumer,
}

impl Interloper {
    fn handle_the_same_event(&self) -> SecondConsumer {
        let is_busy = |error: &rusqlite::Error| {
            error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
        };
        match self.connection.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {}
            Err(error) if is_busy(&error) => return SecondConsumer::Waited,
            Err(error) => return SecondConsumer::Failed(error.to_string()),
        }
        if let Err(error) = self.connection.execute_batch(&self.writes) {
            return SecondConsumer::Failed(error.to_string());
        }
        match self.connection.execute_batch("COMMIT") {
            Ok(()) => SecondConsumer::Committed,
            Err(error) if is_busy(&error) => SecondConsumer::StuckAtCommit,
            Err(error) => SecondConsumer::Failed(error.to_string()),
        }
    }
}

thread_local! {
    static INTERLOPER: RefCell<Option<Interloper>> = const { RefCell::new(None) };
}

/// The trace hook: SQLite calls it on the test's thread as each statement of
/// the handler starts. The statement after the lookup in `processed_events`
/// lets the second consumer in.
fn step_in_after_the_lookup(event: TraceEvent<'_>) {
    let TraceEvent::Stmt(_, sql) = event else {
        return;
    };
    INTERLOPER.with_borrow_mut(|slot| {
        let Some(interloper) = slot else {
            return;
        };
        if interloper.state != SecondConsumer::NotStarted {
            return;
        }
        if sql.contains("FROM processed_events WHERE event_id") {
            interloper.looked_up = true;
        } else if interloper.looked_up {
            interloper.state = interloper.handle_the_same_event();
        }
    });
}

#[test]
fn two_consumers_handling_one_event_at_once_apply_it_once() {
    let test = TestDb::new();
    let mut db = test.open();
    let (booking_id, request) = requested("A1");
    let BookingEvent::ReservationRequested { user_id, .. } = &request.event
    else {
        panic!("requested() gives a ReservationRequested");
    };
    let connection = test.other_connection();
    connection
        .busy_timeout(Duration::ZERO)
        .expect("the second consumer does not wait for locks");
    INTERLOPER.with_borrow_mut(|slot| {
        *slot = Some(Interloper {
            connection,
            writes: format!(
                "INSERT INTO bookings (booking_id, seat_id, user_id, state)
                 VALUES ('{booking}', 'A1', '{user}', 'held');
                 INSERT INTO processed_events
                     (event_id, booking_id, first_offset, outcome, detail)
                 VALUES ('{event}', '{booking}', 0, 'applied', '');",
                booking = booking_id.as_uuid(),
                user = user_id.as_uuid(),
                event = request.id,
            ),
            looked_up: false,
            state: SecondConsumer::NotStarted,
        });
    });
    db.trace_statements(Some(step_in_after_the_lookup));
    let result = db.handle(Offset(0), &request);
    db.trace_statements(None);
    let interloper = INTERLOPER
        .with_borrow_mut(Option::take)
        .expect("the test's second consumer");
    if interloper.state == SecondConsumer::StuckAtCommit {
        // Its transaction is still open; end it, as its busy timeout would.
        interloper
            .connection
            .execute_batch("ROLLBACK")
            .expect("the second consumer rolls back");
    }
    let why = match &interloper.state {
        SecondConsumer::NotStarted => {
            "handle never looked the event up with the given `processed` helper \
             (or ran no statement after it)"
                .to_owned()
        }
        SecondConsumer::Waited => {
            "the second consumer waited for your write lock, as it should".to_owned()
        }
        SecondConsumer::Committed => {
            "a second consumer committed the same event after your lookup and before \
             your writes, so your lookup's \"not processed\" was stale: the lookup ran \
             outside the transaction. Start the transaction with BEGIN IMMEDIATE first, \
             then look the event up inside it, so that a second consumer waits"
                .to_owned()
        }
        SecondConsumer::StuckAtCommit => {
            "after your lookup a second consumer could still begin writing the same \
             event: your transaction took the write lock only at its first write (a \
             deferred `transaction()`), so the two transactions blocked each other. \
             Start it with transaction_with_behavior(TransactionBehavior::Immediate)"
                .to_owned()
        }
        SecondConsumer::Failed(error) => {
            format!("the test's second consumer failed: {error}")
        }
    };
    assert!(
        matches!(result, Ok(Handled::First(Outcome::Applied))),
        "a second consumer tried to handle the same event right after handle's lookup; \
         handle must still apply the event, got {result:?}: {why}"
    );
    assert_eq!(
        interloper.state,
        SecondConsumer::Waited,
        "the second consumer must not get in between the lookup and the writes: {why}"
    );
    let mut second = test.open();
    assert_eq!(
        handle(&mut second, 0, &request),
        Handled::Duplicate(Outcome::Applied),
        "once the first consumer has committed, the second one finds the event processed"
    );
}

// Crashes and duplicates, through the consumer of src/pipeline.rs.

use std::collections::{BTreeMap, HashMap, HashSet};

use common::batch_record;
use solution11_idempotency::{
    BookingId, CommittedOffsets, CrashPoint, EventHandler, EventId,
    IdentifiedEvent, Log, Partition, PipelineError, Record, Rejected,
    RunOutcome, Snapshot, Stage, run_until_crash,
};

const P: Partition = Partition(0);

/// A partition of five records, with the duplicates at-least-once delivery
/// and producer retries bring:
///
/// | offset | batch |
/// |---|---|
/// | 0 | request of booking 1, seat A1 |
/// | 1 | request of booking 2, seat B2; payment of booking 1 |
/// | 2 | offset 1 again: the producer retried, the log wrote it twice |
/// | 3 | request of booking 3, seat A1 (taken); expiry of booking 2 |
/// | 4 | payment of booking 2 (too late); payment of booking 1 again |
struct Workload {
    log: Log,
    events: Vec<IdentifiedEvent>,
}

fn workload() -> Workload {
    let log = Log::new(1).expect("a log with one partition");
    let (first, request_1) = requested("A1");
    let (second, request_2) = requested("B2");
    let (_, request_3) = requested("A1");
    let pay_1 = paid(first);
    let expire_2 = expired(second);
    let pay_2 = paid(second);
    let records = [
        batch_record(1, 0, &[&request_1]),
        batch_record(1, 1, &[&request_2, &pay_1]),
        batch_record(1, 1, &[&request_2, &pay_1]),
        batch_record(1, 3, &[&request_3, &expire_2]),
        batch_record(1, 5, &[&pay_2, &pay_1]),
    ];
    for record in records {
        log.append(P, record).expect("partition 0 exists");
    }
    let events = vec![request_1, request_2, pay_1, request_3, expire_2, pay_2];
    Workload { log, events }
}

/// Counts, per event id, the deliveries that had an effect
/// ([`Handled::First`]). It stands for the world outside the process: it
/// survives the crash, so it sees an effect that happens twice.
struct Effects<H> {
    handler: H,
    counts: HashMap<EventId, usize>,
}

impl<H: EventHandler> EventHandler for Effects<H> {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<Handled, HandleError> {
        let handled = self.handler.handle(offset, event)?;
        if let Handled::First(_) = handled {
            *self.counts.entry(event.id).or_default() += 1;
        }
        Ok(handled)
    }
}

/// Lists every event of the workload whose effect did not happen exactly
/// once. Empty is right.
fn not_exactly_once(
    workload: &Workload,
    counts: &HashMap<EventId, usize>,
) -> Vec<String> {
    workload
        .events
        .iter()
        .filter_map(|event| {
            let times = counts.get(&event.id).copied().unwrap_or(0);
            (times != 1).then(|| {
                format!(
                    "{} {} took effect {times} times",
                    event.event.name(),
                    event.id
                )
            })
        })
        .collect()
}

/// Runs the consumer with a crash at `crash` (if any), restarts it with a
/// fresh handler from `restart`, and runs it until caught up.
fn crash_and_restart<H: EventHandler>(
    workload: &Workload,
    crash: Option<CrashPoint>,
    mut restart: impl FnMut(H) -> H,
    handler: H,
) -> (Effects<H>, CommittedOffsets) {
    let mut committed = CommittedOffsets::new();
    let mut effects = Effects {
        handler,
        counts: HashMap::new(),
    };
    let run = |effects: &mut Effects<H>,
               committed: &mut CommittedOffsets,
               crash: Option<CrashPoint>| {
        run_until_crash(&workload.log, P, crash, effects, committed)
            .unwrap_or_else(|e| {
                panic!("the consumer failed (crash at {crash:?}): {e} ({e:?})")
            })
    };
    if let Some(at) = crash {
        assert_eq!(
            run(&mut effects, &mut committed, Some(at)),
            RunOutcome::Crashed { at },
            "the planned crash must hit"
        );
        effects.handler = restart(effects.handler);
    }
    assert_eq!(
        run(&mut effects, &mut committed, None),
        RunOutcome::CaughtUp {
            committed: Offset(5)
        },
        "after the restart the consumer must catch up and commit 5, the log end"
    );
    (effects, committed)
}

/// The database after one run with no crash: what every crashed run must end
/// with too.
fn clean_run(workload: &Workload) -> Snapshot {
    let test = TestDb::new();
    let (effects, _) = crash_and_restart(workload, None, |db| db, test.open());
    effects.handler.snapshot().expect("a snapshot")
}

fn every_crash_point() -> Vec<CrashPoint> {
    (0..5)
        .flat_map(|offset| {
            Stage::ALL.into_iter().map(move |stage| CrashPoint {
                offset: Offset(offset),
                stage,
            })
        })
        .collect()
}

// ANCHOR: crash_anywhere
#[test]
fn with_duplicates_and_a_crash_anywhere_every_event_takes_effect_once() {
    let workload = workload();
    let want = clean_run(&workload);
    let mut wrong = Vec::new();
    for at in every_crash_point() {
        let test = TestDb::new();
        // The restart drops the old connection, as a crash would, and opens
        // the file again.
        let (effects, _) = crash_and_restart(
            &workload,
            Some(at),
            |_old| test.open(),
            test.open(),
        );
        for problem in not_exactly_once(&workload, &effects.counts) {
            wrong.push(format!(
                "crash at offset {}, stage {}: {problem}",
                at.offset, at.stage
            ));
        }
        let got = effects.handler.snapshot().expect("a snapshot");
        if got != want {
            wrong.push(format!(
                "crash at offset {}, stage {}: the database differs from a run without a \
                 crash:\n  got  {got:?}\n  want {want:?}",
                at.offset, at.stage
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "every event must take effect exactly once, whatever was delivered twice and wherever \
         the consumer crashed:\n{}",
        wrong.join("\n")
    );
}
// ANCHOR_END: crash_anywhere

#[test]
fn the_outcomes_of_the_workload_are_those_of_the_state_machine() {
    let workload = workload();
    let test = TestDb::new();
    let (effects, _) = crash_and_restart(&workload, None, |db| db, test.open());
    let db = &effects.handler;
    let outcome = |event: &IdentifiedEvent| db.outcome(event.id).ok().flatten();
    let [request_1, request_2, pay_1, request_3, expire_2, pay_2] =
        &workload.events[..]
    else {
        panic!("the workload has six events");
    };
    assert_eq!(outcome(request_1), Some(Outcome::Applied));
    assert_eq!(outcome(request_2), Some(Outcome::Applied));
    assert_eq!(outcome(pay_1), Some(Outcome::Applied));
    assert_eq!(
        outcome(request_3),
        Some(Outcome::SeatTaken {
            seat_id: seat("A1")
        }),
        "booking 3 asked for A1, which booking 1 bought"
    );
    assert_eq!(outcome(expire_2), Some(Outcome::Applied));
    let booking_2 = request_2.event.booking_id();
    assert_eq!(
        outcome(pay_2),
        Some(Outcome::Refused {
            reason: Rejected::PaidAfterExpiry {
                booking_id: booking_2
            }
            .to_string()
        })
    );
}

// ANCHOR: in_memory_seen_set
/// A handler that remembers processed event ids in a set in memory, and keeps
/// its bookings in a store that survives the crash (here: a map the test
/// keeps). Looks right until the process restarts.
struct InMemorySeenSet {
    seen: HashSet<EventId>,
    bookings: BTreeMap<BookingId, BookingState>,
}

impl EventHandler for InMemorySeenSet {
    fn handle(
        &mut self,
        _offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<Handled, HandleError> {
        if !self.seen.insert(event.id) {
            return Ok(Handled::Duplicate(Outcome::Applied));
        }
        let booking_id = event.event.booking_id();
        let state = self
            .bookings
            .get(&booking_id)
            .cloned()
            .unwrap_or(BookingState::Empty);
        let outcome = match solution01_events::apply(&state, &event.event) {
            Ok(next) => {
                self.bookings.insert(booking_id, next);
                Outcome::Applied
            }
            Err(rejected) => Outcome::Refused {
                reason: rejected.to_string(),
            },
        };
        Ok(Handled::First(outcome))
    }
}

#[test]
fn an_in_memory_seen_set_passes_until_the_process_restarts() {
    let workload = workload();
    let fresh = || InMemorySeenSet {
        seen: HashSet::new(),
        bookings: BTreeMap::new(),
    };
    let (effects, _) = crash_and_restart(&workload, None, |h| h, fresh());
    assert_eq!(
        not_exactly_once(&workload, &effects.counts),
        Vec::<String>::new(),
        "without a crash, a seen set in memory absorbs the duplicates at offsets 2 and 4"
    );

    // The crash hits once record 1 is persisted and before it is committed:
    // the restart delivers it again, and the new process has an empty set.
    let at = CrashPoint {
        offset: Offset(1),
        stage: Stage::Persisted,
    };
    let restart = |old: InMemorySeenSet| InMemorySeenSet {
        seen: HashSet::new(),
        bookings: old.bookings,
    };
    let (effects, _) = crash_and_restart(&workload, Some(at), restart, fresh());
    assert_eq!(
        not_exactly_once(&workload, &effects.counts).len(),
        2,
        "after the restart the set is empty: both events of record 1 take effect a second \
         time (the state machine refuses them as AlreadyRequested / AlreadyPaid, a second, \
         different answer to the same event). This is the flaw the database's dedupe key \
         fixes: see the test with a crash anywhere"
    );
}
// ANCHOR_END: in_memory_seen_set

#[test]
fn a_record_that_is_not_a_batch_stops_the_consumer_and_writes_nothing() {
    let log = Log::new(1).expect("a log with one partition");
    let (_, request) = requested("A1");
    let (_, other_request) = requested("B1");
    log.append(P, batch_record(1, 0, &[&request]))
        .expect("partition 0");
    log.append(P, Record::new("bookings", &b"not a batch"[..]))
        .expect("partition 0");
    let test = TestDb::new();
    let mut db = test.open();
    let mut committed = CommittedOffsets::new();
    let result = run_until_crash(&log, P, None, &mut db, &mut committed);
    assert!(
        matches!(
            result,
            Err(PipelineError::Decode {
                offset: Offset(1),
                ..
            })
        ),
        "a record that does not decode must stop the consumer with PipelineError::Decode at \
         its offset, got {result:?}"
    );
    assert_eq!(
        committed.committed(P),
        Some(Offset(1)),
        "record 0 was handled and committed; the bad record 1 is not committed"
    );

    // A batch whose second event is not a booking event: decoded whole before
    // any of it is handled, so nothing of it is written.
    let log = Log::new(1).expect("a log with one partition");
    let mut record = batch_record(1, 0, &[&other_request, &request])
        .value
        .to_vec();
    // Turn the last event's seat into one that step 01 refuses: "A1" -> "A0".
    let at = record
        .windows(2)
        .rposition(|pair| pair == b"A1")
        .expect("the batch holds seat A1");
    record[at + 1] = b'0';
    log.append(P, Record::new("bookings", record))
        .expect("partition 0");
    let before = db.snapshot().expect("a snapshot");
    let mut committed = CommittedOffsets::new();
    let result = run_until_crash(&log, P, None, &mut db, &mut committed);
    assert!(
        matches!(
            result,
            Err(PipelineError::Decode {
                offset: Offset(0),
                ..
            })
        ),
        "a batch with one bad event is refused whole, got {result:?}"
    );
    assert_eq!(
        db.snapshot().expect("a snapshot"),
        before,
        "nothing of a refused batch may be written, not even its good first event"
    );
}
