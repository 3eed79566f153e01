//! A consumer that can be made to crash at a chosen point, with the crash
//! points of step 09, handing every event to an [`EventHandler`]: teaching
//! support, to show which handlers survive a crash and a redelivery.

use solution06_log::{Log, LogError, Offset, Partition, StoredRecord};
use solution09_offsets::{
    CommitError, CommitTracker, CommittedOffsets, CrashPoint, RunOutcome,
    Stage, StageError, TrackError,
};

use crate::batch::{BatchError, ProducerBatch};
use crate::handler::{EventHandler, HandleError};

// ANCHOR: pipeline_error
/// A failure that stops the consumer. The record it stopped at is not
/// committed, so a restart delivers it again.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the log refused a read")]
    Log(#[from] LogError),
    #[error(
        "the record at offset {offset} is not a batch of identified booking \
         events, so the consumer stopped before it and committed nothing past \
         it: set the record aside (step 12's dead-letter topic) or fix its \
         producer"
    )]
    Decode {
        offset: Offset,
        #[source]
        source: BatchError,
    },
    #[error(
        "event {index} of the record at offset {offset} was not handled, so the \
         consumer stopped and committed nothing past it"
    )]
    Handle {
        offset: Offset,
        index: usize,
        #[source]
        source: HandleError,
    },
    #[error("the handler skipped or repeated a stage")]
    Stage(#[from] StageError),
    #[error("the commit tracker refused a record")]
    Track(#[from] TrackError),
    #[error("the committed offsets refused a commit")]
    Commit(#[from] CommitError),
}
// ANCHOR_END: pipeline_error

/// Why the handling of a record stopped early: the planned crash, or a
/// failure.
enum Halt {
    Crashed(CrashPoint),
    Failed(PipelineError),
}

impl<E: Into<PipelineError>> From<E> for Halt {
    fn from(error: E) -> Halt {
        Halt::Failed(error.into())
    }
}

/// How many records one read of the log asks for.
const BATCH: usize = 16;

// ANCHOR: run_until_crash
/// Starts the consumer of `partition` at its committed offset and hands every
/// event of every record to `handler`, committing a record's offset once all
/// its events are handled (after the effect, as step 09 taught). Stops when it
/// has handled the last record, or when the crash at `crash` hits: right after
/// a record reached that stage, and after the commit reaching it triggers.
///
/// A crash loses the consumer's memory, not `committed` or what `handler`
/// stored: call it again with `None` to restart.
pub fn run_until_crash<H: EventHandler>(
    log: &Log,
    partition: Partition,
    crash: Option<CrashPoint>,
    handler: &mut H,
    committed: &mut CommittedOffsets,
) -> Result<RunOutcome, PipelineError> {
    let start = committed.resume_at(partition);
    let mut tracker = CommitTracker::new(start);
    let mut position = start;
    loop {
        let records = log.read(partition, position, BATCH)?;
        if records.is_empty() {
            return Ok(RunOutcome::CaughtUp {
                committed: tracker.committed(),
            });
        }
        for record in records {
            position = record.offset.next();
            let mut consumer = Consumer {
                log,
                partition,
                crash,
                tracker: &mut tracker,
                committed: &mut *committed,
            };
            match consumer.handle(&record, handler) {
                Ok(()) => {}
                Err(Halt::Crashed(at)) => {
                    return Ok(RunOutcome::Crashed { at });
                }
                Err(Halt::Failed(error)) => return Err(error),
            }
        }
    }
}
// ANCHOR_END: run_until_crash

struct Consumer<'a> {
    log: &'a Log,
    partition: Partition,
    crash: Option<CrashPoint>,
    tracker: &'a mut CommitTracker,
    committed: &'a mut CommittedOffsets,
}

impl Consumer<'_> {
    // ANCHOR: handle
    /// Takes one record through the stages of step 09. The effect, the
    /// `Persisted` stage, is every event of the batch handed to the handler;
    /// the commit comes at `Acked`, after it.
    fn handle<H: EventHandler>(
        &mut self,
        record: &StoredRecord,
        handler: &mut H,
    ) -> Result<(), Halt> {
        let offset = record.offset;
        self.tracker.received(offset)?;
        let mut stage = Stage::Received;
        self.reached(offset, stage)?;

        // The whole batch is decoded before any of it is handled: a bad event
        // stops the consumer with nothing of the record written.
        let batch = ProducerBatch::decode(&record.record.value)
            .map_err(|source| PipelineError::Decode { offset, source })?;
        stage = stage.advance(Stage::Decoded)?;
        self.reached(offset, stage)?;

        for (index, event) in batch.events.iter().enumerate() {
            handler.handle(offset, event).map_err(|source| {
                PipelineError::Handle {
                    offset,
                    index,
                    source,
                }
            })?;
        }
        stage = stage.advance(Stage::Persisted)?;
        self.reached(offset, stage)?;

        stage = stage.advance(Stage::Applied)?;
        self.reached(offset, stage)?;

        stage = stage.advance(Stage::Acked)?;
        self.reached(offset, stage)?;
        Ok(())
    }
    // ANCHOR_END: handle

    /// The record at `offset` has just reached `stage`: at `Acked`, commit the
    /// watermark if it moved; then crash if the crash is planned here.
    fn reached(&mut self, offset: Offset, stage: Stage) -> Result<(), Halt> {
        if stage == Stage::Acked
            && let Some(watermark) = self.tracker.finished(offset)?
        {
            let log_end = self.log.high_watermark(self.partition)?;
            self.committed.commit(self.partition, watermark, log_end)?;
        }
        let here = CrashPoint { offset, stage };
        if self.crash == Some(here) {
            return Err(Halt::Crashed(here));
        }
        Ok(())
    }
}
