//! Helpers shared by this step's tests.

// Each test file uses some of these helpers, never all of them.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use step12_retries::{
    BookingEvent, BookingId, DeadLetter, DeadLetterTopic, FsyncPolicy, Handler,
    HandlerError, IdentifiedEvent, Log, LogConfig, Offset, ParkLimits,
    Partition, Record, Report, RetryPolicy, SeatId, SimDisk, UserId,
    WorkerConfig, encode_identified, run_partition,
};

pub const P: Partition = Partition(0);

/// A seeded random source: the same seed gives the same jitter every run.
pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

pub fn seat(seat: &str) -> SeatId {
    SeatId::parse(seat).expect("the tests use valid seats")
}

pub fn requested(booking_id: BookingId, seat_id: &str) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::ReservationRequested {
        booking_id,
        seat_id: seat(seat_id),
        user_id: UserId::new(),
    })
}

pub fn paid(booking_id: BookingId) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::PaymentReceived { booking_id })
}

pub fn expired(booking_id: BookingId) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::ReservationExpired { booking_id })
}

/// The record of `event`, keyed by its booking as step 03 chose.
pub fn record_of(event: &IdentifiedEvent) -> Record {
    Record::new(
        event.event.booking_id().as_uuid().to_string(),
        encode_identified(event),
    )
}

/// A one-partition log holding `events` at offsets 0, 1, 2...
pub fn log_of(events: &[IdentifiedEvent]) -> Log {
    let log = Log::new(1).expect("a log with one partition");
    for event in events {
        log.append(P, record_of(event)).expect("partition 0 exists");
    }
    log
}

/// A policy whose delays are easy to check: 100 ms, 200 ms, 400 ms... at
/// most 1 s; `max_attempts` tries in all.
pub fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(100),
        cap: Duration::from_secs(1),
    }
}

pub fn config(max_attempts: u32) -> WorkerConfig {
    WorkerConfig {
        retry: policy(max_attempts),
        park: ParkLimits {
            max_per_booking: 4,
            max_wait: Duration::from_secs(60),
        },
    }
}

/// A dead-letter topic on a simulated disk that fsyncs nothing on its own:
/// only `send`'s own sync makes a dead letter durable.
pub fn dead_letter_topic(disk: &SimDisk) -> DeadLetterTopic<SimDisk> {
    DeadLetterTopic::open(disk.clone(), &dead_letter_dir(), lazy_config())
        .expect("a fresh simulated disk opens")
}

pub fn dead_letter_dir() -> PathBuf {
    PathBuf::from("/workshop/dead-letters")
}

pub fn lazy_config() -> LogConfig {
    LogConfig {
        fsync: FsyncPolicy::Never,
        ..LogConfig::new(1)
    }
}

/// Every dead letter in the topic, in order.
pub fn dead_letters(topic: &DeadLetterTopic<SimDisk>) -> Vec<DeadLetter> {
    topic
        .read(Offset(0), usize::MAX)
        .expect("the dead-letter topic reads back")
        .into_iter()
        .map(|(_, dead_letter)| dead_letter)
        .collect()
}

/// A handler that fails as it is told, per offset, and otherwise succeeds.
/// It records every call, so a test can see what was tried and in which
/// order.
#[derive(Debug, Default)]
pub struct ScriptedHandler {
    /// Per offset, the errors of its first attempts, in order; once they are
    /// used up the offset succeeds.
    pub failures: HashMap<Offset, VecDeque<HandlerError>>,
    /// Offsets that fail transiently on every attempt: poison pills.
    pub always_fail: Vec<Offset>,
    /// Every call, in order.
    pub calls: Vec<Offset>,
    /// The offsets handled successfully, in order.
    pub handled: Vec<Offset>,
}

impl ScriptedHandler {
    /// The record at `offset` fails transiently `times` times, then succeeds.
    pub fn transient(mut self, offset: u64, times: usize) -> ScriptedHandler {
        self.failures.insert(
            Offset(offset),
            (0..times)
                .map(|i| transient(&format!("busy {i}")))
                .collect(),
        );
        self
    }

    /// The record at `offset` fails permanently the first time.
    pub fn permanent(mut self, offset: u64) -> ScriptedHandler {
        self.failures.insert(
            Offset(offset),
            VecDeque::from([HandlerError::Permanent {
                reason: "the seat map has no such seat".to_owned(),
            }]),
        );
        self
    }

    /// The record at `offset` fails the first time because its booking is
    /// not known yet.
    pub fn not_requested_yet(
        mut self,
        offset: u64,
        booking_id: BookingId,
    ) -> ScriptedHandler {
        self.failures.insert(
            Offset(offset),
            VecDeque::from([HandlerError::NotRequestedYet { booking_id }]),
        );
        self
    }

    /// The record at `offset` fails transiently forever.
    pub fn poison(mut self, offset: u64) -> ScriptedHandler {
        self.always_fail.push(Offset(offset));
        self
    }

    pub fn calls_of(&self, offset: u64) -> usize {
        self.calls.iter().filter(|&&o| o == Offset(offset)).count()
    }
}

pub fn transient(reason: &str) -> HandlerError {
    HandlerError::Transient {
        reason: reason.to_owned(),
    }
}

impl Handler for ScriptedHandler {
    fn handle(
        &mut self,
        offset: Offset,
        _event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        self.calls.push(offset);
        if self.always_fail.contains(&offset) {
            return Err(transient("the database is still locked"));
        }
        if let Some(error) =
            self.failures.get_mut(&offset).and_then(VecDeque::pop_front)
        {
            return Err(error);
        }
        self.handled.push(offset);
        Ok(())
    }
}

/// Runs the worker over all of `log`'s partition 0, failing the test if the
/// worker fails or is still running after an hour (of paused time).
pub async fn run<H: Handler>(
    log: &Log,
    handler: &mut H,
    topic: &DeadLetterTopic<SimDisk>,
    config: WorkerConfig,
    seed: u64,
) -> Report {
    let mut rng = rng(seed);
    let run =
        run_partition(log, P, Offset(0), handler, topic, config, &mut rng);
    // The clock is paused in these tests, so an hour passes in an instant
    // once the worker does nothing but sleep.
    match tokio::time::timeout(Duration::from_secs(3600), run).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => panic!("the worker failed: {}", chain(&e)),
        Err(_) => panic!(
            "the worker was still running after an hour: an event is retried \
             without end, or a parked event never leaves the park"
        ),
    }
}

/// An error with every cause under it: "the worker failed: a: b: c".
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(source) = cause {
        text.push_str(": ");
        text.push_str(&source.to_string());
        cause = source.source();
    }
    text
}

/// `count` events over `bookings` bookings, each booking's events in the
/// order request, payment; interleaved across bookings.
pub fn bookings(count: usize) -> (Vec<BookingId>, Vec<IdentifiedEvent>) {
    let ids: Vec<BookingId> = (0..count).map(|_| BookingId::new()).collect();
    let mut events = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        events.push(requested(*id, &format!("A{}", i + 1)));
    }
    for id in &ids {
        events.push(paid(*id));
    }
    (ids, events)
}
