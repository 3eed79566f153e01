//! Exercise "replay": `DurableLog::replay_from` and `rebuild_bookings` in
//! src/replay.rs; then steps 08 and 09 running on the recovered log.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{P0, P1, config, open, open_sim, sim_dir};
use solution09_offsets::{CommitPolicy, RunOutcome, Service, run_until_crash};
use step10_recovery::{
    BookingEvent, BookingId, BookingState, CommitStore, Disk, DurableLog,
    FsyncPolicy, Offset, Partition, RealDisk, Record, ReplayError, SeatId,
    SimDisk, UserId, encode, rebuild_bookings,
};

/// Appends the events of three bookings: `paid` (requested, paid, and paid
/// again: a duplicate), `held` (requested) and `expired` (requested,
/// expired). Each booking's events go to one partition, chosen by the test.
fn book<D: Disk>(log: &DurableLog<D>) -> [BookingId; 3] {
    let [paid, held, expired] =
        [BookingId::new(), BookingId::new(), BookingId::new()];
    let request = |booking_id, seat: &str| BookingEvent::ReservationRequested {
        booking_id,
        seat_id: SeatId::parse(seat).expect("a seat"),
        user_id: UserId::new(),
    };
    let events = [
        (P0, request(paid, "A1")),
        (P1, request(held, "B2")),
        (P0, BookingEvent::PaymentReceived { booking_id: paid }),
        (P1, request(expired, "C3")),
        (P0, BookingEvent::PaymentReceived { booking_id: paid }),
        (
            P1,
            BookingEvent::ReservationExpired {
                booking_id: expired,
            },
        ),
    ];
    for (partition, event) in events {
        let key = event.booking_id().as_uuid().as_bytes().to_vec();
        log.append(partition, Record::new(key, encode(&event)))
            .expect("append");
    }
    [paid, held, expired]
}

fn rebuilt<D: Disk>(log: &DurableLog<D>) -> HashMap<BookingId, BookingState> {
    rebuild_bookings(log).unwrap_or_else(|e| panic!("rebuilding failed: {e}"))
}

#[test]
fn replay_starts_at_the_committed_offset_itself() {
    let disk = SimDisk::new(1);
    let (log, _) =
        open_sim(&disk, config(1, 1 << 20, FsyncPolicy::EveryRecord));
    for i in 0..5u8 {
        log.append(P0, Record::new("k", vec![i])).expect("append");
    }
    let replayed = log.replay_from(P0, Offset(2)).expect("partition 0 exists");
    let offsets: Vec<u64> =
        replayed.iter().map(|stored| stored.offset.0).collect();
    assert_eq!(
        offsets,
        [2, 3, 4],
        "the committed offset is the next record to read: replaying from 2 \
         starts with record 2, and goes to the end"
    );
    assert!(
        log.replay_from(P0, Offset(5))
            .expect("partition 0 exists")
            .is_empty(),
        "replaying from the log end gives nothing"
    );
}

#[test]
fn the_bookings_are_rebuilt_from_the_log() {
    let disk = SimDisk::new(2);
    let (log, _) =
        open_sim(&disk, config(2, 1 << 20, FsyncPolicy::EveryRecord));
    let [paid, held, expired] = book(&log);
    let states = rebuilt(&log);
    assert!(
        matches!(states.get(&paid), Some(BookingState::Confirmed { .. })),
        "requested then paid: Confirmed. The second payment is refused by \
         apply and must be skipped, not stop the rebuild; got {:?}",
        states.get(&paid)
    );
    assert!(
        matches!(states.get(&held), Some(BookingState::Held { .. })),
        "requested only: Held; got {:?}. Did you replay every partition?",
        states.get(&held)
    );
    assert!(
        matches!(states.get(&expired), Some(BookingState::Expired { .. })),
        "requested then expired: Expired; got {:?}. Did you replay every \
         partition?",
        states.get(&expired)
    );
    assert_eq!(states.len(), 3, "one state per booking, nothing else");
}

fn same_after_restart<D: Disk>(disk: &D, dir: &Path, crash: impl Fn()) {
    let cfg = config(2, 200, FsyncPolicy::EveryRecord);
    let before = {
        let (log, _) = open(disk, dir, cfg);
        book(&log);
        rebuilt(&log)
    };
    crash();
    let (log, _) = open(disk, dir, cfg);
    assert_eq!(
        rebuilt(&log),
        before,
        "the bookings rebuilt after a restart must equal those before it"
    );
}

#[test]
fn the_bookings_are_the_same_after_a_crash_and_a_restart() {
    let disk = SimDisk::new(3);
    same_after_restart(&disk, &sim_dir(), || disk.crash());
}

#[test]
fn the_bookings_are_the_same_after_a_restart_on_real_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    same_after_restart(&RealDisk, dir.path(), || {});
}

#[test]
fn a_record_that_is_not_an_event_stops_the_rebuild_with_its_offset() {
    let disk = SimDisk::new(4);
    let (log, _) =
        open_sim(&disk, config(2, 1 << 20, FsyncPolicy::EveryRecord));
    book(&log);
    log.append(P1, Record::new("k", "not protobuf \u{1}\u{2}\u{3}"))
        .expect("append");
    match rebuild_bookings(&log) {
        Err(ReplayError::Decode {
            partition, offset, ..
        }) => assert_eq!((partition, offset), (P1, Offset(3))),
        other => panic!(
            "record 3 of partition 1 is not a booking event: the rebuild must \
             stop with ReplayError::Decode naming it, not skip it; got {other:?}"
        ),
    }
}

#[test]
fn the_consumer_of_step_08_reads_the_recovered_log_from_the_committed_offset() {
    let disk = SimDisk::new(5);
    let cfg = config(2, 1 << 20, FsyncPolicy::EveryRecord);
    {
        let (log, _) = open_sim(&disk, cfg);
        book(&log);
        let mut commits =
            CommitStore::open(disk.clone(), &sim_dir()).expect("open");
        commits.store(P0, Offset(1)).expect("commit");
    }
    disk.crash();
    let (log, _) = open_sim(&disk, cfg);
    let commits = CommitStore::open(disk.clone(), &sim_dir()).expect("open");
    let start = commits.load().resume_at(P0);
    let mut consumer =
        solution08_stream::Consumer::new(log.memory(), vec![(P0, start)])
            .expect("one partition assigned");
    let mut offsets = Vec::new();
    while let Some(item) = consumer.next_ready() {
        offsets.push(item.expect("every record decodes").offset.0);
    }
    assert_eq!(
        offsets,
        [1, 2],
        "the restarted consumer resumes exactly at the committed offset 1"
    );
}

#[test]
fn the_pipeline_of_step_09_runs_on_the_recovered_log_and_commits_durably() {
    let disk = SimDisk::new(6);
    let cfg = config(2, 1 << 20, FsyncPolicy::EveryRecord);
    let partition = Partition(0);
    {
        let (log, _) = open_sim(&disk, cfg);
        book(&log);
    }
    disk.crash();
    let (log, _) = open_sim(&disk, cfg);
    let mut commits =
        CommitStore::open(disk.clone(), &sim_dir()).expect("open");
    let mut service = Service {
        committed: commits.load(),
        ..Service::default()
    };
    let outcome = run_until_crash(
        &log.memory(),
        partition,
        CommitPolicy::AfterEffect,
        None,
        &mut service,
    )
    .expect("the pipeline runs");
    let RunOutcome::CaughtUp { committed } = outcome else {
        panic!("no crash was planned, the pipeline must catch up: {outcome:?}")
    };
    assert_eq!(committed, log.end(partition).expect("partition 0 exists"));
    commits.store(partition, committed).expect("commit");
    disk.crash();
    let commits = CommitStore::open(disk.clone(), &sim_dir()).expect("open");
    assert_eq!(
        commits.committed(partition),
        Some(Offset(3)),
        "the commit made after the pipeline survives a crash"
    );
}
