//! The workshop's own log behind the bus: step 10's durable log, consumed by
//! step 12's worker, with committed offsets kept per partition (given code).

use std::num::NonZeroU32;
use std::path::Path;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution06_log::{LogError, Offset, Partition, Record};
use solution10_recovery::{
    AppendError, DurableLog, FsyncPolicy, LogConfig, RealDisk, RecoveryError,
};
use solution11_idempotency::{IdentifiedEvent, encode_identified};
use solution12_retries::{
    DeadLetterTopic, Handler, WorkerConfig, WorkerError, run_partition,
};

use crate::bus::{Consumed, EventBus, Published};
use crate::publish::partition_of;

/// Why the log bus failed.
#[derive(Debug, thiserror::Error)]
pub enum LogBusError {
    #[error("the durable log or its dead-letter topic could not be opened")]
    Open(#[from] RecoveryError),
    #[error("the log did not take the event; publish it again")]
    Append(#[from] AppendError),
    #[error("the log refused a read")]
    Read(#[from] LogError),
    #[error("the worker stopped before it caught up")]
    Worker(#[from] WorkerError),
}

// ANCHOR: log_bus
/// Step 10's durable log in `dir/log`, its dead letters in `dir/dead`, and
/// the committed offset of each partition (kept in memory: step 09 showed how
/// to store it).
pub struct LogBus {
    log: DurableLog<RealDisk>,
    dead_letters: DeadLetterTopic<RealDisk>,
    committed: Vec<Offset>,
    partitions: NonZeroU32,
    config: WorkerConfig,
    rng: Xoshiro256PlusPlus,
}
// ANCHOR_END: log_bus

impl LogBus {
    /// Opens (or creates) the log and its dead-letter topic under `dir`.
    /// `seed` seeds the retries' jitter.
    pub fn open(
        dir: &Path,
        partitions: NonZeroU32,
        fsync: FsyncPolicy,
        config: WorkerConfig,
        seed: u64,
    ) -> Result<LogBus, LogBusError> {
        let log_config = LogConfig {
            fsync,
            ..LogConfig::new(partitions.get())
        };
        let (log, _report) =
            DurableLog::open(RealDisk, &dir.join("log"), log_config)?;
        let dead_letters = DeadLetterTopic::open(
            RealDisk,
            &dir.join("dead"),
            LogConfig::new(1),
        )?;
        let count = usize::try_from(partitions.get()).unwrap_or(usize::MAX);
        Ok(LogBus {
            log,
            dead_letters,
            committed: vec![Offset(0); count],
            partitions,
            config,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        })
    }

    /// The dead-letter topic, to read or replay.
    pub fn dead_letters(&self) -> &DeadLetterTopic<RealDisk> {
        &self.dead_letters
    }
}

impl EventBus for LogBus {
    type Error = LogBusError;

    async fn publish(
        &mut self,
        event: &IdentifiedEvent,
    ) -> Result<Published, LogBusError> {
        let partition = partition_of(&event.event, self.partitions);
        let key = event.event.booking_id().as_uuid().hyphenated().to_string();
        let record = Record::new(key, encode_identified(event));
        let ack = self.log.append(partition, record)?;
        // The log itself does not look at event ids: step 11's producer
        // dedupes by sequence number, and the handler by event id.
        Ok(Published {
            partition,
            position: ack.offset,
            duplicate: false,
        })
    }

    async fn run_until_idle<H: Handler>(
        &mut self,
        handler: &mut H,
    ) -> Result<Consumed, LogBusError> {
        let memory = self.log.memory();
        let mut consumed = Consumed::default();
        for (index, committed) in self.committed.iter_mut().enumerate() {
            let partition = Partition(u32::try_from(index).unwrap_or(u32::MAX));
            let report = run_partition(
                &memory,
                partition,
                *committed,
                handler,
                &self.dead_letters,
                self.config,
                &mut self.rng,
            )
            .await?;
            *committed = report.committed;
            consumed.handled += report.processed.len();
            consumed.dead_lettered += report.dead_lettered.len();
            consumed.retried += report
                .attempts
                .values()
                .map(|&attempts| usize::try_from(attempts.saturating_sub(1)))
                .map(|retries| retries.unwrap_or(usize::MAX))
                .sum::<usize>();
        }
        Ok(consumed)
    }
}
