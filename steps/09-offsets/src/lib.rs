//! Step 09: committed offsets, and when to commit them.
//!
//! - `stage.rs`: the stages of handling one record, forward only ([`Stage`]).
//! - `tracker.rs`: which offsets are in flight, and the watermark that may be
//!   committed ([`CommitTracker`]); consumer lag.
//! - `committed.rs`: the committed offset of each partition, which never goes
//!   back ([`CommittedOffsets`]).
//! - `pipeline.rs`: teaching support, a consumer that crashes where it is told
//!   to, to show what committing before or after the effect does
//!   ([`run_until_crash`]).
//!
//! The chapter is `book/src/09-offsets.md`.

// The stubs below do not use their arguments yet. Delete this line when you are done.
#![allow(unused_variables, unused_imports, dead_code)]

mod committed;
mod pipeline;
mod stage;
mod tracker;

pub use committed::{CommitError, CommittedOffsets};
pub use pipeline::{
    Attempt, BookingStore, CommitPolicy, CrashPoint, PipelineError, RunOutcome,
    Service, run_until_crash,
};
pub use stage::{Stage, StageError};
pub use tracker::{CommitTracker, TrackError};

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use solution01_events::{
    BookingEvent, BookingId, BookingState, Rejected, SeatId, UserId,
};
pub use solution02_protobuf::{WireError, encode};
pub use solution06_log::{Log, LogError, Offset, Partition, Record};
