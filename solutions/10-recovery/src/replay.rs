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
        // exercise: solution
        // The committed offset is the next record to read: `from` itself is
        // replayed, not skipped.
        self.read(partition, from, usize::MAX)
        // exercise: stub
        // todo!("every record from offset `from` on (chapter 10)")
        // exercise: end
    }
    // ANCHOR_END: replay_from
}

// ANCHOR: rebuild_bookings
/// The state of every booking, rebuilt from the whole log: each partition
/// replayed from offset 0, each event applied with step 01's `apply`.
///
/// An event `apply` refuses is skipped, and the replay goes on with the next
/// one: it changed nothing when it was first handled, and `apply` gives the
/// same answer every time, so it changes nothing now. A booking whose events
/// are all refused (a payment for a booking never requested) has no entry in
/// the map: nothing ever happened to it.
pub fn rebuild_bookings<D: Disk>(
    log: &DurableLog<D>,
) -> Result<HashMap<BookingId, BookingState>, ReplayError> {
    // exercise: solution
    let mut bookings: HashMap<BookingId, BookingState> = HashMap::new();
    for partition in (0..log.config().partition_count).map(Partition) {
        // A booking's events share a key, so a partition, so they come in
        // the order they were appended.
        for stored in log.replay_from(partition, Offset(0))? {
            let event = decode(&stored.record.value).map_err(|source| {
                ReplayError::Decode {
                    partition,
                    offset: stored.offset,
                    source,
                }
            })?;
            let booking_id = event.booking_id();
            let state = bookings
                .get(&booking_id)
                .cloned()
                .unwrap_or(BookingState::Empty);
            if let Ok(next) = apply(&state, &event) {
                bookings.insert(booking_id, next);
            }
        }
    }
    Ok(bookings)
    // exercise: stub
    // todo!(
    //     "fold every partition's events with apply, from offset 0 (chapter 10)"
    // )
    // exercise: end
}
// ANCHOR_END: rebuild_bookings
