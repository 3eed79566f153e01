//! The relay: it publishes the outbox's unsent rows, in order, and marks them
//! sent once the log has them.

use solution06_log::Partition;
use solution10_recovery::Disk;
use solution11_idempotency::{
    IdempotentLog, IdempotentProducer, ProduceError, ProducerBatch,
};

use crate::outbox::{OutboxDb, OutboxError, Position};
use crate::pending::MarkMode;

// ANCHOR: relay_config
/// How the relay works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayConfig {
    /// Where the events go. One partition keeps the outbox's order.
    pub partition: Partition,
    /// The most rows one pass reads and publishes: the bound on rows in
    /// flight, published but not yet marked (step 05's budget, in rows).
    pub max_in_flight: usize,
    pub marks: MarkMode,
}
// ANCHOR_END: relay_config

impl Default for RelayConfig {
    fn default() -> RelayConfig {
        RelayConfig {
            partition: Partition(0),
            max_in_flight: 100,
            marks: MarkMode::Batched,
        }
    }
}

// ANCHOR: crash
/// Where a test makes the relay stop, as a crash of its process would: what
/// was committed stays, the relay's memory is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayCrash {
    /// The rows are read; nothing is published.
    BeforePublish,
    /// The log has the batch; the rows are not marked sent.
    AfterPublish,
    /// The rows are marked sent.
    AfterMark,
}

/// What one pass of the relay did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// No unsent row: nothing to do.
    Idle,
    /// `rows` rows were published and marked sent. `duplicate` is the log's
    /// answer: the batch was already there (a retry after a failed pass).
    Published { rows: usize, duplicate: bool },
    /// The relay stopped at this point. Drop it, as the crash would, and start
    /// a new one.
    Crashed(RelayCrash),
}
// ANCHOR_END: crash

// ANCHOR: relay_error
/// Why a pass did not finish. Whatever was published stays unmarked, so the
/// next pass publishes it again: never lost, at worst a duplicate that the
/// log or the consumer recognises.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the outbox could not be read or marked; run the relay again")]
    Outbox(#[from] OutboxError),
    #[error(
        "the log did not take the batch; the next pass sends the same batch \
         again"
    )]
    Publish(#[from] ProduceError),
}
// ANCHOR_END: relay_error

// ANCHOR: relay
/// The relay between the outbox and the log.
pub struct Relay {
    producer: IdempotentProducer,
    config: RelayConfig,
    /// The batch of the last pass that failed after it was built, with the
    /// rows it holds: the next pass sends exactly this batch again.
    in_flight: Option<(Vec<Position>, ProducerBatch)>,
}
// ANCHOR_END: relay

impl Relay {
    /// A relay with a fresh producer: after a crash, a new relay is a new
    /// producer, as in step 11.
    pub fn new(config: RelayConfig) -> Relay {
        Relay {
            producer: IdempotentProducer::new(),
            config,
            in_flight: None,
        }
    }

    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    // ANCHOR: run_once
    /// One pass: read at most `max_in_flight` unsent rows in order, publish
    /// them as one batch through the idempotent producer, then mark them
    /// sent. A pass that failed after building its batch is finished by the
    /// next one with the same batch. `crash` stops the pass at that point.
    pub fn run_once<D: Disk>(
        &mut self,
        db: &mut OutboxDb,
        log: &IdempotentLog<D>,
        crash: Option<RelayCrash>,
    ) -> Result<Pass, RelayError> {
        todo!("read, publish one batch, then mark it (chapter 13)")
    }
    // ANCHOR_END: run_once
}
