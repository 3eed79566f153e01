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
        todo!("read up to `max` records from `from` (chapter 06)")
    }
    // ANCHOR_END: read
}
