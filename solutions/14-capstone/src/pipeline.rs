//! The pipeline: every piece of the service opened in one directory, and the
//! given moves between them (given code).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution01_events::BookingEvent;
use solution03_partitioning::partition_key;
use solution06_log::{Offset, Partition, Record};
use solution10_recovery::{
    CommitStore, Disk, DurableLog, LogConfig, RecoveryReport,
};
use solution11_idempotency::{
    BookingDb, IdempotentLog, IdentifiedEvent, encode_identified,
};
use solution12_retries::DeadLetterTopic;
use solution13_outbox::{
    MarkMode, OutboxDb, OutboxRow, Pass, Relay, RelayConfig,
};

use crate::config::CapstoneConfig;
use crate::error::{OpenFailure, PipelineError};
use crate::handler::{BookingHandler, Faults};
use crate::metrics::Metrics;

/// The service's own database: bookings as the service sees them, and the
/// outbox (step 13).
pub const SERVICE_DB: &str = "service.sqlite";
/// The log the relay publishes the outbox's batches to (step 11).
pub const OUTBOX_LOG_DIR: &str = "outbox-log";
/// The router's committed position in the outbox log (step 10).
pub const ROUTER_COMMITS_DIR: &str = "router";
/// The bookings topic: one event per record, partitioned by booking.
pub const TOPIC_DIR: &str = "topic";
/// The topic's name in traces.
pub const TOPIC: &str = "bookings";
/// The consumers' committed offsets, one per partition of the topic.
pub const CONSUMER_COMMITS_DIR: &str = "consumer";
/// The consumer's database (step 11's handler).
pub const CONSUMER_DB: &str = "consumer.sqlite";
/// Records the consumers gave up on (step 12).
pub const DEAD_LETTERS_DIR: &str = "dead-letters";

/// The outbox log has one partition: one partition keeps the outbox's order.
pub(crate) const OUTBOX_PARTITION: Partition = Partition(0);

// ANCHOR: pipeline
/// The booking service, from a request to the consumer's database:
///
/// ```text
/// intake -> outbox (service.sqlite) -> relay -> outbox log -> router
///        -> topic partition N -> consumer N -> consumer.sqlite, commit N
/// ```
///
/// Each arrow that crosses into a log or a database is followed by a commit
/// of the position it came from, never preceded by one: a crash anywhere
/// leaves work to do again, and every step of it is safe to do twice.
pub struct Pipeline<D: Disk> {
    pub(crate) config: CapstoneConfig,
    pub(crate) dir: PathBuf,
    /// `false` once shutdown has begun: `intake` refuses new requests.
    pub(crate) intake_open: bool,
    pub(crate) outbox: OutboxDb,
    pub(crate) relay: Relay,
    pub(crate) outbox_log: IdempotentLog<D>,
    /// Where the router is in the outbox log.
    pub(crate) router_commits: CommitStore<D>,
    pub(crate) topic: DurableLog<D>,
    /// Where each partition's consumer is in the topic.
    pub(crate) consumer_commits: CommitStore<D>,
    pub(crate) handler: BookingHandler,
    pub(crate) dead_letters: DeadLetterTopic<D>,
    pub(crate) rng: Xoshiro256PlusPlus,
    pub(crate) metrics: Arc<Metrics>,
}
// ANCHOR_END: pipeline

/// What opening found on disk.
#[derive(Debug, Default)]
pub struct Opened {
    /// Recovery of the topic: torn tails cut off after a crash.
    pub topic: RecoveryReport,
    /// Recovery of the outbox log.
    pub outbox_log: RecoveryReport,
}

impl<D: Disk + Clone> Pipeline<D> {
    /// Opens (or creates) every part of the service in `dir` on `disk`, and
    /// recovers each log after a crash. Work left undone by the last run is
    /// still there: unsent outbox rows, unrouted batches, uncommitted records.
    pub fn open(
        disk: D,
        dir: &Path,
        config: CapstoneConfig,
    ) -> Result<(Pipeline<D>, Opened), PipelineError> {
        let open = |what: &'static str, path: PathBuf| {
            move |source: OpenFailure| PipelineError::Open {
                what,
                path,
                source,
            }
        };
        let log_config = LogConfig {
            partition_count: 1,
            segment_bytes: 1024 * 1024,
            fsync: config.fsync,
        };
        let topic_config = LogConfig {
            partition_count: config.partitions,
            ..log_config
        };
        let always = LogConfig {
            fsync: solution10_recovery::FsyncPolicy::EveryRecord,
            ..log_config
        };

        let path = dir.join(SERVICE_DB);
        let outbox = OutboxDb::open(&path, config.db)
            .map_err(|e| open("the outbox", path)(e.into()))?;
        // The relay marks its rows sent as soon as the log acknowledges
        // their batch, so the outbox log syncs every batch: a mark must never
        // outlive a batch that a power cut took. One batch carries up to
        // `relay_batch` rows, which is group commit already.
        let path = dir.join(OUTBOX_LOG_DIR);
        let (outbox_log, outbox_report) =
            IdempotentLog::open(disk.clone(), &path, always)
                .map_err(|e| open("the outbox log", path)(e.into()))?;
        let path = dir.join(ROUTER_COMMITS_DIR);
        let router_commits = CommitStore::open(disk.clone(), &path)
            .map_err(|e| open("the router's offsets", path)(e.into()))?;
        let path = dir.join(TOPIC_DIR);
        let (topic, topic_report) =
            DurableLog::open(disk.clone(), &path, topic_config)
                .map_err(|e| open("the topic", path)(e.into()))?;
        let path = dir.join(CONSUMER_COMMITS_DIR);
        let consumer_commits = CommitStore::open(disk.clone(), &path)
            .map_err(|e| open("the consumers' offsets", path)(e.into()))?;
        let path = dir.join(CONSUMER_DB);
        let db = BookingDb::open(&path, config.db)
            .map_err(|e| open("the consumer's database", path)(e.into()))?;
        let path = dir.join(DEAD_LETTERS_DIR);
        let dead_letters = DeadLetterTopic::open(disk, &path, always)
            .map_err(|e| open("the dead-letter topic", path)(e.into()))?;

        let metrics = Arc::new(Metrics::new(config.partitions));
        for partition in (0..config.partitions).map(Partition) {
            metrics.set_end(partition, topic.end(partition)?);
            let committed =
                consumer_commits.committed(partition).unwrap_or(Offset(0));
            metrics.set_committed(partition, committed);
        }
        let pipeline = Pipeline {
            relay: Relay::new(RelayConfig {
                partition: OUTBOX_PARTITION,
                max_in_flight: config.relay_batch,
                marks: MarkMode::Batched,
            }),
            handler: BookingHandler::new(
                db,
                config.partitions,
                Arc::clone(&metrics),
            ),
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed),
            config,
            dir: dir.to_path_buf(),
            intake_open: true,
            outbox,
            outbox_log,
            router_commits,
            topic,
            consumer_commits,
            dead_letters,
            metrics,
        };
        let opened = Opened {
            topic: topic_report,
            outbox_log: outbox_report,
        };
        Ok((pipeline, opened))
    }
}

impl<D: Disk> Pipeline<D> {
    // ANCHOR: intake
    /// Takes a booking request or a payment: applies it to the service's
    /// state and queues its event in the outbox, in one transaction (step
    /// 13). Refused with [`PipelineError::Closed`] once shutdown has begun.
    pub fn intake(
        &mut self,
        event: &BookingEvent,
    ) -> Result<OutboxRow, PipelineError> {
        if !self.intake_open {
            return Err(PipelineError::Closed);
        }
        Ok(self.outbox.record(event)?)
    }
    // ANCHOR_END: intake

    /// Stops taking new requests: [`Pipeline::intake`] refuses from now on.
    pub fn close_intake(&mut self) {
        self.intake_open = false;
    }

    /// `true` until shutdown begins.
    pub fn is_open(&self) -> bool {
        self.intake_open
    }

    /// One pass of step 13's relay: publishes up to `relay_batch` unsent
    /// outbox rows as one batch and marks them sent.
    pub fn relay_once(&mut self) -> Result<Pass, PipelineError> {
        let pass =
            self.relay
                .run_once(&mut self.outbox, &self.outbox_log, None)?;
        let backlog = self.outbox.unsent(usize::MAX)?.len();
        self.metrics
            .outbox_backlog
            .store(backlog as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(pass)
    }

    /// Relay passes until the outbox has nothing unsent; returns how many
    /// rows went out.
    pub fn relay_all(&mut self) -> Result<usize, PipelineError> {
        let mut rows = 0;
        loop {
            match self.relay_once()? {
                Pass::Idle => return Ok(rows),
                Pass::Published { rows: sent, .. } => rows += sent,
                // No crash is asked for, so the relay never stops here.
                Pass::Crashed(_) => {}
            }
        }
    }

    // ANCHOR: deliver
    /// Appends `event` to `partition` of the topic as one record keyed by its
    /// booking (fsynced as the configuration says), with the faults asked
    /// for: a poison pill before it, a second copy after it.
    pub fn deliver(
        &mut self,
        partition: Partition,
        event: &IdentifiedEvent,
    ) -> Result<Offset, PipelineError> {
        let key = partition_key(&event.event);
        let faults = self.handler.faults_mut();
        let poison = faults.poison_pills > 0;
        faults.poison_pills = faults.poison_pills.saturating_sub(1);
        let twice = faults.duplicates > 0;
        faults.duplicates = faults.duplicates.saturating_sub(1);
        if poison {
            let pill = Record::new(key.clone(), &b"\xff\xfe not an event"[..]);
            self.append(partition, pill)?;
        }
        let record = Record::new(key, encode_identified(event));
        let offset = self.append(partition, record.clone())?;
        tracing::debug!(
            topic = TOPIC,
            partition = partition.0,
            offset = offset.0,
            booking_id = %event.event.booking_id().as_uuid(),
            stage = "route",
            "routed"
        );
        if twice {
            self.append(partition, record)?;
        }
        Metrics::add(&self.metrics.routed, 1);
        Ok(offset)
    }
    // ANCHOR_END: deliver

    /// Appends `record` to `partition` of the topic and shows the new end in
    /// the metrics.
    fn append(
        &self,
        partition: Partition,
        record: Record,
    ) -> Result<Offset, PipelineError> {
        let ack = self.topic.append(partition, record)?;
        self.metrics.set_end(partition, ack.offset.next());
        Ok(ack.offset)
    }

    // ANCHOR: commit
    /// Commits `next`, the next offset `partition`'s consumer reads, durably
    /// (step 10's commit store), and shows it in the metrics.
    pub(crate) fn commit(
        &mut self,
        partition: Partition,
        next: Offset,
    ) -> Result<(), PipelineError> {
        self.consumer_commits.store(partition, next)?;
        self.metrics.set_committed(partition, next);
        Ok(())
    }
    // ANCHOR_END: commit

    // ANCHOR: flush
    /// Fsyncs the outbox log and the topic: everything appended so far
    /// survives a power cut once this returns `Ok`. Commits and dead letters
    /// are synced as they are written.
    pub fn flush(&self) -> Result<(), PipelineError> {
        self.outbox_log.durable().sync()?;
        self.topic.sync()?;
        Ok(())
    }
    // ANCHOR_END: flush

    /// The committed offset of `partition`'s consumer; 0 if it never
    /// committed.
    pub fn committed(&self, partition: Partition) -> Offset {
        self.consumer_commits
            .committed(partition)
            .unwrap_or(Offset(0))
    }

    /// Where the router is in the outbox log.
    pub fn routed_to(&self) -> Offset {
        self.router_commits
            .committed(OUTBOX_PARTITION)
            .unwrap_or(Offset(0))
    }

    /// The offset the next record of `partition` gets.
    pub fn log_end(
        &self,
        partition: Partition,
    ) -> Result<Offset, PipelineError> {
        Ok(self.topic.end(partition)?)
    }

    /// The topic's partitions.
    pub fn partitions(&self) -> impl Iterator<Item = Partition> + use<D> {
        (0..self.config.partitions).map(Partition)
    }

    /// The configuration the pipeline was opened with.
    pub fn config(&self) -> &CapstoneConfig {
        &self.config
    }

    /// The directory the pipeline lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The topic, to read it.
    pub fn topic(&self) -> &DurableLog<D> {
        &self.topic
    }

    /// The outbox log, to read it.
    pub fn outbox_log(&self) -> &IdempotentLog<D> {
        &self.outbox_log
    }

    /// The service's database.
    pub fn outbox(&self) -> &OutboxDb {
        &self.outbox
    }

    /// The consumer's database.
    pub fn bookings(&self) -> &BookingDb {
        self.handler.db()
    }

    /// The dead-letter topic.
    pub fn dead_letters(&self) -> &DeadLetterTopic<D> {
        &self.dead_letters
    }

    /// The counters, to read from another thread.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// The faults to inject from now on.
    pub fn faults_mut(&mut self) -> &mut Faults {
        self.handler.faults_mut()
    }

    /// The consumer's handler, for a consumer of another bus (step 15's
    /// JetStream) that hands it the same events.
    pub fn handler_mut(&mut self) -> &mut BookingHandler {
        &mut self.handler
    }
}
