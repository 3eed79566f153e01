//! The benchmark's wiring of the service path delivers what it measures:
//! every booking recorded ends confirmed in the consumer's database, and the
//! committed offset covers the whole log. Small runs, and nothing is timed.

use std::path::Path;
use std::time::Duration;

use capstone_bench::service_path::{self, Journal, Load, PathConfig};
use solution10_recovery::{CommitStore, FsyncPolicy, LogConfig, Partition, RealDisk};
use solution11_idempotency::{BookingDb, DbConfig, Durability, IdempotentLog};

fn config(fsync: FsyncPolicy) -> PathConfig {
    PathConfig {
        fsync,
        databases: Durability::SurvivesProcessCrash,
        journal: Journal::RollbackDelete,
    }
}

/// Checks the files a run left in `dir`: `bookings` bookings confirmed, and
/// the offset committed up to the log's end.
fn assert_every_booking_confirmed_and_committed(dir: &Path, bookings: usize) {
    let db = BookingDb::open(
        &dir.join("consumer.sqlite"),
        DbConfig {
            busy_timeout: Duration::from_secs(5),
            durability: Durability::SurvivesProcessCrash,
            read_only: true,
        },
    )
    .expect("the consumer's database opens");
    let snapshot = db.snapshot().expect("the consumer's database reads");
    let confirmed = snapshot
        .bookings
        .values()
        .filter(|line| line.starts_with("confirmed "))
        .count();
    assert_eq!(
        (snapshot.bookings.len(), confirmed),
        (bookings, bookings),
        "every booking recorded in the outbox must end confirmed in the \
         consumer's database, which only the consumer writes"
    );
    assert_eq!(
        snapshot.processed.len(),
        2 * bookings,
        "each booking's request and payment must be processed once"
    );
    let commits =
        CommitStore::open(RealDisk, &dir.join("consumer")).expect("the committed offsets open");
    let (log, _) = IdempotentLog::open(
        RealDisk,
        &dir.join("log"),
        LogConfig {
            partition_count: 1,
            segment_bytes: 1 << 30,
            fsync: FsyncPolicy::Never,
        },
    )
    .expect("the log opens again");
    let end = log.durable().end(Partition(0)).expect("the log's end");
    assert_eq!(
        commits.committed(Partition(0)),
        Some(end),
        "the consumer commits after the effect, up to the end of the log"
    );
}

#[test]
fn a_flood_of_bookings_ends_confirmed_and_committed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = service_path::run(
        dir.path(),
        config(FsyncPolicy::EveryRecords(10)),
        50,
        Load::Flood,
    )
    .unwrap_or_else(|error| panic!("the run failed: {error} ({error:?})"));
    assert_eq!(run.events, 100, "two events per booking");
    assert_eq!(
        run.latencies.len(),
        100,
        "every event's latency is measured once, when its offset is committed"
    );
    assert_every_booking_confirmed_and_committed(dir.path(), 50);
}

#[test]
fn a_flood_with_write_ahead_logging_ends_confirmed_and_committed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = service_path::run(
        dir.path(),
        PathConfig {
            journal: Journal::WriteAheadLog,
            ..config(FsyncPolicy::EveryRecord)
        },
        30,
        Load::Flood,
    )
    .unwrap_or_else(|error| panic!("the run failed: {error} ({error:?})"));
    assert_eq!(run.latencies.len(), 60, "one latency per event");
    for file in ["service.sqlite", "consumer.sqlite"] {
        let connection =
            rusqlite::Connection::open(dir.path().join(file)).expect("the database opens");
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .expect("the journal mode reads");
        assert_eq!(mode, "wal", "{file} must be in write-ahead-logging mode");
    }
    assert_every_booking_confirmed_and_committed(dir.path(), 30);
}

#[test]
fn bookings_one_at_a_time_end_confirmed_and_committed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = service_path::run(dir.path(), config(FsyncPolicy::Never), 5, Load::OneAtATime)
        .unwrap_or_else(|error| panic!("the run failed: {error} ({error:?})"));
    assert_eq!(run.latencies.len(), 10, "one latency per event");
    assert!(
        run.latencies.iter().all(|latency| *latency <= run.elapsed),
        "no event can take longer than the whole run: {:?} > {:?}",
        run.latencies.iter().max(),
        run.elapsed
    );
    assert_every_booking_confirmed_and_committed(dir.path(), 5);
}

#[test]
fn more_bookings_than_seats_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let result = service_path::run(
        dir.path(),
        config(FsyncPolicy::Never),
        service_path::MAX_BOOKINGS + 1,
        Load::Flood,
    );
    assert!(
        matches!(result, Err(service_path::PathError::TooManyBookings { .. })),
        "each booking needs a seat of its own, got {result:?}"
    );
}
