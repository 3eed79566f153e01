//! The log side of the idempotent producer: step 10's durable log, with a
//! [`ProducerTable`] in front that turns a retried batch into its original
//! offset.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use solution06_log::{LogError, Offset, Partition, Record};
use solution10_recovery::{
    AppendError, Disk, DurableLog, LogConfig, RecoveryError, RecoveryReport,
};

use crate::batch::{
    BatchError, BatchHeader, ProducerBatch, ProducerId, Sequence,
};
use crate::sequence::{Admission, BatchInLog, ProducerTable, SequenceError};

// ANCHOR: batch_ack
/// The log's answer to a batch: where it is, and whether it was written now
/// or before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchAck {
    pub partition: Partition,
    /// The offset of the batch's record: the original one for a duplicate.
    pub offset: Offset,
    pub first_sequence: Sequence,
    pub last_sequence: Sequence,
    /// `true` when the batch was already in the log and nothing was appended.
    pub duplicate: bool,
    /// Whether the record is fsynced, as step 10's [`Ack`] says.
    ///
    /// [`Ack`]: solution10_recovery::Ack
    pub durable: bool,
}
// ANCHOR_END: batch_ack

// ANCHOR: produce_error
/// Why a batch was not accepted. Nothing of it was appended, except after an
/// [`ProduceError::Append`], where step 10 says what may have reached the
/// disk; retrying the same batch is always safe.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("the log refused the batch's sequence numbers")]
    Sequence(#[from] SequenceError),
    #[error(
        "the log could not write the batch: retry the same batch, with the same \
         sequence numbers, once the log is open again"
    )]
    Append(#[from] AppendError),
    #[error(
        "an earlier append panicked while it held the producer table, which may \
         no longer match the log: open the log again to rebuild it"
    )]
    Poisoned,
}

/// Why the log could not be opened with its producer state.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the durable log could not be recovered")]
    Recovery(#[from] RecoveryError),
    #[error(
        "the durable log refused a read while rebuilding the producer table"
    )]
    Read(#[from] LogError),
    #[error(
        "the record at partition {partition}, offset {offset} is not a producer \
         batch, so the producer table cannot be rebuilt: this log holds records \
         that no idempotent producer wrote; open it with step 10's DurableLog"
    )]
    NotABatch {
        partition: Partition,
        offset: Offset,
        #[source]
        source: BatchError,
    },
}
// ANCHOR_END: produce_error

// ANCHOR: idempotent_log
/// Step 10's durable log, accepting batches from idempotent producers only.
pub struct IdempotentLog<D: Disk> {
    log: DurableLog<D>,
    /// Locked for the whole check-append-record of a batch, so that two
    /// batches of one producer cannot both pass the check.
    producers: Mutex<ProducerTable>,
}
// ANCHOR_END: idempotent_log

/// How many records one read asks for while rebuilding.
pub const REBUILD_READ: usize = 64;

impl<D: Disk> IdempotentLog<D> {
    // ANCHOR: open
    /// Opens and recovers the durable log (step 10), then rebuilds the
    /// producer table from the batches in it: what the log remembered before
    /// a restart, it remembers after.
    pub fn open(
        disk: D,
        dir: &Path,
        config: LogConfig,
    ) -> Result<(IdempotentLog<D>, RecoveryReport), OpenError> {
        let (log, report) = DurableLog::open(disk, dir, config)?;
        let producers = rebuild(&log)?;
        let log = IdempotentLog {
            log,
            producers: Mutex::new(producers),
        };
        Ok((log, report))
    }
    // ANCHOR_END: open

    // ANCHOR: produce
    /// Appends `batch` to `partition` if it is the producer's next one,
    /// answers a retry with the original offset and appends nothing, and
    /// refuses a gap.
    pub fn produce(
        &self,
        partition: Partition,
        batch: &ProducerBatch,
    ) -> Result<BatchAck, ProduceError> {
        let mut producers = self
            .producers
            .lock()
            .map_err(|_: PoisonError<_>| ProduceError::Poisoned)?;
        let original = match producers.check(partition, batch)? {
            Admission::Duplicate(original) => original,
            Admission::Append => {
                let record =
                    Record::new(batch.producer_id.to_string(), batch.encode());
                let ack = self.log.append(partition, record)?;
                let written = BatchInLog {
                    first_sequence: batch.first_sequence,
                    // `check` refused an empty batch, so there is a last one.
                    last_sequence: batch
                        .last_sequence()
                        .unwrap_or(batch.first_sequence),
                    offset: ack.offset,
                };
                producers.record(batch.producer_id, partition, written);
                return Ok(BatchAck {
                    partition,
                    offset: ack.offset,
                    first_sequence: written.first_sequence,
                    last_sequence: written.last_sequence,
                    duplicate: false,
                    durable: ack.durable,
                });
            }
        };
        let durable_end =
            self.log.durable_end(partition).map_err(AppendError::from)?;
        Ok(BatchAck {
            partition,
            offset: original.offset,
            first_sequence: original.first_sequence,
            last_sequence: original.last_sequence,
            duplicate: true,
            durable: original.offset < durable_end,
        })
    }
    // ANCHOR_END: produce

    /// The durable log underneath, for readers (`memory()`, `read`, `end`)
    /// and for `sync`.
    pub fn durable(&self) -> &DurableLog<D> {
        &self.log
    }

    /// The last sequence `producer_id` wrote to `partition`, as the log
    /// remembers it.
    pub fn last_sequence(
        &self,
        producer_id: ProducerId,
        partition: Partition,
    ) -> Option<Sequence> {
        self.producers
            .lock()
            .ok()
            .and_then(|table| table.last_sequence(producer_id, partition))
    }
}

// ANCHOR: rebuild
/// The producer table as it was before the restart, read back from the log:
/// every batch of every partition, from the first offset to the end, recorded
/// in the table with its offset. The table keeps the last batches of each
/// producer by itself.
pub fn rebuild<D: Disk>(
    log: &DurableLog<D>,
) -> Result<ProducerTable, OpenError> {
    todo!(
        "read every partition to its end, recording batch headers (chapter 11)"
    )
}
// ANCHOR_END: rebuild
