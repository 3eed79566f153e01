//! Step 12: what to retry, what to give up on, and how to keep each booking's
//! order while retrying.
//!
//! - `policy.rs`: transient and permanent failures ([`HandlerError`],
//!   [`classify`]), and bounded retries with exponential backoff and full
//!   jitter ([`RetryPolicy`]).
//! - `handler.rs`: the [`Handler`] a worker calls, implemented by step 11's
//!   SQLite handler (given).
//! - `worker.rs`: the consumer of a partition that retries an event without
//!   letting a later event of its booking overtake it ([`run_partition`]).
//! - `park.rs`: events that came before their booking's request, set aside
//!   within bounds ([`Park`]).
//! - `expiry.rs`: holds not paid in time turn into `ReservationExpired`
//!   events ([`HoldTimers`]).
//! - `dead_letter.rs`: the dead-letter topic on step 10's durable log, and the
//!   replay after a fix ([`DeadLetterTopic`], [`replay`]).
//!
//! The chapter is `book/src/12-retries.md`.

// The stubs below do not use their arguments, or the imports they will need, yet.
// Delete this `allow` when you are done.
#![allow(unused_variables, unused_imports, unused_mut, dead_code)]

mod dead_letter;
mod expiry;
mod handler;
mod park;
mod policy;
mod worker;

pub use dead_letter::{
    DeadLetter, DeadLetterError, DeadLetterTopic, DecodeError, Replayed, replay,
};
pub use expiry::HoldTimers;
pub use handler::Handler;
pub use park::{Park, ParkFull, ParkLimits, Parked};
pub use policy::{HandlerError, Next, RetryPolicy, classify};
pub use worker::{Report, WorkerConfig, WorkerError, run_partition};

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use solution01_events::{
    BookingEvent, BookingId, BookingState, Rejected, SeatId, UserId, apply,
};
pub use solution06_log::{
    Log, LogError, Offset, Partition, Record, StoredRecord,
};
pub use solution10_recovery::{
    Disk, DurableLog, FsyncPolicy, LogConfig, RealDisk, SimDisk,
};
pub use solution11_idempotency::{
    BookingDb, DbConfig, Durability, EventId, HandleError, IdentifiedEvent,
    Outcome, encode_identified,
};
