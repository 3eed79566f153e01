//! The benchmark drives the service's own pipeline and delivers what it
//! measures: every booking taken ends confirmed in the consumer's database,
//! and every partition is committed at its end. Small runs, nothing timed.

use std::path::Path;

use capstone_bench::service::{self, Journal, Load, ServiceConfig};
use solution14_capstone::{CapstoneConfig, Durability, FsyncPolicy, Pipeline, RealDisk};

fn config(fsync: FsyncPolicy) -> ServiceConfig {
    ServiceConfig {
        fsync,
        databases: Durability::SurvivesProcessCrash,
        journal: Journal::RollbackDelete,
    }
}

/// Opens the files a run left in `dir` with the service's pipeline again and
/// checks them: `bookings` bookings confirmed, every partition committed at
/// its end.
fn assert_every_booking_confirmed_and_committed(dir: &Path, bookings: usize) {
    let (pipeline, _) = Pipeline::open(RealDisk, dir, CapstoneConfig::new(service::PARTITIONS))
        .expect("the service's files open again");
    let snapshot = pipeline
        .bookings()
        .snapshot()
        .expect("the consumer's database reads");
    let confirmed = snapshot
        .bookings
        .values()
        .filter(|line| line.starts_with("confirmed "))
        .count();
    assert_eq!(
        (snapshot.bookings.len(), confirmed),
        (bookings, bookings),
        "every booking taken by the service must end confirmed in the \
         consumer's database, which only the consumer writes"
    );
    assert_eq!(
        snapshot.processed.len(),
        2 * bookings,
        "each booking's request and payment must be processed once"
    );
    for partition in pipeline.partitions() {
        assert_eq!(
            pipeline.committed(partition),
            pipeline.log_end(partition).expect("the partition's end"),
            "the consumer of partition {partition} commits after the effect, \
             up to the end of the partition"
        );
    }
}

#[test]
fn a_flood_of_bookings_ends_confirmed_and_committed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = service::run(
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
        "every event's latency is measured once, when its round commits it"
    );
    assert!(
        run.relay_batches >= 2 && run.relay_batches < 100,
        "50 bookings at 32 a turn are published in a few relay batches, not \
         one per event: {} batches",
        run.relay_batches
    );
    assert_every_booking_confirmed_and_committed(dir.path(), 50);
}

#[test]
fn a_flood_with_write_ahead_logging_ends_confirmed_and_committed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let run = service::run(
        dir.path(),
        ServiceConfig {
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
    let run = service::run(dir.path(), config(FsyncPolicy::Never), 5, Load::OneAtATime)
        .unwrap_or_else(|error| panic!("the run failed: {error} ({error:?})"));
    assert_eq!(run.latencies.len(), 10, "one latency per event");
    assert_eq!(
        run.relay_batches, 5,
        "one booking a turn: the relay publishes each booking's two events \
         as one batch"
    );
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
    let result = service::run(
        dir.path(),
        config(FsyncPolicy::Never),
        service::MAX_BOOKINGS + 1,
        Load::Flood,
    );
    assert!(
        matches!(result, Err(service::ServiceError::TooManyBookings { .. })),
        "each booking needs a seat of its own, got {result:?}"
    );
}
