//! Why the pipeline stopped (given code).

use std::path::PathBuf;

use solution03_partitioning::PartitionError;
use solution06_log::{LogError, Offset, Partition};
use solution10_recovery::{AppendError, CommitStoreError, RecoveryError};
use solution11_idempotency::{BatchError, HandleError, OpenError};
use solution12_retries::{DeadLetterError, WorkerError};
use solution13_outbox::{OutboxError, RelayError};

// ANCHOR: pipeline_error
/// A failure that stops the pipeline. Nothing past the failure is committed,
/// so a restart from disk takes up the work where it was left.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Shutdown has begun: the service takes no new booking requests. The
    /// caller answers "try again later"; the request was not recorded.
    #[error(
        "the service is shutting down and takes no new requests; send this \
         one again once it is back"
    )]
    Closed,
    #[error("the booking was not recorded in the service's database")]
    Outbox(#[from] OutboxError),
    #[error(
        "the relay did not finish its pass; the next pass sends the same rows"
    )]
    Relay(#[from] RelayError),
    #[error("could not open {what} in {}", path.display())]
    Open {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: OpenFailure,
    },
    #[error(
        "the record at offset {offset} of the outbox log is not a producer \
         batch: only the relay may write to that log"
    )]
    NotABatch {
        offset: Offset,
        #[source]
        source: BatchError,
    },
    #[error("a log refused a read")]
    Read(#[from] LogError),
    #[error(
        "a log could not write or sync: restart the service, which recovers \
         the log and goes on from the last commit"
    )]
    Append(#[from] AppendError),
    #[error("a committed offset could not be stored")]
    Commit(#[from] CommitStoreError),
    #[error("no partition for the record")]
    Partition(#[from] PartitionError),
    #[error(
        "the consumer of partition {partition} stopped; its offset was not \
         committed past the last finished record"
    )]
    Worker {
        partition: Partition,
        #[source]
        source: WorkerError,
    },
}
// ANCHOR_END: pipeline_error

/// What failed while a part of the pipeline was being opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenFailure {
    #[error("the durable log could not be recovered")]
    Log(#[from] RecoveryError),
    #[error("the idempotent log could not be recovered")]
    IdempotentLog(#[from] OpenError),
    #[error("the committed offsets could not be read")]
    Commits(#[from] CommitStoreError),
    #[error("the outbox database could not be opened")]
    Outbox(#[from] OutboxError),
    #[error("the consumer's database could not be opened")]
    Database(#[from] HandleError),
    #[error("the dead-letter topic could not be read")]
    DeadLetters(#[from] DeadLetterError),
}
