//! One partition's reader: where it is, and the records it has fetched but not
//! handed out yet.

use std::collections::VecDeque;

use solution02_protobuf::decode;
use solution06_log::{Log, Offset, Partition, StoredRecord};

use crate::record::{ConsumeError, ConsumedRecord};

// ANCHOR: reader
/// Reads one partition of the log, in offset order, a batch at a time.
///
/// Fetching a batch takes the partition's lock once for up to `batch_size`
/// records, instead of once per record; handing them out one by one from
/// `buffer` takes no lock at all. Kafka's consumer works the same way: `fetch`
/// requests bring back batches (`max.partition.fetch.bytes`), and `poll` hands
/// out records from what was fetched.
#[derive(Debug)]
pub struct PartitionReader {
    partition: Partition,
    /// The offset of the next record this reader hands out: one past the last
    /// record it handed out, decoded or not.
    ///
    /// Not the end of the last batch fetched. Records in `buffer` have been
    /// read from the log but not handed out: a consumer that stopped now, and
    /// resumed from the end of the batch, would skip them.
    position: Offset,
    /// Records fetched from the log and not handed out yet, in offset order.
    /// The first one, if any, is at `position`.
    buffer: VecDeque<StoredRecord>,
    /// How many records one fetch asks the log for, at most.
    batch_size: usize,
}
// ANCHOR_END: reader

impl PartitionReader {
    /// A reader of `partition` whose first record will be the one at `start`.
    ///
    /// A `batch_size` of 0 would fetch nothing, ever; it is taken as 1.
    pub fn new(
        partition: Partition,
        start: Offset,
        batch_size: usize,
    ) -> PartitionReader {
        PartitionReader {
            partition,
            position: start,
            buffer: VecDeque::new(),
            batch_size: batch_size.max(1),
        }
    }

    /// The partition this reader reads.
    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// The offset of the next record this reader will hand out. Everything
    /// below it has been handed out; this is what a consumer commits (step 09)
    /// once it has handled those records.
    pub fn position(&self) -> Offset {
        self.position
    }

    // ANCHOR: next_item
    /// The partition's next record, decoded, or `None` when the reader has
    /// handed out everything the partition holds ("caught up", until the next
    /// append).
    ///
    /// When nothing fetched is left, it first fetches up to `batch_size`
    /// records from `position`. A read the log refuses comes out as
    /// [`ConsumeError::Log`].
    ///
    /// A record that does not decode comes out as [`ConsumeError::Decode`] with
    /// its offset, and the reader moves past it like past any other record: the
    /// next call returns the record after it.
    pub fn next_item(
        &mut self,
        log: &Log,
    ) -> Option<Result<ConsumedRecord, ConsumeError>> {
        todo!("hand out the next record, fetching if needed (chapter 08)")
    }
    // ANCHOR_END: next_item
}
