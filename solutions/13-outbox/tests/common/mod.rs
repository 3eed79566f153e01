//! Fixtures shared by the test files of step 13.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use solution13_outbox::{
    BookingEvent, BookingId, DbConfig, Durability, FsyncPolicy, IdempotentLog,
    IdentifiedEvent, LogConfig, Offset, OutboxDb, OutboxRow, Partition,
    ProducerBatch, SeatId, SimDisk, UserId,
};

pub const P0: Partition = Partition(0);

pub fn seat(seat: &str) -> SeatId {
    SeatId::parse(seat).expect("the tests use valid seats")
}

/// A `ReservationRequested` for a new booking of `seat`.
pub fn requested(seat_id: &str) -> (BookingId, BookingEvent) {
    let booking_id = BookingId::new();
    let event = BookingEvent::ReservationRequested {
        booking_id,
        seat_id: seat(seat_id),
        user_id: UserId::new(),
    };
    (booking_id, event)
}

pub fn paid(booking_id: BookingId) -> BookingEvent {
    BookingEvent::PaymentReceived { booking_id }
}

/// A folder of its own for one test's database, deleted at the end.
pub struct TestDb {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir =
            tempfile::tempdir().expect("a temporary folder for the database");
        let path = dir.path().join("outbox.sqlite");
        TestDb { _dir: dir, path }
    }

    /// No fsync (the tests crash the process, not the machine), and a short
    /// wait for locks.
    pub fn config() -> DbConfig {
        DbConfig {
            busy_timeout: Duration::from_millis(50),
            durability: Durability::SurvivesProcessCrash,
            read_only: false,
        }
    }

    /// Opens the database, as the service does when it starts (or restarts).
    pub fn open(&self) -> OutboxDb {
        OutboxDb::open(&self.path, TestDb::config()).unwrap_or_else(|e| {
            panic!("opening the outbox database failed: {e} ({e:?})")
        })
    }

    /// A second, plain SQLite connection to the same file, as another process
    /// (or an operator) would have.
    pub fn other_connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path)
            .expect("a second connection to the test database")
    }
}

/// A seat no other call of this test binary got.
pub fn fresh_seat() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let row = u8::try_from(n / 999 % 26).unwrap_or(0);
    format!("{}{}", char::from(b'A' + row), n % 999 + 1)
}

/// How many rows are marked sent, counted with a plain connection: it works
/// when a row does not decode.
pub fn sent_count(test: &TestDb) -> i64 {
    test.other_connection()
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .expect("the outbox can be counted")
}

/// `rows` requests for fresh seats, recorded one by one.
pub fn record_requests(db: &mut OutboxDb, rows: usize) -> Vec<OutboxRow> {
    (0..rows)
        .map(|_| {
            let (_, event) = requested(&fresh_seat());
            db.record(&event).unwrap_or_else(|e| {
                panic!("recording a request failed: {e} ({e:?})")
            })
        })
        .collect()
}

/// Every row of the outbox, whether sent or not.
pub fn rows(db: &OutboxDb) -> Vec<(OutboxRow, bool)> {
    db.rows()
        .unwrap_or_else(|e| panic!("reading the outbox failed: {e} ({e:?})"))
}

pub fn log_dir() -> &'static Path {
    Path::new("/workshop/log")
}

/// Step 11's idempotent log on step 10's simulated disk, opened (or opened
/// again after a crash) from `disk`.
pub fn open_log(disk: &SimDisk) -> IdempotentLog<SimDisk> {
    open_log_with_partitions(disk, 1)
}

/// As [`open_log`], with `partition_count` partitions.
pub fn open_log_with_partitions(
    disk: &SimDisk,
    partition_count: u32,
) -> IdempotentLog<SimDisk> {
    let config = LogConfig {
        partition_count,
        segment_bytes: 1 << 20,
        fsync: FsyncPolicy::EveryRecord,
    };
    match IdempotentLog::open(disk.clone(), log_dir(), config) {
        Ok((log, _report)) => log,
        Err(e) => panic!("opening the log failed: {e} ({e:?})"),
    }
}

/// The batches in partition 0 of the log, in order.
pub fn batches(log: &IdempotentLog<SimDisk>) -> Vec<ProducerBatch> {
    batches_in(log, P0)
}

/// The batches in `partition` of the log, in order.
pub fn batches_in(
    log: &IdempotentLog<SimDisk>,
    partition: Partition,
) -> Vec<ProducerBatch> {
    let records = log
        .durable()
        .read(partition, Offset(0), usize::MAX)
        .unwrap_or_else(|e| panic!("reading the log failed: {e} ({e:?})"));
    records
        .iter()
        .map(|record| {
            ProducerBatch::decode(&record.record.value)
                .expect("every record of the log is a producer batch")
        })
        .collect()
}

/// Every event in the log, in order, duplicates included.
pub fn published(log: &IdempotentLog<SimDisk>) -> Vec<IdentifiedEvent> {
    batches(log)
        .into_iter()
        .flat_map(|batch| batch.events)
        .collect()
}

/// A small seeded random source (xorshift64*): the same seed gives the same
/// run, so a failing seed can be run again.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }
}
