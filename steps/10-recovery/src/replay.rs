//! Replay: reading history again, from a committed offset or from the start,
//! and rebuilding the bookings from it (event sourcing).

use std::collections::HashMap;

use solution01_events::{BookingId, BookingState, apply};
use solution02_protobuf::{WireError, decode};
use solution06_log::{LogError, Offset, Partition, StoredRecord};

use crate::disk::Disk;
use crate::log::DurableLog;

// ANCHOR: replay_error
/// Why history could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read the log")]
    Log(#[from] LogError),
    /// A record that is not a booking event: replay stops there rather than
    /// build states that skipped it.
    #[error(
        "the record at offset {offset} of partition {partition} is not a booking event; fix or skip it deliberately, then replay again"
    )]
    Decode {
        partition: Partition,
        offset: Offset,
        #[source]
        source: WireError,
    },
}
// ANCHOR_END: replay_error

impl<D: Disk> DurableLog<D> {
    // ANCHOR: replay_from
    /// Every record of `partition` from offset `from` on, in offset order:
    /// what a consumer that restarts at its committed offset `from` handles
    /// again.
    pub fn replay_from(
        &self,
        partition: Partition,
        from: Offset,
    ) -> Result<Vec<StoredRecord>, LogError> {
        todo!("every record from offset `from` on (chapter 10)")
    }
    // ANCHOR_END: replay_from
}

// ANCHOR: rebuild_bookings
/// The state of every booking, rebuilt from the whole log: each partition
/// replayed from offset 0, each event applied with step 01's `apply`.
///
/// An event `apply` refuses is skipped: it changed nothing when it was first
/// handled, and `apply` gives the same answer every time, so it changes
/// nothing now.
pub fn rebuild_bookings<D: Disk>(
    log: &DurableLog<D>,
) -> Result<HashMap<BookingId, BookingState>, ReplayError> {
    todo!(
        "fold every partition's events with apply, from offset 0 (chapter 10)"
    )
}
// ANCHOR_END: rebuild_bookings
