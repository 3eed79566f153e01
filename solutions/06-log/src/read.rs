//! Reading the log: from any offset, as often as you like, with the same
//! answer.

use solution03_partitioning::Partition;

use crate::log::Log;
use crate::offset::{LogError, Offset, StoredRecord};

impl Log {
    // ANCHOR: read
    /// Up to `max` records of `partition`, starting at offset `from`, in offset
    /// order.
    ///
    /// Reading changes nothing: the same call gives the same records every
    /// time, whoever else reads, because records are only ever added at the
    /// end. That is what lets a consumer replay history from an old offset.
    ///
    /// `from` at or past the end gives an empty `Vec`, not an error: a consumer
    /// that has read everything asks again from the high watermark and simply
    /// gets nothing until the next append.
    pub fn read(
        &self,
        partition: Partition,
        from: Offset,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError> {
        // exercise: solution
        let state = self.lock(partition)?;
        let end = state.records.len();
        // Clamp both ends to what exists. `from.0 as usize + max` could
        // overflow (a caller may well pass `usize::MAX` for "everything"), and
        // slicing past the end panics.
        let start = usize::try_from(from.0).map_or(end, |from| from.min(end));
        let stop = start.saturating_add(max).min(end);
        let records = state.records[start..stop]
            .iter()
            // The offset is the position in the partition, not in this slice:
            // the first record returned is at `from`, not at 0.
            .zip(from.0..)
            .map(|(record, offset)| StoredRecord {
                partition,
                offset: Offset(offset),
                // A `Record` holds `Bytes`: cloning it shares the buffers, so a
                // reader gets its own copy without copying the payload.
                record: record.clone(),
            })
            .collect();
        Ok(records)
        // exercise: stub
        // todo!("read up to `max` records from `from` (chapter 06)")
        // exercise: end
    }
    // ANCHOR_END: read
}
