//! The booking service end to end as `capstone serve` runs it: the service's
//! own [`Pipeline`] (step 14) on real files, from a booking request to the
//! consumer's committed offset.
//!
//! ```text
//! Pipeline::intake -> outbox row (step 13, one SQLite transaction)
//!   -> Pipeline::relay_all -> outbox log (step 11's idempotent log)
//!   -> Pipeline::route -> topic partition N (step 10, the fsync policy)
//!   -> Pipeline::consume -> step 12's worker and step 11's handler
//!   -> committed offset of partition N (step 10's CommitStore)
//! ```
//!
//! One thread turns the pipeline, as the service's main loop does: the
//! requests of a turn are taken by `intake`, then the relay, the router and a
//! round of every partition's consumer run. The service itself takes its
//! requests from a load generator on another thread; here they are taken in
//! the turn, so that each event's latency is measured from its own `intake`
//! call to the return of the round that commits it.
//!
//! The databases are opened by the pipeline, in SQLite's default
//! rollback-journal mode; [`Journal::WriteAheadLog`] switches the two files
//! to write-ahead logging before the pipeline opens them (SQLite keeps the
//! mode in the file), to measure what that changes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use solution14_capstone::{
    BookingEvent, BookingId, CONSUMER_DB, CapstoneConfig, Durability, FsyncPolicy, Partition,
    Pipeline, PipelineError, RealDisk, SERVICE_DB, SeatId, UserId,
};

/// Partitions of the bookings topic: the service's default (`capstone serve
/// --partitions 3`).
pub const PARTITIONS: u32 = 3;

/// Bookings (two events each) a throughput run takes per turn of the
/// pipeline: 64 events, one relay batch of the service's default size.
pub const BOOKINGS_PER_TURN: usize = 32;

/// Seats run from A1 to Z999: one per booking.
pub const MAX_BOOKINGS: usize = 26 * 999;

/// The two durability choices of a booking service, and SQLite's journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    /// When the topic fsyncs the records the router appends
    /// (`capstone serve --fsync`). The router also syncs the topic before it
    /// commits its position, whatever the policy.
    pub fsync: FsyncPolicy,
    /// Whether both SQLite databases fsync on every commit. The committed
    /// offsets always are fsynced: step 10's `CommitStore` has no other mode.
    pub databases: Durability,
    /// How SQLite keeps its journal in both databases.
    pub journal: Journal,
}

/// SQLite's journal mode, set on the database files before the pipeline
/// opens them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Journal {
    /// SQLite's default, which steps 11, 13 and 14 use: a rollback journal
    /// file, created and deleted by every transaction.
    RollbackDelete,
    /// Write-ahead logging: every transaction appends to one `-wal` file.
    /// With `synchronous = FULL` a commit fsyncs that file once.
    WriteAheadLog,
}

/// How the bookings are offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// [`BOOKINGS_PER_TURN`] bookings a turn, as fast as the pipeline turns:
    /// the service's throughput.
    Flood,
    /// One booking a turn: its request and payment are taken, relayed,
    /// routed, handled and committed before the next booking comes. The
    /// latency of the path itself, with no queue in front of any stage.
    OneAtATime,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct ServiceRun {
    /// Events taken and committed: two per booking.
    pub events: usize,
    /// From the first `intake` call to the return of the last round.
    pub elapsed: Duration,
    /// Each event's time from its `intake` call to the return of the round
    /// of its partition's consumer that committed it.
    pub latencies: Vec<Duration>,
    /// Records of the outbox log: one per batch the relay published, so
    /// `events / relay_batches` is the relay's batch size.
    pub relay_batches: u64,
}

impl ServiceRun {
    /// Events per second over the whole run.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

/// Why a run stopped. The benchmark injects no faults, so each of these is a
/// bug in the service or a machine in trouble (a full disk).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
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
    #[error("could not start the async runtime the consumer's rounds run on")]
    Runtime(#[source] std::io::Error),
    #[error("the service's pipeline failed")]
    Pipeline(#[from] PipelineError),
    #[error(
        "{taken} events were taken but the consumers committed {committed}: \
         without faults every event is committed once, so the pipeline lost \
         or doubled some"
    )]
    Uncommitted { taken: usize, committed: u64 },
}

/// Runs `bookings` bookings (a `ReservationRequested` and a
/// `PaymentReceived` each) through the service's pipeline, opened fresh in
/// `dir`, and measures it.
pub fn run(
    dir: &Path,
    config: ServiceConfig,
    bookings: usize,
    load: Load,
) -> Result<ServiceRun, ServiceError> {
    if bookings > MAX_BOOKINGS {
        return Err(ServiceError::TooManyBookings { bookings });
    }
    if config.journal == Journal::WriteAheadLog {
        for file in [SERVICE_DB, CONSUMER_DB] {
            use_write_ahead_log(&dir.join(file))?;
        }
    }
    // The consumer's rounds are async (step 12's retry delays); without
    // faults they never wait, and one thread runs them.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(ServiceError::Runtime)?;
    let mut capstone = CapstoneConfig::new(PARTITIONS);
    capstone.fsync = config.fsync;
    capstone.db.durability = config.databases;
    let (mut pipeline, _opened) = Pipeline::open(RealDisk, dir, capstone)?;

    let per_turn = match load {
        Load::Flood => BOOKINGS_PER_TURN,
        Load::OneAtATime => 1,
    };
    let mut latencies = Vec::with_capacity(2 * bookings);
    let mut taken_at = Vec::with_capacity(2 * per_turn);
    let started = Instant::now();
    let mut next = 0;
    while next < bookings {
        let end = (next + per_turn).min(bookings);
        for n in next..end {
            let booking_id = BookingId::new();
            let request = BookingEvent::ReservationRequested {
                booking_id,
                seat_id: seat(n),
                user_id: UserId::new(),
            };
            for event in [request, BookingEvent::PaymentReceived { booking_id }] {
                taken_at.push(Instant::now());
                pipeline.intake(&event)?;
            }
        }
        next = end;
        runtime.block_on(turn(&mut pipeline))?;
        let committed_at = Instant::now();
        latencies.extend(taken_at.drain(..).map(|at| committed_at - at));
    }
    let elapsed = started.elapsed();

    let events = 2 * bookings;
    let committed: u64 = pipeline
        .partitions()
        .map(|partition| pipeline.committed(partition).0)
        .sum();
    if committed != events as u64 {
        return Err(ServiceError::Uncommitted {
            taken: events,
            committed,
        });
    }
    let relay_batches = pipeline
        .outbox_log()
        .durable()
        .end(Partition(0))
        .map_err(PipelineError::from)?
        .0;
    Ok(ServiceRun {
        events,
        elapsed,
        latencies,
        relay_batches,
    })
}

/// One turn of the pipeline, as `capstone serve` turns it: relay, route, and
/// a round of every partition's consumer, which commits after the effect.
async fn turn(pipeline: &mut Pipeline<RealDisk>) -> Result<(), PipelineError> {
    pipeline.relay_all()?;
    pipeline.route()?;
    let partitions: Vec<Partition> = pipeline.partitions().collect();
    for partition in partitions {
        pipeline.consume(partition).await?;
    }
    Ok(())
}

/// Creates the database at `path` in write-ahead-logging mode, which SQLite
/// keeps in the file for every later connection.
fn use_write_ahead_log(path: &Path) -> Result<(), ServiceError> {
    let failed = |source| ServiceError::Journal {
        path: path.to_path_buf(),
        source,
    };
    let connection = rusqlite::Connection::open(path).map_err(failed)?;
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(failed)?;
    if mode != "wal" {
        return Err(ServiceError::NoWriteAheadLog {
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
