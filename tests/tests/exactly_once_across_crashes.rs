//! Steps 03, 09, 10 and 11 together: bookings produced with step 11's
//! idempotent producer (with lost acks and a broker crash) into step 10's
//! durable log on the simulated disk, consumed by a consumer that crashes at
//! seeded random points and restarts from what is on disk (the log, the commit
//! store, the SQLite database), handled by step 11's SQLite handler.
//!
//! At the end every booking's events took effect exactly once, every booking
//! is in the state its last event says, and the committed offsets are the log
//! ends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use solution01_events::{BookingEvent, BookingId, BookingState, SeatId, UserId};
use solution03_partitioning::{partition_for, partition_key};
use solution09_offsets::{CrashPoint, RunOutcome, Stage};
use solution10_recovery::{CommitStore, FsyncPolicy, LogConfig, SimDisk};
use solution11_idempotency::{
    BatchAck, BookingDb, DbConfig, Durability, EventHandler, EventId, HandleError, Handled,
    IdempotentLog, IdempotentProducer, IdentifiedEvent, Offset, Partition, ProduceError,
    run_until_crash,
};
use uuid::Uuid;

const PARTITIONS: u32 = 3;
const BOOKINGS: usize = 24;

/// A small seeded random number generator (xorshift64*): the same seed gives
/// the same crashes, so a failure can be replayed.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn log_dir() -> PathBuf {
    PathBuf::from("/bookings/log")
}

fn commit_dir() -> PathBuf {
    PathBuf::from("/bookings/consumer")
}

fn log_config() -> LogConfig {
    LogConfig {
        partition_count: PARTITIONS,
        segment_bytes: 2048,
        fsync: FsyncPolicy::EveryRecord,
    }
}

fn open_log(disk: &SimDisk) -> IdempotentLog<SimDisk> {
    match IdempotentLog::open(disk.clone(), &log_dir(), log_config()) {
        Ok((log, _)) => log,
        Err(e) => panic!("the log did not open: {e} ({e:?})"),
    }
}

fn open_db(path: &Path) -> BookingDb {
    let config = DbConfig {
        busy_timeout: Duration::from_millis(100),
        durability: Durability::SurvivesProcessCrash,
        read_only: false,
    };
    BookingDb::open(path, config).unwrap_or_else(|e| panic!("the database did not open: {e}"))
}

/// An id made from the seed, so that a run can be replayed exactly: the ids
/// decide the partitions, and the partitions the batches.
fn id(seed: u64, n: u64) -> Uuid {
    Uuid::from_u64_pair(seed, n)
}

/// Each booking's events, and the state its last event leaves it in: even
/// bookings are paid, odd ones expire. Every booking has a seat of its own.
fn bookings(seed: u64) -> Vec<(BookingId, Vec<IdentifiedEvent>, bool)> {
    (0..BOOKINGS)
        .map(|n| {
            let n = n as u64;
            let booking_id = BookingId::from_uuid(id(seed, 3 * n));
            let seat_id = SeatId::parse(&format!("E{}", n + 1)).expect("E1..E24 are seats");
            let paid = n.is_multiple_of(2);
            let last = if paid {
                BookingEvent::PaymentReceived { booking_id }
            } else {
                BookingEvent::ReservationExpired { booking_id }
            };
            let request = BookingEvent::ReservationRequested {
                booking_id,
                seat_id,
                user_id: UserId::new(),
            };
            let events = vec![
                IdentifiedEvent {
                    id: EventId::from_uuid(id(seed, 3 * n + 1)),
                    event: request,
                },
                IdentifiedEvent {
                    id: EventId::from_uuid(id(seed, 3 * n + 2)),
                    event: last,
                },
            ];
            (booking_id, events, paid)
        })
        .collect()
}

/// Produces every event, keyed by booking id (step 03), in batches of up to
/// three events per partition. Some acks are "lost" (the producer sends the
/// batch again), and the broker's disk fails once, after which it crashes and
/// restarts and the producer retries.
fn produce(disk: &SimDisk, events: &[IdentifiedEvent], random: &mut Seeded) {
    let mut log = open_log(disk);
    let mut producer = IdempotentProducer::new();
    let mut pending: HashMap<Partition, Vec<IdentifiedEvent>> = HashMap::new();
    let mut batches = Vec::new();
    for event in events {
        let key = partition_key(&event.event);
        let partition = partition_for(&key, PARTITIONS).expect("3 partitions");
        let waiting = pending.entry(partition).or_default();
        waiting.push(event.clone());
        if waiting.len() == 3 {
            batches.push(producer.batch(partition, std::mem::take(waiting)));
        }
    }
    let mut rest: Vec<_> = pending.into_iter().filter(|(_, e)| !e.is_empty()).collect();
    rest.sort_by_key(|(partition, _)| *partition);
    for (partition, waiting) in rest {
        batches.push(producer.batch(partition, waiting));
    }

    disk.fail_after(random.below(2 * batches.len() as u64));
    let mut acks: Vec<BatchAck> = Vec::new();
    for batch in &batches {
        let partition = partition_of(batch.events.first().expect("batches are not empty"));
        let ack = loop {
            match log.produce(partition, batch) {
                Ok(ack) => break ack,
                Err(ProduceError::Append(_)) => {
                    drop(log);
                    disk.crash();
                    log = open_log(disk);
                }
                Err(other) => panic!("the log refused a retry: {other}"),
            }
        };
        if random.below(3) == 0 {
            // The ack was lost on the way back: the producer retries.
            let retry = log.produce(partition, batch).expect("a retry is accepted");
            assert_eq!(
                (retry.offset, retry.duplicate),
                (ack.offset, true),
                "a retried batch must get its original offset and append nothing"
            );
        }
        acks.push(ack);
    }
    for partition in (0..PARTITIONS).map(Partition) {
        let batches_here = acks.iter().filter(|ack| ack.partition == partition).count();
        assert_eq!(
            log.durable().end(partition).expect("the partition exists"),
            Offset(batches_here as u64),
            "partition {partition} must hold each batch once, whatever was retried"
        );
    }
}

fn partition_of(event: &IdentifiedEvent) -> Partition {
    partition_for(&partition_key(&event.event), PARTITIONS).expect("3 partitions")
}

/// Counts the deliveries that took effect, per event id. It stands for the
/// world outside the consumer, which survives its crashes.
struct Effects {
    db: BookingDb,
    counts: HashMap<EventId, usize>,
}

impl EventHandler for Effects {
    fn handle(&mut self, offset: Offset, event: &IdentifiedEvent) -> Result<Handled, HandleError> {
        let handled = self.db.handle(offset, event)?;
        if let Handled::First(_) = handled {
            *self.counts.entry(event.id).or_default() += 1;
        }
        Ok(handled)
    }
}

fn run(seed: u64) {
    let mut random = Seeded(seed | 1);
    let disk = SimDisk::new(seed);
    let bookings = bookings(seed);
    let events: Vec<_> = bookings
        .iter()
        .flat_map(|(_, events, _)| events.iter().cloned())
        .collect();
    produce(&disk, &events, &mut random);

    let folder = tempfile::tempdir().expect("a folder for the database");
    let db_path = folder.path().join("bookings.sqlite");
    let mut effects = Effects {
        db: open_db(&db_path),
        counts: HashMap::new(),
    };
    let mut crashes = 0;
    for partition in (0..PARTITIONS).map(Partition) {
        let mut restarts = 0;
        loop {
            restarts += 1;
            assert!(restarts < 50, "seed {seed}: the consumer never caught up");
            // A restart: the machine lost power, then the log, the commit
            // store and the database are opened from what the disks kept.
            disk.crash();
            let log = open_log(&disk);
            let mut store = CommitStore::open(disk.clone(), &commit_dir())
                .unwrap_or_else(|e| panic!("the commit store did not open: {e}"));
            effects.db = open_db(&db_path);
            let mut committed = store.load();
            let end = log.durable().end(partition).expect("the partition exists");
            // The first run of each partition always crashes; later ones
            // crash two times in three.
            let crash =
                (end.0 > 0 && (restarts == 1 || random.below(3) != 0)).then(|| CrashPoint {
                    offset: Offset(random.below(end.0)),
                    stage: Stage::ALL[random.below(5) as usize],
                });
            let memory = log.durable().memory();
            let outcome = run_until_crash(&memory, partition, crash, &mut effects, &mut committed)
                .unwrap_or_else(|e| panic!("seed {seed}: the consumer failed: {e} ({e:?})"));
            // The crash hits right after its point, and every commit before it
            // reached the store: write them now, as the commit itself would
            // have. A committed offset below the store's would be refused.
            let resume = committed.resume_at(partition);
            if resume > Offset(0) {
                store
                    .store(partition, resume)
                    .unwrap_or_else(|e| panic!("seed {seed}: the commit was refused: {e}"));
            }
            match outcome {
                RunOutcome::Crashed { .. } => crashes += 1,
                RunOutcome::CaughtUp { .. } => break,
            }
        }
    }
    assert!(
        crashes > 0,
        "seed {seed}: the run should have crashed at least once"
    );

    disk.crash();
    let log = open_log(&disk);
    let store = CommitStore::open(disk.clone(), &commit_dir()).expect("the commit store opens");
    for partition in (0..PARTITIONS).map(Partition) {
        assert_eq!(
            store.committed(partition).unwrap_or(Offset(0)),
            log.durable().end(partition).expect("the partition exists"),
            "seed {seed}: after the last restart the committed offset of partition {partition} \
             must be its log end"
        );
    }
    let db = open_db(&db_path);
    for (booking_id, booking_events, paid) in &bookings {
        for event in booking_events {
            assert_eq!(
                effects.counts.get(&event.id).copied().unwrap_or(0),
                1,
                "seed {seed}: {} of booking {booking_id:?} must take effect exactly once",
                event.event.name()
            );
        }
        let state = db.state(*booking_id).expect("the database answers");
        let right = match state {
            BookingState::Confirmed { .. } => *paid,
            BookingState::Expired { .. } => !paid,
            _ => false,
        };
        assert!(
            right,
            "seed {seed}: booking {booking_id:?} ends {state:?}, but its last event says {}",
            if *paid { "paid" } else { "expired" }
        );
    }
}

#[test]
fn every_booking_takes_effect_once_through_producer_retries_and_consumer_crashes() {
    for seed in 1..=4 {
        run(seed);
    }
}
