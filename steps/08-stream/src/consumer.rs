//! The consumer: one reader per assigned partition, taking turns.

use std::collections::HashSet;
use std::sync::Arc;

use solution06_log::{Log, Offset, Partition, WaiterId};

use crate::reader::PartitionReader;
use crate::record::{AssignmentError, ConsumeError, ConsumedRecord};
use crate::stop::{StopHandle, StopSignal};

// ANCHOR: consumer
/// Reads booking events from the partitions assigned to it, as a
/// [`Stream`](futures::Stream) (in `stream.rs`):
///
/// ```ignore
/// while let Some(item) = consumer.next().await {
///     match item {
///         Ok(record) => handle(record),
///         Err(error) => set_aside(error),
///     }
/// }
/// ```
///
/// Records of one partition come in offset order; partitions take turns, one
/// record each, so a busy partition cannot starve a quiet one. When every
/// partition is caught up the stream waits (it does not end) until a record is
/// appended or the consumer is asked to stop.
#[derive(Debug)]
pub struct Consumer {
    /// The log the readers fetch from and the wakers are left with.
    pub(crate) log: Arc<Log>,
    /// One reader per assigned partition, in the order they were assigned.
    pub(crate) readers: Vec<PartitionReader>,
    /// The index in `readers` of the reader whose turn is next.
    pub(crate) turn: usize,
    /// The name under which this consumer leaves its waker with each of its
    /// partitions. One id for all of them: the log keeps wakers per partition,
    /// so the same id on two partitions is two registrations, each replaced by
    /// the next poll and removed by `Drop`.
    pub(crate) waiter: WaiterId,
    /// Shared with every [`StopHandle`] of this consumer: the flag they set,
    /// and the waker they wake.
    pub(crate) stop: Arc<StopSignal>,
}
// ANCHOR_END: consumer

impl Consumer {
    /// How many records a reader fetches from the log at once, unless told
    /// otherwise ([`Consumer::with_batch_size`]). Enough to make the lock cheap
    /// per record (see the chapter's benchmark), small enough that a consumer
    /// asked to stop has little fetched and unused.
    pub const DEFAULT_BATCH_SIZE: usize = 64;

    /// A consumer of `log` that reads each assigned partition from the offset
    /// given with it: the offset of the first record to hand out (a committed
    /// offset, in step 09, or `Offset(0)` to read from the beginning).
    pub fn new(
        log: Arc<Log>,
        assignments: Vec<(Partition, Offset)>,
    ) -> Result<Consumer, AssignmentError> {
        Consumer::with_batch_size(
            log,
            assignments,
            Consumer::DEFAULT_BATCH_SIZE,
        )
    }

    /// Like [`Consumer::new`], fetching up to `batch_size` records per read of
    /// the log (at least 1).
    pub fn with_batch_size(
        log: Arc<Log>,
        assignments: Vec<(Partition, Offset)>,
        batch_size: usize,
    ) -> Result<Consumer, AssignmentError> {
        let mut seen = HashSet::new();
        let mut readers = Vec::with_capacity(assignments.len());
        for (partition, start) in assignments {
            let high_watermark =
                log.high_watermark(partition).map_err(|source| {
                    AssignmentError::UnknownPartition { partition, source }
                })?;
            if !seen.insert(partition) {
                return Err(AssignmentError::DuplicatePartition { partition });
            }
            if start > high_watermark {
                return Err(AssignmentError::StartPastEnd {
                    partition,
                    start,
                    high_watermark,
                });
            }
            readers.push(PartitionReader::new(partition, start, batch_size));
        }
        let waiter = log.new_waiter_id();
        Ok(Consumer {
            log,
            readers,
            turn: 0,
            waiter,
            stop: Arc::new(StopSignal::default()),
        })
    }

    /// A handle that ends this consumer's stream, from any task or thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle::new(Arc::clone(&self.stop))
    }

    // ANCHOR: positions
    /// Each assigned partition with the offset of the next record the consumer
    /// will hand out from it, in the order they were assigned.
    ///
    /// Everything below a position has been handed out (as a record or as an
    /// error), and nothing at or above it has, even if it was already fetched.
    /// Step 09 commits these once the records below them are handled.
    pub fn positions(&self) -> Vec<(Partition, Offset)> {
        self.readers
            .iter()
            .map(|reader| (reader.partition(), reader.position()))
            .collect()
    }
    // ANCHOR_END: positions

    // ANCHOR: next_ready
    /// The next record that is already in the log, without waiting: partitions
    /// take turns, and the first one, from the one whose turn it is, that has a
    /// record gives it. `None` when every partition is caught up.
    ///
    /// Like Kafka's `poll(Duration.ZERO)`. The stream's `poll_next` uses this,
    /// and waits when it returns `None`.
    pub fn next_ready(
        &mut self,
    ) -> Option<Result<ConsumedRecord, ConsumeError>> {
        todo!("hand out a record, partitions taking turns (chapter 08)")
    }
    // ANCHOR_END: next_ready

    /// Removes this consumer's wakers from all its partitions.
    pub(crate) fn deregister(&self) {
        for reader in &self.readers {
            self.log.deregister(reader.partition(), self.waiter);
        }
    }
}

impl Drop for Consumer {
    /// A dropped consumer takes its wakers with it: otherwise the log would
    /// keep them, and the task behind them, until the next append to each
    /// partition.
    fn drop(&mut self) {
        self.deregister();
    }
}
