//! Step 06: the broker's log. Each partition is an append-only list of records,
//! and a record's offset is its position in that list.
//!
//! - `offset.rs`: [`Offset`], [`StoredRecord`] and [`LogError`] (given).
//! - `log.rs`: [`Log`] itself: creating it, appending, the high watermark.
//! - `read.rs`: reading from an offset, the same records every time.
//! - `wake.rs`: readers that wait for the next append, and the [`WaiterId`]
//!   that names each of them.
//!
//! The log lives in memory in this step; step 10 puts it on disk. Steps 07 to
//! 09 build on this crate's public API: a future that waits for an offset (07),
//! the consumer as a stream (08) and committed offsets (09).
//!
//! The chapter is `book/src/06-log.md`.

// The stubs below do not use their arguments, or the imports they will need, yet.
// Delete this `allow` when you are done.
#![allow(unused_variables, unused_imports, dead_code)]

mod log;
mod offset;
mod read;
mod wake;

pub use log::Log;
pub use offset::{LogError, Offset, StoredRecord};
pub use wake::WaiterId;

// Re-exported so that users of the log (and its tests) name the same types the
// log stores, without depending on step 03 themselves.
pub use solution03_partitioning::{Partition, Record};
