//! Step 14: the booking service end to end.
//!
//! Every piece exists already; this step wires them into one service and
//! stops it without losing or doubling anything:
//!
//! - `config.rs`, `error.rs`: what the service is opened with, and why it
//!   stops (given).
//! - `metrics.rs`: counters another thread or process can read while the
//!   service runs: log ends, committed offsets, in-flight records (given).
//! - `handler.rs`: step 11's SQLite handler behind step 12's [`Handler`], with
//!   a span per record and the faults a demo injects (given).
//! - `pipeline.rs`: the [`Pipeline`] that opens every piece in one directory:
//!   intake into step 13's outbox, the relay into step 11's idempotent log
//!   (given).
//! - `route.rs`: the router, which moves each published event to its
//!   partition of the topic and commits after the append
//!   ([`Pipeline::route`]).
//! - `consume.rs`: one round of a partition's consumer, step 12's worker with
//!   step 10's commit after the effect ([`Pipeline::consume`]).
//! - `shutdown.rs`: the graceful shutdown: stop intake, drain, commit, flush,
//!   close ([`Pipeline::shutdown`]).
//!
//! The chapter is `book/src/14-capstone.md`.

// The stubs below do not use their arguments yet. Delete this line when you are done.
#![allow(unused_variables, unused_imports, dead_code)]

mod config;
mod consume;
mod error;
mod handler;
mod metrics;
mod pipeline;
mod route;
mod shutdown;

pub use config::CapstoneConfig;
pub use consume::Round;
pub use error::{OpenFailure, PipelineError};
pub use handler::{BookingHandler, Faults};
pub use metrics::{Metrics, PartitionMetrics};
pub use pipeline::{
    CONSUMER_COMMITS_DIR, CONSUMER_DB, DEAD_LETTERS_DIR, OUTBOX_LOG_DIR,
    Opened, Pipeline, ROUTER_COMMITS_DIR, SERVICE_DB, TOPIC, TOPIC_DIR,
};
pub use route::ROUTE_READ;
pub use shutdown::Closed;

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use solution01_events::{
    BookingEvent, BookingId, BookingState, SeatId, UserId,
};
pub use solution03_partitioning::{partition_for, partition_key};
pub use solution06_log::{Log, Offset, Partition, Record, StoredRecord};
pub use solution10_recovery::{
    CommitStore, Disk, DurableLog, FsyncPolicy, LogConfig, RealDisk, SimDisk,
    segment_file_name,
};
pub use solution11_idempotency::{
    BookingDb, DbConfig, Durability, EventId, IdempotentLog, IdentifiedEvent,
    Outcome, ProducerBatch, decode_identified, encode_identified,
};
pub use solution12_retries::{
    DeadLetterTopic, Handler, HandlerError, ParkLimits, RetryPolicy,
    WorkerConfig,
};
pub use solution13_outbox::{
    OutboxDb, OutboxError, OutboxRow, Pass, RelayError,
};
