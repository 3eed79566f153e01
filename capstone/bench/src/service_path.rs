//! The booking service's path from a booking to its committed effect, on real
//! files, wired from the reference solutions of steps 10 to 13:
//!
//! ```text
//! booking service --OutboxDb::record--> outbox row (step 13, same SQLite
//!   transaction as the booking) --Relay--> IdempotentProducer batch (step 11)
//!   --IdempotentLog::produce--> DurableLog on RealDisk (step 10, fsync policy)
//!   --read--> consumer --Handler::handle--> BookingDb (step 11, through step
//!   12's Handler) --CommitStore::store--> committed offset (step 10)
//! ```
//!
//! Three threads, as three processes of a real deployment would be: the
//! booking service, the relay and the consumer. Each waits for the one before
//! it by parking, and is unparked as soon as there is work, so no stage polls
//! on a timer (a fallback timeout only guards against a lost wake-up).
//!
//! The databases are opened by steps 11 and 13's own code, in SQLite's default
//! rollback-journal mode; [`Journal::WriteAheadLog`] switches the files to
//! write-ahead logging first, to measure what that changes.
//!
//! This wiring is the benchmark's own. It was written while the capstone
//! service (`capstone/service`, `solutions/14-capstone`) was being written
//! beside it, from the same reference solutions; this module is the one place
//! to swap for the service's own wiring once it exists. What it leaves out,
//! because a run without faults never uses it: step 12's retry worker, dead
//! letters and park (the consumer reads producer batches, and step 12's
//! `run_partition` reads single-event records), and more than one partition
//! (step 13's relay publishes to one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use solution01_events::{BookingEvent, BookingId, SeatId, UserId};
use solution06_log::{LogError, Offset, Partition};
use solution10_recovery::{CommitStore, CommitStoreError, FsyncPolicy, LogConfig, RealDisk};
use solution11_idempotency::{
    BatchError, BookingDb, DbConfig, Durability, EventId, HandleError, IdempotentLog, OpenError,
    ProducerBatch,
};
use solution12_retries::{Handler, HandlerError};
use solution13_outbox::{OutboxDb, OutboxError, Pass, Relay, RelayConfig, RelayError};

/// The one partition of the service's topic.
const P0: Partition = Partition(0);

/// How many log records (producer batches) the consumer reads at once; it
/// commits after handling all of them.
const CONSUMER_READ: usize = 16;

/// How long an idle relay or consumer sleeps when nobody wakes it. They are
/// woken as soon as there is work: this only bounds the cost of a wake-up
/// lost to a race, which the loops below are written not to have.
const IDLE_WAIT: Duration = Duration::from_millis(50);

/// Seats run from A1 to Z999: one per booking.
pub const MAX_BOOKINGS: usize = 26 * 999;

/// What the path is configured with: the two durability choices a booking
/// service makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathConfig {
    /// When step 10's log fsyncs the producer batches it appends.
    pub fsync: FsyncPolicy,
    /// Whether the two SQLite databases (the service's outbox and the
    /// consumer's bookings) fsync on every commit. The committed offsets
    /// always are fsynced: step 10's `CommitStore` has no other mode.
    pub databases: Durability,
    /// How SQLite keeps its journal in both databases.
    pub journal: Journal,
}

/// SQLite's journal mode, set on the database files before the steps' code
/// opens them (the mode is stored in the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Journal {
    /// SQLite's default, which steps 11 and 13 use: a rollback journal file,
    /// created and deleted by every transaction.
    RollbackDelete,
    /// Write-ahead logging: every transaction appends to one `-wal` file, and
    /// readers do not wait for the writer. With `synchronous = FULL` a commit
    /// fsyncs that file once.
    WriteAheadLog,
}

/// How the booking service offers its bookings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// As fast as it can record them: the path's throughput. The relay and the
    /// consumer take whatever has piled up since their last pass, so their
    /// batches grow with the load.
    Flood,
    /// One booking at a time: the next is recorded once both events of the
    /// last one are committed by the consumer. The latency of the path itself,
    /// with no queue in front of any stage.
    OneAtATime,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct PathRun {
    /// Events recorded and committed: two per booking.
    pub events: usize,
    /// From the first booking's call to `OutboxDb::record` to the return of
    /// the last `CommitStore::store`.
    pub elapsed: Duration,
    /// For every event, in log order: from the call to `OutboxDb::record` that
    /// recorded it to the return of the `CommitStore::store` that committed
    /// its offset, after its effect.
    pub latencies: Vec<Duration>,
    /// How many times the booking service or the relay found the outbox
    /// locked by the other for the whole busy timeout (5 s) and tried again.
    /// SQLite's lock is not fair: a writer that never pauses can keep
    /// another out.
    pub locked_retries: usize,
    /// How many records the log holds at the end: one per producer batch the
    /// relay published, so `events / log_records` is the batch size the load
    /// gave the relay, and the fsyncs `FsyncPolicy::EveryRecord` paid.
    pub log_records: u64,
}

impl PathRun {
    /// Events per second over the whole run.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// Why a run of the path stopped. The benchmark injects no faults, so each of
/// these is a bug in the wiring or a machine in trouble (a full disk).
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error(
        "{bookings} bookings asked for, but there are only {MAX_BOOKINGS} \
         seats: ask for fewer"
    )]
    TooManyBookings { bookings: usize },
    #[error("could not switch {} to write-ahead logging", path.display())]
    Journal {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{} stayed in journal mode {mode:?} when asked for write-ahead \
         logging: the file system may not support it",
        path.display()
    )]
    NoWriteAheadLog { path: PathBuf, mode: String },
    #[error("the booking service's outbox refused a booking")]
    Outbox(#[from] OutboxError),
    #[error("the durable log did not open")]
    OpenLog(#[from] OpenError),
    #[error("the consumer's booking database did not open")]
    OpenBookings(#[source] HandleError),
    #[error("the relay failed")]
    Relay(#[from] RelayError),
    #[error("the consumer could not read the log")]
    Read(#[from] LogError),
    #[error(
        "the record at offset {offset} is not a producer batch: only the relay \
         writes this log, so the wiring is wrong"
    )]
    NotABatch {
        offset: Offset,
        #[source]
        source: BatchError,
    },
    #[error(
        "the handler failed on the batch at offset {offset}; no fault is \
         injected here, so look at the database and the disk"
    )]
    Handler {
        offset: Offset,
        #[source]
        source: HandlerError,
    },
    #[error("the consumer could not commit its offset")]
    Commit(#[from] CommitStoreError),
    #[error(
        "the consumer handled event {id}, which the booking service never \
         reported recording: the booking service stopped early"
    )]
    Unrecorded { id: EventId },
    #[error("the {stage} thread panicked; its message is printed above")]
    Panicked { stage: &'static str },
    #[error(
        "the {stage} stopped early because another stage failed; that stage's \
         error is the one to read"
    )]
    Stopped { stage: &'static str },
}

/// What the three threads share: who is done, who failed, and how many
/// events are committed.
#[derive(Default)]
struct Progress {
    booking_done: AtomicBool,
    relay_done: AtomicBool,
    /// Set by a stage that fails, so that the others stop instead of waiting
    /// for work that will never come.
    failed: AtomicBool,
    /// Outbox transactions that found the database locked for the whole
    /// busy timeout, and were tried again.
    locked_retries: AtomicUsize,
    committed_events: Mutex<usize>,
    committed_changed: Condvar,
}

impl Progress {
    fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    fn fail(&self) {
        self.failed.store(true, Ordering::Release);
        self.committed_changed.notify_all();
    }

    fn committed(&self, events: usize) {
        *self
            .committed_events
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = events;
        self.committed_changed.notify_all();
    }

    /// Waits until `events` events are committed, or a stage failed.
    fn wait_for_commits(&self, events: usize) -> Result<(), PathError> {
        let mut committed = self
            .committed_events
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *committed < events {
            if self.failed() {
                return Err(PathError::Stopped {
                    stage: "booking service",
                });
            }
            committed = self
                .committed_changed
                .wait_timeout(committed, IDLE_WAIT)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Ok(())
    }
}

/// Runs `bookings` bookings (a `ReservationRequested` and a
/// `PaymentReceived` each) through the whole path, in fresh files under
/// `dir`, and measures it.
pub fn run(
    dir: &Path,
    config: PathConfig,
    bookings: usize,
    load: Load,
) -> Result<PathRun, PathError> {
    if bookings > MAX_BOOKINGS {
        return Err(PathError::TooManyBookings { bookings });
    }
    let db_config = DbConfig {
        busy_timeout: Duration::from_secs(5),
        durability: config.databases,
        read_only: false,
    };
    // Two connections to one outbox, as the service and a relay process
    // would have.
    let outbox = dir.join("service.sqlite");
    let bookings_path = dir.join("consumer.sqlite");
    if config.journal == Journal::WriteAheadLog {
        for path in [&outbox, &bookings_path] {
            use_write_ahead_log(path)?;
        }
    }
    let mut service = OutboxDb::open(&outbox, db_config)?;
    let mut relay_db = OutboxDb::open(&outbox, db_config)?;
    let log_config = LogConfig {
        partition_count: 1,
        // Large segments: rolling is not what this measures.
        segment_bytes: 1 << 30,
        fsync: config.fsync,
    };
    let (log, _) = IdempotentLog::open(RealDisk, &dir.join("log"), log_config)?;
    let mut bookings_db =
        BookingDb::open(&bookings_path, db_config).map_err(PathError::OpenBookings)?;
    let mut commits = CommitStore::open(RealDisk, &dir.join("consumer"))?;
    let progress = Progress::default();
    let (recorded_tx, recorded_rx) = std::sync::mpsc::channel();
    let events = bookings * 2;

    thread::scope(|scope| {
        let consumer = scope.spawn(|| {
            let consumed =
                run_consumer(&log, &mut bookings_db, &mut commits, &progress, recorded_rx);
            if consumed.is_err() {
                progress.fail();
            }
            consumed
        });
        let consumer_thread = consumer.thread().clone();
        let relay = scope.spawn(|| {
            let relayed = run_relay(&mut relay_db, &log, &progress, consumer_thread);
            if relayed.is_err() {
                progress.fail();
            }
            relayed
        });
        let started = Instant::now();
        let booked = run_booking_service(
            &mut service,
            bookings,
            load,
            &recorded_tx,
            relay.thread(),
            &progress,
        );
        if booked.is_err() {
            progress.fail();
        }
        progress.booking_done.store(true, Ordering::Release);
        relay.thread().unpark();
        // The consumer waits for these only while the service still runs.
        drop(recorded_tx);
        let relayed = relay
            .join()
            .map_err(|_| PathError::Panicked { stage: "relay" });
        let consumed = consumer
            .join()
            .map_err(|_| PathError::Panicked { stage: "consumer" });
        let relayed = relayed.and_then(|relayed| relayed);
        let consumed = consumed.and_then(|consumed| consumed);
        let (latencies, last_commit) = match (booked, relayed, consumed) {
            (Ok(()), Ok(()), Ok(consumed)) => consumed,
            (booked, relayed, consumed) => {
                // A stage that stopped because another failed says nothing:
                // report the one that failed.
                let mut failures: Vec<PathError> = [booked.err(), relayed.err(), consumed.err()]
                    .into_iter()
                    .flatten()
                    .collect();
                failures.sort_by_key(|error| matches!(error, PathError::Stopped { .. }));
                return Err(failures.into_iter().next().unwrap_or(PathError::Stopped {
                    stage: "booking service",
                }));
            }
        };
        let log_records = log.durable().end(P0)?.0;
        Ok(PathRun {
            events,
            elapsed: last_commit.map_or(Duration::ZERO, |last| last.duration_since(started)),
            latencies,
            locked_retries: progress.locked_retries.load(Ordering::Relaxed),
            log_records,
        })
    })
}

/// Creates the database at `path` in write-ahead-logging mode, which SQLite
/// keeps in the file for every later connection.
fn use_write_ahead_log(path: &Path) -> Result<(), PathError> {
    let failed = |source| PathError::Journal {
        path: path.to_path_buf(),
        source,
    };
    let connection = rusqlite::Connection::open(path).map_err(failed)?;
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(failed)?;
    if mode != "wal" {
        return Err(PathError::NoWriteAheadLog {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// A seat of its own for the `n`th booking: A1, A2, ... A999, B1, ...
fn seat(n: usize) -> SeatId {
    let row = b'A' + u8::try_from(n / 999 % 26).unwrap_or(0);
    SeatId::parse(&format!("{}{}", char::from(row), n % 999 + 1))
        .unwrap_or_else(|_| unreachable!("A1 to Z999 are valid seats"))
}

/// The booking service: records each booking's two events in its outbox,
/// telling the consumer when each was recorded and waking the relay.
fn run_booking_service(
    db: &mut OutboxDb,
    bookings: usize,
    load: Load,
    recorded: &Sender<(EventId, Instant)>,
    relay: &Thread,
    progress: &Progress,
) -> Result<(), PathError> {
    for n in 0..bookings {
        let booking_id = BookingId::new();
        let events = [
            BookingEvent::ReservationRequested {
                booking_id,
                seat_id: seat(n),
                user_id: UserId::new(),
            },
            BookingEvent::PaymentReceived { booking_id },
        ];
        for event in events {
            if progress.failed() {
                return Err(PathError::Stopped {
                    stage: "booking service",
                });
            }
            let at = Instant::now();
            let row = loop {
                match db.record(&event) {
                    Ok(row) => break row,
                    // The relay kept the outbox locked for the whole busy
                    // timeout, and nothing was written: try again.
                    Err(OutboxError::Locked { .. }) => {
                        progress.locked_retries.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => return Err(error.into()),
                }
            };
            // Fails only once the consumer has stopped, which reports why.
            let _ = recorded.send((row.event.id, at));
            relay.unpark();
        }
        if load == Load::OneAtATime {
            progress.wait_for_commits(2 * (n + 1))?;
        }
    }
    Ok(())
}

/// The relay: publishes the outbox until the booking service is done and the
/// outbox is empty, waking the consumer after every published batch.
fn run_relay(
    db: &mut OutboxDb,
    log: &IdempotentLog<RealDisk>,
    progress: &Progress,
    consumer: Thread,
) -> Result<(), PathError> {
    // Step 13's defaults: up to 100 rows a batch, marked in one transaction.
    let mut relay = Relay::new(RelayConfig {
        partition: P0,
        ..RelayConfig::default()
    });
    loop {
        if progress.failed() {
            return Err(PathError::Stopped { stage: "relay" });
        }
        // Read before the pass: if the service was done before it, a pass
        // that finds nothing means nothing more will come.
        let booking_done = progress.booking_done.load(Ordering::Acquire);
        match relay.run_once(db, log, None) {
            Ok(Pass::Published { .. }) => consumer.unpark(),
            Ok(Pass::Idle) if booking_done => break,
            Ok(Pass::Idle) => thread::park_timeout(IDLE_WAIT),
            // Only a crash point asked for makes a pass crash.
            Ok(Pass::Crashed(_)) => {}
            // The booking service kept the outbox locked for the whole busy
            // timeout. Step 13's answer: run the relay again; it keeps the
            // batch in flight, so nothing is lost or sent twice.
            Err(RelayError::Outbox(OutboxError::Locked { .. })) => {
                progress.locked_retries.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => return Err(error.into()),
        }
    }
    progress.relay_done.store(true, Ordering::Release);
    consumer.unpark();
    Ok(())
}

/// The consumer: reads producer batches from the log, hands every event to
/// step 11's handler, and commits the offset after the effects. Returns each
/// event's latency and when the last commit returned.
fn run_consumer(
    log: &IdempotentLog<RealDisk>,
    db: &mut BookingDb,
    commits: &mut CommitStore<RealDisk>,
    progress: &Progress,
    recorded: Receiver<(EventId, Instant)>,
) -> Result<(Vec<Duration>, Option<Instant>), PathError> {
    let mut next = commits.committed(P0).unwrap_or(Offset(0));
    let mut recorded_at: HashMap<EventId, Instant> = HashMap::new();
    let mut latencies = Vec::new();
    let mut last_commit = None;
    let mut handled = Vec::new();
    loop {
        if progress.failed() {
            return Err(PathError::Stopped { stage: "consumer" });
        }
        let relay_done = progress.relay_done.load(Ordering::Acquire);
        let records = log.durable().read(P0, next, CONSUMER_READ)?;
        if records.is_empty() {
            if relay_done {
                return Ok((latencies, last_commit));
            }
            thread::park_timeout(IDLE_WAIT);
            continue;
        }
        for stored in &records {
            let batch = ProducerBatch::decode(&stored.record.value).map_err(|source| {
                PathError::NotABatch {
                    offset: stored.offset,
                    source,
                }
            })?;
            for event in &batch.events {
                Handler::handle(db, stored.offset, event).map_err(|source| PathError::Handler {
                    offset: stored.offset,
                    source,
                })?;
                handled.push(event.id);
            }
            next = stored.offset.next();
        }
        // Commit after the effect: every event below `next` is in the
        // database.
        commits.store(P0, next)?;
        let committed_at = Instant::now();
        last_commit = Some(committed_at);
        for id in handled.drain(..) {
            let at = when_recorded(&mut recorded_at, &recorded, id)?;
            latencies.push(committed_at.duration_since(at));
        }
        progress.committed(latencies.len());
    }
}

/// When event `id` was recorded. The service reports it right after the
/// outbox transaction, so the report can arrive after the event itself.
fn when_recorded(
    recorded_at: &mut HashMap<EventId, Instant>,
    recorded: &Receiver<(EventId, Instant)>,
    id: EventId,
) -> Result<Instant, PathError> {
    loop {
        if let Some(at) = recorded_at.remove(&id) {
            return Ok(at);
        }
        let (other, at) = recorded.recv().map_err(|_| PathError::Unrecorded { id })?;
        recorded_at.insert(other, at);
    }
}
