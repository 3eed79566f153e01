//! Fixtures shared by the exercises' tests: events, a retry policy, and a
//! handler that notes every call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution16_kafka::{
    BookingEvent, BookingId, EventId, Handler, HandlerError, IdentifiedEvent,
    Offset, RetryPolicy, SeatId, UserId,
};

pub use solution16_kafka::harness::*;

pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// Step 12's kind of policy, with delays short enough for a test.
pub fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(100),
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

/// A `ReservationRequested` for a new booking of a fresh seat, with its id.
pub fn requested() -> (BookingId, IdentifiedEvent) {
    let booking_id = BookingId::new();
    let event = BookingEvent::ReservationRequested {
        booking_id,
        seat_id: seat(&fresh_seat()),
        user_id: UserId::new(),
    };
    (booking_id, IdentifiedEvent::new(event))
}

/// A handler that fails its first `failures` calls with `error`, then
/// succeeds, and notes when each call came and the offset it was given.
/// `on_call` runs at the start of every call: a test looks at the world
/// from inside the handler with it.
pub struct Scripted {
    pub error: HandlerError,
    pub failures: usize,
    pub calls: Vec<(EventId, Instant)>,
    pub offsets: Vec<u64>,
    pub on_call: Option<Box<dyn FnMut()>>,
}

impl Scripted {
    pub fn failing(error: HandlerError, failures: usize) -> Scripted {
        Scripted {
            error,
            failures,
            calls: Vec::new(),
            offsets: Vec::new(),
            on_call: None,
        }
    }

    pub fn succeeding() -> Scripted {
        Scripted::failing(transient(), 0)
    }
}

impl Handler for Scripted {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        if let Some(on_call) = self.on_call.as_mut() {
            on_call();
        }
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
