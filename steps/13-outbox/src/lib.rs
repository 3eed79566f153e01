//! Step 13: the transactional outbox.
//!
//! A service that writes its database and then publishes an event does two
//! writes to two systems, and a crash between them leaves one without the
//! other. This step writes the event into the database, in the same
//! transaction as the state change, and publishes it from there:
//!
//! - `outbox.rs`: the booking database with its outbox table, and the one
//!   transaction that changes a booking and queues its event ([`OutboxDb`]).
//! - `pending.rs`: reading the unsent rows in order and marking them sent.
//! - `relay.rs`: the relay, which publishes the unsent rows through step 11's
//!   idempotent producer into step 10's durable log ([`Relay`]).
//!
//! The chapter is `book/src/13-outbox.md`.

// The stubs below do not use their arguments yet. Delete this line when you are done.
#![allow(unused_variables, unused_imports, dead_code)]

mod outbox;
mod pending;
mod relay;

pub use outbox::{OutboxDb, OutboxError, OutboxRow, Position};
pub use pending::MarkMode;
pub use relay::{Pass, Relay, RelayConfig, RelayCrash, RelayError};

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use solution01_events::{
    BookingEvent, BookingId, BookingState, Rejected, SeatId, UserId,
};
pub use solution06_log::{Log, Offset, Partition, Record};
pub use solution10_recovery::{
    Disk, FsyncPolicy, LogConfig, RealDisk, SimDisk,
};
pub use solution11_idempotency::{
    BatchError, BookingDb, DbConfig, Durability, EventId, EventIdError,
    Handled, IdempotentLog, IdempotentProducer, IdentifiedEvent, ProduceError,
    ProducerBatch, decode_identified, encode_identified,
};
