//! Step 11: exactly-once effects from at-least-once delivery.
//!
//! Step 09 commits after the effect, so a crash between the two delivers a
//! record again. This step makes the second delivery harmless, on both sides of
//! the log:
//!
//! - `event_id.rs`: every event carries an id its producer gave it, on the wire
//!   ([`EventId`], [`IdentifiedEvent`]).
//! - `handler.rs`: the booking handler on SQLite, which stores the effect and
//!   the event id in one transaction ([`BookingDb`]).
//! - `pipeline.rs`: teaching support, a consumer that crashes where it is told
//!   to, with the crash points of step 09 ([`run_until_crash`]).
//! - `batch.rs`: what a producer writes into the log, a batch of events with
//!   its producer id and sequence number ([`ProducerBatch`]).
//! - `sequence.rs`: the log's memory of each producer, which turns a retried
//!   batch into its original offset ([`ProducerTable`]).
//! - `producer_log.rs`: step 10's durable log behind that memory, rebuilt
//!   from the log after a restart ([`IdempotentLog`], [`rebuild`]).
//!
//! The chapter is `book/src/11-idempotency.md`.

// exercise: solution
// exercise: stub
// // The stubs below do not use their arguments yet. Delete this line when you are done.
// #![allow(unused_variables, unused_imports, dead_code)]
// exercise: end

mod batch;
mod event_id;
mod handler;
mod pipeline;
mod producer_log;
mod sequence;

pub use batch::{
    BatchError, BatchHeader, IdempotentProducer, ProducerBatch, ProducerId,
    Sequence,
};
pub use event_id::{
    EventId, EventIdError, IdentifiedEvent, decode_identified,
    encode_identified,
};
pub use handler::{
    BookingDb, DbConfig, Durability, EventHandler, HandleError, Handled,
    Outcome, Snapshot,
};
pub use pipeline::{PipelineError, run_until_crash};
pub use producer_log::{
    BatchAck, IdempotentLog, OpenError, ProduceError, REBUILD_READ, rebuild,
};
pub use sequence::{
    Admission, BatchInLog, ProducerTable, REMEMBERED_BATCHES, SequenceError,
};

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use solution01_events::{
    BookingEvent, BookingId, BookingState, Rejected, SeatId, UserId,
};
pub use solution02_protobuf::WireError;
pub use solution06_log::{Log, LogError, Offset, Partition, Record};
pub use solution09_offsets::{CommittedOffsets, CrashPoint, RunOutcome, Stage};
pub use solution10_recovery::{
    CommitStore, Disk, DurableLog, FsyncPolicy, LogConfig, RealDisk, SimDisk,
};
