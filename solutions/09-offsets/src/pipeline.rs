//! A consumer that can be made to crash at a chosen point, and a booking store
//! that survives the crash: teaching support, to show what committing before or
//! after the effect does to a booking.
//!
//! A real consumer does not plan its crashes. This one takes a [`CrashPoint`],
//! stops dead when a record reaches it (what happens in memory is lost, what
//! was written to the [`Service`] stays), and is then started again from the
//! committed offset, exactly as a restarted process would be.

use std::collections::HashMap;

use solution01_events::{
    BookingEvent, BookingId, BookingState, Rejected, apply,
};
use solution02_protobuf::{WireError, decode};
use solution06_log::{Log, LogError, Offset, Partition, StoredRecord};

use crate::committed::{CommitError, CommittedOffsets};
use crate::stage::{Stage, StageError};
use crate::tracker::{CommitTracker, TrackError};

// ANCHOR: policy
/// When the handler commits a record's offset, relative to its effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommitPolicy {
    /// Commit as soon as the record is decoded, before the effect:
    /// at-most-once. A crash between the commit and the effect loses the
    /// record. This is what Kafka's auto-commit does when a poll's records are
    /// still being handled when the next poll commits them.
    BeforeEffect,
    /// Commit once the record is acked, after the effect: at-least-once. A
    /// crash between the effect and the commit makes the record come again.
    AfterEffect,
}

impl CommitPolicy {
    /// The stage at which this policy reports the record as finished to the
    /// commit tracker, which may then commit.
    pub fn commit_at(self) -> Stage {
        match self {
            CommitPolicy::BeforeEffect => Stage::Decoded,
            CommitPolicy::AfterEffect => Stage::Acked,
        }
    }
}
// ANCHOR_END: policy

// ANCHOR: crash_point
/// Where the simulated crash hits: right after the record at `offset` reached
/// `stage`, including the commit that reaching it triggers, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CrashPoint {
    pub offset: Offset,
    pub stage: Stage,
}
// ANCHOR_END: crash_point

/// One attempt to apply a record's event to the store, successful or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The offset of the record whose event was applied.
    pub offset: Offset,
    /// What `apply` said: `Ok` if the booking changed, the reason if it did
    /// not.
    pub outcome: Result<(), Rejected>,
}

// ANCHOR: booking_store
/// The booking service's database: the state of every booking, and every
/// attempt to change one. It survives a crash of the consumer, as a real
/// database does.
///
/// Writing the outcome of an event here is the handler's effect, the
/// `Persisted` stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookingStore {
    bookings: HashMap<BookingId, BookingState>,
    attempts: Vec<Attempt>,
}
// ANCHOR_END: booking_store

impl BookingStore {
    /// An empty store.
    pub fn new() -> BookingStore {
        BookingStore::default()
    }

    /// Where a booking stands: `Empty` if no event of it was ever accepted.
    pub fn state(&self, booking_id: BookingId) -> BookingState {
        self.bookings
            .get(&booking_id)
            .cloned()
            .unwrap_or(BookingState::Empty)
    }

    /// Every attempt to apply an event, in the order they were made.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// How many times the effect of the record at `offset` was attempted: 0 if
    /// it was lost, 1 if it was handled once, 2 or more if it was delivered
    /// again.
    pub fn attempts_at(&self, offset: Offset) -> usize {
        self.attempts
            .iter()
            .filter(|attempt| attempt.offset == offset)
            .count()
    }

    // ANCHOR: record
    /// Applies `event`, read at `offset`, to the state of its booking with the
    /// state machine of step 01, and stores the new state if it was accepted.
    /// The attempt is recorded either way.
    ///
    /// A duplicate comes back as `Err(Rejected::AlreadyRequested)` or
    /// `Err(Rejected::AlreadyPaid)`, and the booking does not change: here the
    /// state machine happens to absorb redeliveries. Step 11 makes that a
    /// property of the handler rather than luck.
    pub fn record(
        &mut self,
        offset: Offset,
        event: &BookingEvent,
    ) -> Result<(), Rejected> {
        let booking_id = event.booking_id();
        let outcome = apply(&self.state(booking_id), event).map(|next| {
            self.bookings.insert(booking_id, next);
        });
        self.attempts.push(Attempt {
            offset,
            outcome: outcome.clone(),
        });
        outcome
    }
    // ANCHOR_END: record
}

// ANCHOR: service
/// What outlives a crash of the consumer: the committed offsets and the booking
/// store. The consumer's memory (its commit tracker, its position) does not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Service {
    pub committed: CommittedOffsets,
    pub bookings: BookingStore,
}
// ANCHOR_END: service

/// How a run of the consumer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every record in the partition was handled; `committed` is the committed
    /// offset at the end.
    CaughtUp { committed: Offset },
    /// The planned crash hit.
    Crashed { at: CrashPoint },
}

// ANCHOR: pipeline_error
/// A failure of the pipeline that is not the planned crash. Each one stops the
/// run; the committed offset stays where it was, so a restart tries again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    #[error("the log refused a read")]
    Log(#[from] LogError),
    /// This simulation stops at a record that does not decode; step 12 sets
    /// such records aside on a dead-letter topic and goes on.
    #[error("the record at offset {offset} is not a booking event")]
    Decode { offset: Offset, source: WireError },
    #[error("the handler skipped or repeated a stage")]
    Stage(#[from] StageError),
    #[error("the commit tracker refused a record")]
    Track(#[from] TrackError),
    #[error("the committed offsets refused a commit")]
    Commit(#[from] CommitError),
}
// ANCHOR_END: pipeline_error

// ANCHOR: halt
/// Why the handling of a record stopped early: the planned crash, or a failure.
/// Both end the run, and `?` carries either one out of `handle`.
#[derive(Debug)]
enum Halt {
    Crashed(CrashPoint),
    Failed(PipelineError),
}

impl<E: Into<PipelineError>> From<E> for Halt {
    fn from(error: E) -> Halt {
        Halt::Failed(error.into())
    }
}
// ANCHOR_END: halt

// ANCHOR: pipeline
/// One run of the consumer process, from its start to its end: caught up, or
/// crashed.
struct Pipeline<'a> {
    log: &'a Log,
    partition: Partition,
    policy: CommitPolicy,
    crash: Option<CrashPoint>,
    /// The part that survives the crash.
    service: &'a mut Service,
    /// In memory only: lost in the crash, and started again from the committed
    /// offset by the next run.
    tracker: CommitTracker,
}
// ANCHOR_END: pipeline

/// How many records one read of the log asks for.
const BATCH: usize = 16;

// ANCHOR: run_until_crash
/// Starts the consumer of `partition` at its committed offset, and handles
/// records in offset order until it has handled the last one or the crash at
/// `crash` hits. Call it again (with `None`) to restart after a crash.
pub fn run_until_crash(
    log: &Log,
    partition: Partition,
    policy: CommitPolicy,
    crash: Option<CrashPoint>,
    service: &mut Service,
) -> Result<RunOutcome, PipelineError> {
    // A restart knows only what was committed: that is where it resumes.
    let start = service.committed.resume_at(partition);
    let mut pipeline = Pipeline {
        log,
        partition,
        policy,
        crash,
        service,
        tracker: CommitTracker::new(start),
    };
    let mut position = start;
    loop {
        let batch = log.read(partition, position, BATCH)?;
        if batch.is_empty() {
            return Ok(RunOutcome::CaughtUp {
                committed: pipeline.tracker.committed(),
            });
        }
        for record in batch {
            position = record.offset.next();
            match pipeline.handle(&record) {
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

impl Pipeline<'_> {
    // ANCHOR: handle
    /// Takes one record through every stage, in order: the effect (writing the
    /// outcome to the booking store) is the `Persisted` stage. Calls
    /// [`Pipeline::reached`] after each stage, which commits and crashes when
    /// it is time to.
    fn handle(&mut self, record: &StoredRecord) -> Result<(), Halt> {
        // exercise: solution
        let offset = record.offset;
        self.tracker.received(offset)?;
        let mut stage = Stage::Received;
        self.reached(offset, stage)?;

        let event = decode(&record.record.value)
            .map_err(|source| PipelineError::Decode { offset, source })?;
        stage = stage.advance(Stage::Decoded)?;
        self.reached(offset, stage)?;

        // ANCHOR: effect_then_ack
        // The effect. A rejected event (a duplicate, a payment for a booking
        // that does not exist) is handled too: the store recorded why, and
        // there is nothing more to do with it.
        let _accepted_or_not = self.service.bookings.record(offset, &event);
        stage = stage.advance(Stage::Persisted)?;
        self.reached(offset, stage)?;

        stage = stage.advance(Stage::Applied)?;
        self.reached(offset, stage)?;

        stage = stage.advance(Stage::Acked)?;
        self.reached(offset, stage)?;
        // ANCHOR_END: effect_then_ack
        Ok(())
        // exercise: stub
        // todo!("take the record through every stage (chapter 09)")
        // exercise: end
    }
    // ANCHOR_END: handle

    // ANCHOR: reached
    /// The record at `offset` has just reached `stage`. If the policy commits
    /// at this stage, report it finished to the tracker and commit the new
    /// watermark, if it moved. Then, if the crash is planned here, crash.
    fn reached(&mut self, offset: Offset, stage: Stage) -> Result<(), Halt> {
        // exercise: solution
        if stage == self.policy.commit_at()
            && let Some(watermark) = self.tracker.finished(offset)?
        {
            let log_end = self.log.high_watermark(self.partition)?;
            self.service.committed.commit(
                self.partition,
                watermark,
                log_end,
            )?;
        }
        let here = CrashPoint { offset, stage };
        if self.crash == Some(here) {
            return Err(Halt::Crashed(here));
        }
        Ok(())
        // exercise: stub
        // todo!("commit if it is time, then crash if planned (chapter 09)")
        // exercise: end
    }
    // ANCHOR_END: reached
}
