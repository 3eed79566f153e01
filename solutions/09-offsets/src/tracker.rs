//! The consumer's side of committing: which offsets of a partition are being
//! handled, and the watermark below which all of them are finished.

use std::collections::BTreeSet;

use solution06_log::Offset;

// ANCHOR: tracker
/// Tracks the records of one partition from the moment the consumer hands them
/// out until their handlers finish, and computes the offset that may be
/// committed.
///
/// The committed offset is a watermark: every record below it is finished, and
/// it is the offset of the next record to read after a restart (Kafka's
/// convention: last processed + 1). Handlers that run concurrently finish out
/// of order, so a record that finished is not enough to move it: the watermark
/// stops at the lowest record still in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitTracker {
    /// The watermark: every offset below it has finished. Only ever grows.
    committed: Offset,
    /// The offset the next record handed out must have: one past the last
    /// received. Records of a partition arrive in offset order, without gaps.
    next_to_receive: Offset,
    /// Offsets received and not finished yet, lowest first. A `BTreeSet`, not a
    /// `HashSet`, because the question asked most is "which is the lowest?".
    in_flight: BTreeSet<Offset>,
}
// ANCHOR_END: tracker

// ANCHOR: track_error
/// A record reported to the tracker in a way that would corrupt the watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrackError {
    /// A received offset that is not the next one: a repeat (it would be
    /// tracked twice) or a gap (the records in between would be committed
    /// unhandled).
    #[error(
        "received offset {offset}, but the next record of this partition is at offset {expected}: \
         records must be received once each, in offset order; to re-read a partition, start a \
         new tracker at its committed offset"
    )]
    OutOfOrder { offset: Offset, expected: Offset },
    /// A finished offset that is not in flight: it finished already, or it was
    /// never received. Counting it would move the watermark over records nobody
    /// handled, or back over records that were committed.
    #[error(
        "offset {offset} finished, but it is not in flight: it was never received or it has \
         already finished; report each received record as finished exactly once"
    )]
    NotInFlight { offset: Offset },
}
// ANCHOR_END: track_error

impl CommitTracker {
    /// A tracker for a partition whose committed offset is `committed`: the
    /// consumer reads (and hands to the tracker) from there on.
    pub fn new(committed: Offset) -> CommitTracker {
        CommitTracker {
            committed,
            next_to_receive: committed,
            in_flight: BTreeSet::new(),
        }
    }

    // ANCHOR: received
    /// The consumer handed out the record at `offset`: it is now in flight.
    ///
    /// Refuses any offset but the next one to receive
    /// ([`TrackError::OutOfOrder`]), and then changes nothing.
    pub fn received(&mut self, offset: Offset) -> Result<(), TrackError> {
        // exercise: solution
        if offset != self.next_to_receive {
            return Err(TrackError::OutOfOrder {
                offset,
                expected: self.next_to_receive,
            });
        }
        self.in_flight.insert(offset);
        self.next_to_receive = offset.next();
        Ok(())
        // exercise: stub
        // todo!("accept only the next offset, in flight (chapter 09)")
        // exercise: end
    }
    // ANCHOR_END: received

    // ANCHOR: finished
    /// The handler of the record at `offset` is done with it. Returns the new
    /// committed offset if the watermark moved, `None` if it did not (a record
    /// below this one is still in flight).
    pub fn finished(
        &mut self,
        offset: Offset,
    ) -> Result<Option<Offset>, TrackError> {
        // exercise: solution
        if !self.in_flight.remove(&offset) {
            return Err(TrackError::NotInFlight { offset });
        }
        // Everything below the lowest offset still in flight has finished; with
        // nothing in flight, everything received has. Not `offset.next()`: that
        // is the highest finished offset, and records below it may still be
        // running.
        let watermark = self
            .in_flight
            .first()
            .copied()
            .unwrap_or(self.next_to_receive);
        if watermark > self.committed {
            self.committed = watermark;
            Ok(Some(watermark))
        } else {
            Ok(None)
        }
        // exercise: stub
        // todo!("finish the offset, move the watermark (chapter 09)")
        // exercise: end
    }
    // ANCHOR_END: finished

    // ANCHOR: committed
    /// The offset to commit: every record below it is finished, and a consumer
    /// restarted from here reads the first record that is not.
    pub fn committed(&self) -> Offset {
        self.committed
    }
    // ANCHOR_END: committed

    /// The offsets received and not finished yet, lowest first.
    pub fn in_flight(&self) -> Vec<Offset> {
        self.in_flight.iter().copied().collect()
    }

    // ANCHOR: lag
    /// How many records of the partition are not finished-and-committed:
    /// `log_end` (the partition's high watermark) minus the committed offset.
    ///
    /// Records in flight count as lag: they are not done, and a crash now would
    /// read them again. A `log_end` below the committed offset (a log that was
    /// truncated, or a stale `log_end`) gives 0, not an overflow.
    pub fn lag(&self, log_end: Offset) -> u64 {
        // exercise: solution
        log_end.0.saturating_sub(self.committed.0)
        // exercise: stub
        // todo!("count the records not committed yet (chapter 09)")
        // exercise: end
    }
    // ANCHOR_END: lag
}
