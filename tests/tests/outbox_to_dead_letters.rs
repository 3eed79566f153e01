//! Steps 10, 11, 12 and 13 together: a booking service records its bookings
//! with step 13's outbox, relays (which crash at seeded points) publish the
//! rows through step 11's idempotent producer into step 10's durable log on
//! the simulated disk, and step 12's worker consumes them with step 11's
//! SQLite handler, through injected transient errors, poison pills,
//! payments that arrive before their requests, competing requests for held
//! seats, and consumer crashes that lose the committed offset.
//!
//! The durable log holds producer batches, as Kafka's does; the consumer
//! reads single events, as a Kafka consumer gets the records of a batch one
//! by one. The test moves each batch's events into the topic the worker
//! reads (step 06's log), and puts the injected records in between.
//!
//! At the end: every outbox row is published, and nothing else is; every
//! event the topic carried is processed, and every poison pill is
//! dead-lettered, each exactly once; no seat has two live bookings.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution01_events::{BookingEvent, BookingId, SeatId, UserId};
use solution06_log::{Log, Offset, Partition, Record};
use solution10_recovery::{FsyncPolicy, LogConfig, SimDisk};
use solution11_idempotency::{
    BookingDb, DbConfig, Durability, EventId, IdempotentLog, IdentifiedEvent, Outcome,
    ProducerBatch, encode_identified,
};
use solution12_retries::{
    DeadLetterTopic, Handler, HandlerError, ParkLimits, RetryPolicy, WorkerConfig, run_partition,
};
use solution13_outbox::{MarkMode, OutboxDb, Pass, Relay, RelayConfig, RelayCrash};

const SEEDS: u64 = 8;
const ROUNDS: usize = 5;
const P0: Partition = Partition(0);

/// A small seeded random number generator (xorshift64*): the same seed gives
/// the same run, so a failure can be replayed.
struct Seeded(u64);

impl Seeded {
    fn new(seed: u64) -> Seeded {
        Seeded(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }

    /// `true` once in `n` times.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

fn db_config() -> DbConfig {
    DbConfig {
        busy_timeout: Duration::from_millis(50),
        durability: Durability::SurvivesProcessCrash,
        read_only: false,
    }
}

fn log_config() -> LogConfig {
    LogConfig {
        partition_count: 1,
        segment_bytes: 1 << 20,
        fsync: FsyncPolicy::EveryRecord,
    }
}

fn seat(n: usize) -> SeatId {
    let row = char::from(b'A' + u8::try_from(n / 999 % 26).expect("below 26"));
    SeatId::parse(&format!("{row}{}", n % 999 + 1)).expect("a valid seat")
}

/// Step 11's handler behind a flaky connection: each event fails with a
/// transient error up to twice (drawn per event id from the seed) before it
/// reaches the database. The worker retries up to four times, so none of
/// these failures is given up on.
struct Flaky {
    db: BookingDb,
    failures_left: HashMap<EventId, u64>,
    rng: Seeded,
}

impl Handler for Flaky {
    fn handle(&mut self, offset: Offset, event: &IdentifiedEvent) -> Result<(), HandlerError> {
        let rng = &mut self.rng;
        let left = self
            .failures_left
            .entry(event.id)
            .or_insert_with(|| rng.below(3));
        if *left > 0 {
            *left -= 1;
            return Err(HandlerError::Transient {
                reason: "injected: the database connection dropped".to_owned(),
            });
        }
        Handler::handle(&mut self.db, offset, event)
    }
}

/// Runs relays until one finds nothing to publish; each pass may crash at a
/// seeded point, and a new relay (a new producer) takes over.
fn relay_all(db: &mut OutboxDb, log: &IdempotentLog<SimDisk>, rng: &mut Seeded) -> usize {
    let points = [
        None,
        None,
        Some(RelayCrash::BeforePublish),
        Some(RelayCrash::AfterPublish),
        Some(RelayCrash::AfterMark),
    ];
    let config = |rng: &mut Seeded| RelayConfig {
        partition: P0,
        max_in_flight: 1 + rng.below(4) as usize,
        marks: if rng.one_in(2) {
            MarkMode::Batched
        } else {
            MarkMode::PerRow
        },
    };
    let mut relay = Relay::new(config(rng));
    let mut crashes = 0;
    for _ in 0..10_000 {
        let crash = points[rng.below(points.len() as u64) as usize];
        match relay.run_once(db, log, crash) {
            Ok(Pass::Idle) => return crashes,
            Ok(Pass::Published { .. }) => {}
            Ok(Pass::Crashed(_)) => {
                crashes += 1;
                relay = Relay::new(config(rng));
            }
            Err(e) => panic!("a relay pass failed: {e} ({e:?})"),
        }
    }
    panic!("the relays never caught up with the outbox");
}

/// What the test put into the topic, by offset.
#[derive(Default)]
struct Topic {
    /// Offsets of records that are not events at all.
    poison: HashSet<Offset>,
    /// Every event id the topic carried, with how many copies.
    events: HashMap<EventId, usize>,
    /// A request from the outbox and a competing request for the same seat
    /// under another booking: one of the two gets the seat, the other is
    /// refused. Which one depends on retries: step 12 keeps order per
    /// booking, not across bookings.
    competing: Vec<(EventId, EventId)>,
    /// Bookings whose payment came before their request.
    paid_first: Vec<BookingId>,
}

#[tokio::test(start_paused = true)]
async fn bookings_through_the_outbox_end_processed_or_dead_lettered_exactly_once() {
    let mut totals = [0; 5];
    for seed in 0..SEEDS {
        let counts = run(seed).await;
        for (total, count) in totals.iter_mut().zip(counts) {
            *total += count;
        }
    }
    let [
        relay_crashes,
        consumer_crashes,
        pills,
        paid_first,
        competing,
    ] = totals;
    assert!(
        relay_crashes > 0 && consumer_crashes > 0 && pills > 0 && paid_first > 0 && competing > 0,
        "the seeds must inject every kind of fault at least once: {relay_crashes} relay \
         crashes, {consumer_crashes} consumer crashes, {pills} poison pills, {paid_first} \
         early payments, {competing} competing requests"
    );
}

/// One seeded run; returns how many relay crashes, consumer crashes, poison
/// pills, early payments and competing requests it had.
async fn run(seed: u64) -> [usize; 5] {
    let mut rng = Seeded::new(seed);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut service = OutboxDb::open(&dir.path().join("service.sqlite"), db_config())
        .expect("the service's database opens");
    let consumer_db = BookingDb::open(&dir.path().join("consumer.sqlite"), db_config())
        .expect("the consumer's database opens");
    let disk = SimDisk::new(seed);
    let (log, _) = IdempotentLog::open(disk.clone(), Path::new("/cross/log"), log_config())
        .expect("the durable log opens");
    let dead_letters = DeadLetterTopic::open(disk.clone(), Path::new("/cross/dead"), log_config())
        .expect("the dead-letter topic opens");
    let topic = Log::new(1).expect("the topic");
    let mut put = Topic::default();
    let mut handler = Flaky {
        db: consumer_db,
        failures_left: HashMap::new(),
        rng: Seeded::new(seed ^ 0xF1A4),
    };
    let mut worker_rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let worker_config = WorkerConfig {
        retry: RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(10),
            cap: Duration::from_secs(1),
        },
        park: ParkLimits {
            max_per_booking: 8,
            max_wait: Duration::from_secs(3600),
        },
    };

    let mut seats = 0;
    let mut held: Vec<BookingId> = Vec::new();
    let mut pay_from_gateway: HashSet<BookingId> = HashSet::new();
    let mut moved = Offset(0);
    let mut committed = Offset(0);
    let mut relay_crashes = 0;
    let mut consumer_crashes = 0;
    for round in 0..=ROUNDS {
        // The booking service: new requests, and payments of earlier holds.
        if round < ROUNDS {
            for _ in 0..1 + rng.below(5) {
                let booking_id = BookingId::new();
                let request = BookingEvent::ReservationRequested {
                    booking_id,
                    seat_id: seat(seats),
                    user_id: UserId::new(),
                };
                seats += 1;
                service
                    .record(&request)
                    .expect("a request for a free seat is recorded");
                if rng.one_in(4) {
                    pay_from_gateway.insert(booking_id);
                } else {
                    held.push(booking_id);
                }
            }
            for _ in 0..rng.below(3) {
                if held.is_empty() {
                    break;
                }
                let booking_id = held.swap_remove(rng.below(held.len() as u64) as usize);
                service
                    .record(&BookingEvent::PaymentReceived { booking_id })
                    .expect("a payment of a held booking is recorded");
            }
        }
        relay_crashes += relay_all(&mut service, &log, &mut rng);

        // The durable log's batches become single records of the topic, with
        // poison pills, early payments and competing requests in between.
        let batches = log
            .durable()
            .read(P0, moved, usize::MAX)
            .expect("the log reads");
        for stored in batches {
            moved = stored.offset.next();
            let batch = ProducerBatch::decode(&stored.record.value).expect("a producer batch");
            for event in batch.events {
                if rng.one_in(6) {
                    let offset = topic
                        .append(
                            P0,
                            Record::new("legacy", b"\xff\xfe not a booking event".to_vec()),
                        )
                        .expect("the topic appends");
                    put.poison.insert(offset);
                }
                let booking_id = event.event.booking_id();
                let is_request = matches!(event.event, BookingEvent::ReservationRequested { .. });
                let paid_first = is_request && pay_from_gateway.remove(&booking_id);
                if paid_first {
                    let payment =
                        IdentifiedEvent::new(BookingEvent::PaymentReceived { booking_id });
                    append_event(&topic, &mut put, &payment);
                    put.paid_first.push(booking_id);
                }
                // A request seen for the first time may get a competitor: a
                // request of another booking for the same seat, right behind.
                let competitor = match &event.event {
                    BookingEvent::ReservationRequested { seat_id, .. }
                        if !paid_first && !put.events.contains_key(&event.id) && rng.one_in(5) =>
                    {
                        Some(IdentifiedEvent::new(BookingEvent::ReservationRequested {
                            booking_id: BookingId::new(),
                            seat_id: seat_id.clone(),
                            user_id: UserId::new(),
                        }))
                    }
                    _ => None,
                };
                append_event(&topic, &mut put, &event);
                if let Some(competing) = competitor {
                    put.competing.push((event.id, competing.id));
                    append_event(&topic, &mut put, &competing);
                }
            }
        }

        // The consumer reads from its committed offset to the end. A crash
        // before the commit loses the run's offset, not its effects: the next
        // run reads the same records again.
        let report = run_partition(
            &topic,
            P0,
            committed,
            &mut handler,
            &dead_letters,
            worker_config,
            &mut worker_rng,
        )
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: the worker failed: {e} ({e:?})"));
        if round < ROUNDS && rng.one_in(3) {
            consumer_crashes += 1;
        } else {
            committed = report.committed;
        }
    }

    let end = topic.high_watermark(P0).expect("the topic's end");
    assert_eq!(
        committed, end,
        "seed {seed}: the last run commits the whole topic"
    );

    // Invariant 10: every outbox row is published, and nothing else is.
    let rows = service.rows().expect("the outbox reads");
    assert!(
        rows.iter().all(|(_, sent)| *sent),
        "seed {seed}: every outbox row must end marked sent"
    );
    let row_ids: HashSet<EventId> = rows.iter().map(|(row, _)| row.event.id).collect();
    let published: HashSet<EventId> = log
        .durable()
        .read(P0, Offset(0), usize::MAX)
        .expect("the log reads")
        .iter()
        .flat_map(|stored| {
            ProducerBatch::decode(&stored.record.value)
                .expect("a producer batch")
                .events
        })
        .map(|event| event.id)
        .collect();
    assert_eq!(
        published, row_ids,
        "seed {seed}: the log must hold every committed row's event and no other \
         ({relay_crashes} relay crashes)"
    );

    // Every event processed once (the database keeps one outcome per id), no
    // event dead-lettered; every poison pill dead-lettered once.
    for id in put.events.keys() {
        let outcome = handler
            .db
            .outcome(*id)
            .expect("the consumer's database reads");
        assert!(
            outcome.is_some(),
            "seed {seed}: event {id} went through the topic but was never processed \
             ({consumer_crashes} consumer crashes)"
        );
    }
    let letters = dead_letters
        .read(Offset(0), usize::MAX)
        .expect("the dead letters read");
    let sources: Vec<Offset> = letters.iter().map(|(_, letter)| letter.offset).collect();
    let distinct: HashSet<Offset> = sources.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        sources.len(),
        "seed {seed}: a record was dead-lettered twice: {sources:?}"
    );
    assert_eq!(
        distinct, put.poison,
        "seed {seed}: exactly the poison pills must be dead-lettered"
    );

    // The early payments waited for their requests; the competing requests
    // found their seats taken; no seat has two live bookings.
    for booking_id in &put.paid_first {
        let state = handler
            .db
            .state(*booking_id)
            .expect("the consumer's database reads");
        assert!(
            matches!(state, solution01_events::BookingState::Confirmed { .. }),
            "seed {seed}: booking {} was paid before its request reached the topic, and \
             must end confirmed, got {state:?}",
            booking_id.as_uuid()
        );
    }
    for (first, second) in &put.competing {
        let outcomes = [*first, *second].map(|id| {
            handler
                .db
                .outcome(id)
                .expect("the consumer's database reads")
        });
        let applied = outcomes
            .iter()
            .filter(|o| matches!(o, Some(Outcome::Applied)))
            .count();
        let taken = outcomes
            .iter()
            .filter(|o| matches!(o, Some(Outcome::SeatTaken { .. })))
            .count();
        assert_eq!(
            (applied, taken),
            (1, 1),
            "seed {seed}: of two requests for one seat, one must get it and the other be \
             refused, got {outcomes:?}"
        );
    }
    let snapshot = handler
        .db
        .snapshot()
        .expect("the consumer's database reads");
    let mut live_seats = HashSet::new();
    for line in snapshot.bookings.values() {
        let mut words = line.split(' ');
        let state = words.next().unwrap_or_default();
        let seat = words.nth(1).unwrap_or_default().to_owned();
        if state == "held" || state == "confirmed" {
            assert!(
                live_seats.insert(seat.clone()),
                "seed {seed}: seat {seat} is sold twice"
            );
        }
    }
    [
        relay_crashes,
        consumer_crashes,
        put.poison.len(),
        put.paid_first.len(),
        put.competing.len(),
    ]
}

fn append_event(topic: &Log, put: &mut Topic, event: &IdentifiedEvent) {
    let key = event.event.booking_id().as_uuid().to_string();
    topic
        .append(P0, Record::new(key, encode_identified(event)))
        .expect("the topic appends");
    *put.events.entry(event.id).or_default() += 1;
}
