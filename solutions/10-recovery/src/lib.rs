//! Step 10: the log on disk. Records are framed with a length and a CRC-32C,
//! appended to segment files, fsynced as a policy says, and recovered after a
//! crash; committed offsets are stored durably; history is replayed.
//!
//! - `disk.rs`: the [`Disk`] the log writes to, and [`RealDisk`] (given).
//! - `sim.rs`: [`SimDisk`], a disk that loses what a power cut may lose
//!   (given).
//! - `frame.rs`: one record on disk ([`encode_frame`], [`decode_frame`]).
//! - `append.rs`: segment names, rolling, and the fsync policy.
//! - `recover.rs`: recovery on open ([`scan_segment`]).
//! - `commit.rs`: committed offsets replaced atomically ([`CommitStore`]).
//! - `replay.rs`: replay from an offset, and the bookings rebuilt from the
//!   log ([`rebuild_bookings`]).
//! - `log.rs`, `config.rs`, `error.rs`: the [`DurableLog`] that ties them
//!   together, its configuration and its errors (given).
//!
//! The chapter is `book/src/10-recovery.md`.

// exercise: solution
// exercise: stub
// // The stubs below do not use their arguments, or the imports they will need, yet.
// // Delete this `allow` when you are done.
// #![allow(unused_variables, unused_imports, unused_mut, dead_code)]
// // A stub that does not write to `out` yet looks to clippy like it needs no Vec.
// #![allow(clippy::ptr_arg)]
// exercise: end

mod append;
mod commit;
mod config;
mod disk;
mod error;
mod frame;
mod log;
mod recover;
mod replay;
mod sim;

pub use append::{parse_segment_file_name, segment_file_name};
pub use commit::{
    COMMIT_FILE, COMMIT_TEMP_FILE, CommitStore, CommitStoreError,
    decode_commits, encode_commits,
};
pub use config::{FsyncPolicy, LogConfig};
pub use disk::{Disk, DiskFile, RealDisk};
pub use error::{AppendError, RecoveryError};
pub use frame::{
    Defect, Frame, HEADER_LEN, MAX_BODY_LEN, MIN_BODY_LEN, RecordTooLarge,
    decode_frame, encode_frame,
};
pub use log::{Ack, DurableLog};
pub use recover::{
    PartitionRecovery, RecoveryReport, SegmentScan, TornTail, next_whole_frame,
    scan_segment,
};
pub use replay::{ReplayError, rebuild_bookings};
pub use sim::{SimDisk, SimFileHandle};

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use solution01_events::{
    BookingEvent, BookingId, BookingState, SeatId, UserId,
};
pub use solution02_protobuf::{decode, encode};
pub use solution06_log::{
    Log, LogError, Offset, Partition, Record, StoredRecord,
};
pub use solution09_offsets::CommittedOffsets;
