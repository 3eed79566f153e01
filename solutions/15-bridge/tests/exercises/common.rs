//! Fixtures shared by the test modules of step 15: a real server per test, a
//! booking database per test, events, and handlers that note every call.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution15_bridge::{
    BookingEvent, BookingId, BusConfig, EventId, Handler, HandlerError,
    IdentifiedEvent, Offset, RetryPolicy, SeatId, UserId,
};

pub use solution15_bridge::harness::*;

pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// Step 12's kind of policy, with delays short enough for a test.
pub fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(50),
        cap: Duration::from_millis(400),
    }
}

/// One partition, short retries, AckWait long enough that it never fires by
/// itself in a test that does not wait for it.
pub fn config(max_attempts: u32) -> BusConfig {
    BusConfig {
        partitions: NonZeroU32::MIN,
        retry: policy(max_attempts),
        ..BusConfig::new()
    }
}

pub fn seat(seat: &str) -> SeatId {
    SeatId::parse(seat).expect("the tests use valid seats")
}

/// A seat no other call of this test binary got.
pub fn fresh_seat() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let row = u8::try_from(n / 999 % 26).unwrap_or(0);
    format!("{}{}", char::from(b'A' + row), n % 999 + 1)
}

/// A `ReservationRequested` for a new booking of `seat`, with its id.
pub fn requested(seat_id: &str) -> (BookingId, IdentifiedEvent) {
    let booking_id = BookingId::new();
    let event = BookingEvent::ReservationRequested {
        booking_id,
        seat_id: seat(seat_id),
        user_id: UserId::new(),
    };
    (booking_id, IdentifiedEvent::new(event))
}

pub fn paid(booking_id: BookingId) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::PaymentReceived { booking_id })
}

/// Step 11's booking database in a folder of its own.
pub struct TestDb {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("bookings.sqlite");
        TestDb { _dir: dir, path }
    }
}

/// A handler that fails its first `failures` calls with `error`, then
/// succeeds, and notes when each call came and the offset it was given.
pub struct Scripted {
    pub error: HandlerError,
    pub failures: usize,
    pub calls: Vec<(EventId, Instant)>,
    pub offsets: Vec<u64>,
}

impl Scripted {
    pub fn failing(error: HandlerError, failures: usize) -> Scripted {
        Scripted {
            error,
            failures,
            calls: Vec::new(),
            offsets: Vec::new(),
        }
    }
}

impl Handler for Scripted {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        self.calls.push((event.id, Instant::now()));
        self.offsets.push(offset.0);
        if self.calls.len() <= self.failures {
            return Err(self.error.clone());
        }
        Ok(())
    }
}

/// The reason text of [`transient`]'s error.
pub const TRANSIENT_REASON: &str = "the database is busy (a test)";

pub fn transient() -> HandlerError {
    HandlerError::Transient {
        reason: TRANSIENT_REASON.to_owned(),
    }
}

/// The reason text of [`permanent`]'s error.
pub const PERMANENT_REASON: &str = "a seat that does not exist (a test)";

pub fn permanent() -> HandlerError {
    HandlerError::Permanent {
        reason: PERMANENT_REASON.to_owned(),
    }
}
