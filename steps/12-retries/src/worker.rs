//! The consumer of one partition with retries: a failed event waits for its
//! retry without holding up other bookings, and without being overtaken by
//! later events of its own booking.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use rand::Rng;
use solution01_events::BookingId;
use solution06_log::{Log, LogError, Offset, Partition, StoredRecord};
use solution09_offsets::{CommitTracker, TrackError};
use solution10_recovery::Disk;
use solution11_idempotency::{IdentifiedEvent, decode_identified};
use tokio::time::Instant;

use crate::dead_letter::{DeadLetter, DeadLetterError, DeadLetterTopic};
use crate::handler::Handler;
use crate::park::{Park, ParkLimits, Parked};
use crate::policy::{Next, RetryPolicy};

// ANCHOR: worker_config
/// How a worker retries and parks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerConfig {
    pub retry: RetryPolicy,
    pub park: ParkLimits,
}
// ANCHOR_END: worker_config

// ANCHOR: report
/// What a run of the worker did. Every record it read is in exactly one of
/// `processed` and `dead_lettered` when the run ends (invariant 8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The records the handler took, in the order it took them.
    pub processed: Vec<Offset>,
    /// The records sent to the dead-letter topic, in the order they were sent.
    pub dead_lettered: Vec<Offset>,
    /// How many times the handler was called with each record.
    pub attempts: BTreeMap<Offset, u32>,
    /// The offset to commit: every record below it is processed or
    /// dead-lettered.
    pub committed: Offset,
}
// ANCHOR_END: report

/// Why a run of the worker stopped before it caught up. The committed offset
/// in the report is not written anywhere by the worker, so nothing after the
/// last finished record counts as done.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the log refused a read")]
    Log(#[from] LogError),
    #[error("a dead letter could not be stored")]
    DeadLetter(#[from] DeadLetterError),
    #[error("the commit tracker refused a record")]
    Track(#[from] TrackError),
    /// A bug in the worker, not a failure of the world: an event stays due
    /// and is never tried, or a parked event past its time is never taken
    /// out, so the worker would go round for ever.
    #[error(
        "the worker is stuck {after:?} after it started: an event is due but \
         stays where it is; check that `drain` tries a due front event (or \
         sets a later `retry_at`), and that `Park::expired` takes out every \
         event that waited max_wait"
    )]
    Stuck { after: Duration },
}

// ANCHOR: pending
/// An event waiting for its turn with the handler: behind an earlier event of
/// its booking, or for its own next retry.
#[derive(Clone, Debug)]
struct Pending {
    record: StoredRecord,
    event: IdentifiedEvent,
    /// Failed attempts so far that count against the retry budget.
    attempts: u32,
    /// When the next attempt may be made; `None`: as soon as it is in front.
    retry_at: Option<Instant>,
}
// ANCHOR_END: pending

// ANCHOR: worker
/// One run of the consumer of a partition.
struct Worker<'a, H, D: Disk, R: ?Sized> {
    handler: &'a mut H,
    dead_letters: &'a DeadLetterTopic<D>,
    config: WorkerConfig,
    rng: &'a mut R,
    partition: Partition,
    /// The events not handled yet, per booking, in log order. The front of a
    /// queue is the event being tried; everything behind it waits for it, so
    /// no later event of a booking overtakes an earlier one. A booking with
    /// nothing waiting has an empty queue or none: its next event is tried
    /// at once.
    queues: HashMap<BookingId, VecDeque<Pending>>,
    park: Park,
    tracker: CommitTracker,
    report: Report,
}
// ANCHOR_END: worker

/// How many records one read of the log asks for.
const BATCH: usize = 16;

/// How many turns in a row the worker may find something due without time
/// passing before it decides that it is stuck.
const MAX_SPINS: u32 = 1_000;

// ANCHOR: run_partition
/// Reads `partition` of `log` from `start` to its end and hands every record
/// to `handler`, retrying, parking and dead-lettering as `config` says. Returns
/// once every record read is processed or dead-lettered.
///
/// The retry delays are slept with tokio's clock, so a test that pauses the
/// clock runs them instantly; `rng` draws their jitter.
pub async fn run_partition<H: Handler, D: Disk, R: Rng + ?Sized>(
    log: &Log,
    partition: Partition,
    start: Offset,
    handler: &mut H,
    dead_letters: &DeadLetterTopic<D>,
    config: WorkerConfig,
    rng: &mut R,
) -> Result<Report, WorkerError> {
    let mut worker = Worker {
        handler,
        dead_letters,
        config,
        rng,
        partition,
        queues: HashMap::new(),
        park: Park::new(config.park),
        tracker: CommitTracker::new(start),
        report: Report {
            committed: start,
            ..Report::default()
        },
    };
    let started = Instant::now();
    let mut position = start;
    let mut unread: VecDeque<StoredRecord> = VecDeque::new();
    let mut spins = 0;
    loop {
        let now = Instant::now();
        for booking_id in worker.due(now) {
            worker.drain(booking_id, now)?;
        }
        for parked in worker.park.expired(now) {
            let reason = format!(
                "waited {:?} for the ReservationRequested of booking {}, \
                 which never came",
                config.park.max_wait,
                parked.event.event.booking_id().as_uuid()
            );
            worker.dead_letter(parked.record, reason, parked.attempts)?;
        }
        if unread.is_empty() {
            unread.extend(log.read(partition, position, BATCH)?);
        }
        if let Some(record) = unread.pop_front() {
            position = record.offset.next();
            worker.admit(record, now)?;
            continue;
        }
        // Caught up with the log: done once nothing waits any more.
        let Some(wake) = worker.next_wake() else {
            return Ok(worker.report);
        };
        if wake > now {
            spins = 0;
            tokio::time::sleep_until(wake).await;
            continue;
        }
        // Something is due now (a retry drawn with a zero delay): go round
        // again. Going round without end means `drain` left a due event in
        // place, or `Park::expired` a parked event past its time.
        spins += 1;
        if spins > MAX_SPINS {
            return Err(WorkerError::Stuck {
                after: now.duration_since(started),
            });
        }
    }
}
// ANCHOR_END: run_partition

impl<H: Handler, D: Disk, R: Rng + ?Sized> Worker<'_, H, D, R> {
    // ANCHOR: admit
    /// A record read from the log: decode it and queue it behind the events
    /// of its booking, then try what can be tried.
    fn admit(
        &mut self,
        record: StoredRecord,
        now: Instant,
    ) -> Result<(), WorkerError> {
        self.tracker.received(record.offset)?;
        let event = match decode_identified(&record.record.value) {
            Ok(event) => event,
            // Bytes that are not an event never will be: a permanent failure,
            // and without a booking there is no queue to keep it in.
            Err(error) => {
                self.report.attempts.insert(record.offset, 1);
                return self.dead_letter(record, error.to_string(), 1);
            }
        };
        let booking_id = event.event.booking_id();
        self.queues
            .entry(booking_id)
            .or_default()
            .push_back(Pending {
                record,
                event,
                attempts: 0,
                retry_at: None,
            });
        self.drain(booking_id, now)
    }
    // ANCHOR_END: admit

    // ANCHOR: drain
    /// Tries the events queued for `booking_id`, front first, until the queue
    /// is empty or its front must wait for a retry.
    ///
    /// For the front event: if its retry is not due at `now`, stop. Otherwise
    /// count the call in `self.report.attempts` and call the handler. On
    /// success, it is processed ([`Worker::processed`]) and the events parked
    /// for the booking go to the front of the queue, in their order. On
    /// failure, add one to its `attempts` and ask the retry policy: wait (set
    /// `retry_at` and stop), park it ([`Worker::park`]), or dead-letter it
    /// with the error as the reason ([`Worker::dead_letter`]). Released events
    /// start with `attempts: 0` and no `retry_at`.
    fn drain(
        &mut self,
        booking_id: BookingId,
        now: Instant,
    ) -> Result<(), WorkerError> {
        todo!("try the booking's queue, front first (chapter 12)")
    }
    // ANCHOR_END: drain

    // ANCHOR: helpers
    /// The handler took the record at `offset`.
    fn processed(&mut self, offset: Offset) -> Result<(), WorkerError> {
        self.report.processed.push(offset);
        self.finished(offset)
    }

    /// Sends the record to the dead-letter topic with `reason`, durably,
    /// before its offset counts as finished.
    fn dead_letter(
        &mut self,
        record: StoredRecord,
        reason: String,
        attempts: u32,
    ) -> Result<(), WorkerError> {
        let dead_letter = DeadLetter {
            partition: self.partition,
            offset: record.offset,
            record: record.record,
            reason,
            attempts,
            at: SystemTime::now(),
        };
        self.dead_letters.send(&dead_letter)?;
        self.report.dead_lettered.push(record.offset);
        self.finished(record.offset)
    }

    /// Sets the event aside until its booking's request is handled; if the
    /// park is full for the booking, dead-letters it instead.
    fn park(
        &mut self,
        booking_id: BookingId,
        pending: Pending,
        now: Instant,
    ) -> Result<(), WorkerError> {
        let parked = Parked {
            record: pending.record,
            event: pending.event,
            attempts: pending.attempts,
            since: now,
        };
        match self.park.park(booking_id, parked) {
            Ok(()) => Ok(()),
            Err(full) => {
                let reason = full.to_string();
                let parked = *full.parked;
                self.dead_letter(parked.record, reason, parked.attempts)
            }
        }
    }

    fn finished(&mut self, offset: Offset) -> Result<(), WorkerError> {
        if let Some(committed) = self.tracker.finished(offset)? {
            self.report.committed = committed;
        }
        Ok(())
    }

    /// The bookings whose front event is due at `now`, soonest first (and in
    /// log order among equals), so that a seeded run draws its jitter in the
    /// same order every time.
    fn due(&self, now: Instant) -> Vec<BookingId> {
        let mut due: Vec<(Instant, Offset, BookingId)> = self
            .queues
            .iter()
            .filter_map(|(booking_id, queue)| {
                let front = queue.front()?;
                let at = front.retry_at.unwrap_or(now);
                (at <= now).then_some((at, front.record.offset, *booking_id))
            })
            .collect();
        due.sort();
        due.into_iter()
            .map(|(_, _, booking_id)| booking_id)
            .collect()
    }

    /// When something waiting becomes due: a retry, or a parked event's
    /// time limit. `None` when nothing waits.
    fn next_wake(&self) -> Option<Instant> {
        let retries = self
            .queues
            .values()
            .filter_map(|queue| queue.front()?.retry_at);
        retries.chain(self.park.next_deadline()).min()
    }
    // ANCHOR_END: helpers
}
