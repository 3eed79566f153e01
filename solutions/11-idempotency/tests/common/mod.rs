//! Fixtures shared by the test files of step 11.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use solution11_idempotency::{
    BookingDb, BookingEvent, BookingId, DbConfig, Durability, IdentifiedEvent,
    ProducerBatch, ProducerId, Record, SeatId, Sequence, UserId,
};

pub fn seat(seat: &str) -> SeatId {
    SeatId::parse(seat).expect("the tests use valid seats")
}

/// A `ReservationRequested` for a new booking of `seat`, with a fresh event id.
pub fn requested(seat_id: &str) -> (BookingId, IdentifiedEvent) {
    let booking_id = BookingId::new();
    let event = IdentifiedEvent::new(BookingEvent::ReservationRequested {
        booking_id,
        seat_id: seat(seat_id),
        user_id: UserId::new(),
    });
    (booking_id, event)
}

pub fn paid(booking_id: BookingId) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::PaymentReceived { booking_id })
}

pub fn expired(booking_id: BookingId) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::ReservationExpired { booking_id })
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
        let path = dir.path().join("bookings.sqlite");
        TestDb { _dir: dir, path }
    }

    /// What the tests open: no fsync (they crash the process, not the
    /// machine), and a short wait for locks.
    pub fn config() -> DbConfig {
        DbConfig {
            busy_timeout: Duration::from_millis(50),
            durability: Durability::SurvivesProcessCrash,
            read_only: false,
        }
    }

    /// Opens the database, as the service does when it starts (or restarts).
    pub fn open(&self) -> BookingDb {
        BookingDb::open(&self.path, TestDb::config()).unwrap_or_else(|e| {
            panic!("opening the booking database failed: {e} ({e:?})")
        })
    }

    /// A second, plain SQLite connection to the same file, as another process
    /// would have.
    pub fn other_connection(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path)
            .expect("a second connection to the test database")
    }
}

/// The record an idempotent producer writes for `events`.
pub fn batch_record(
    producer: u64,
    first_sequence: u64,
    events: &[&IdentifiedEvent],
) -> Record {
    let batch = ProducerBatch {
        producer_id: ProducerId(producer),
        first_sequence: Sequence(first_sequence),
        events: events.iter().map(|&event| event.clone()).collect(),
    };
    Record::new("bookings", batch.encode())
}
