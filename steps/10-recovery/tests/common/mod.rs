//! Helpers shared by this step's tests.

// Each test file uses some of these helpers, never all of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use step10_recovery::{
    COMMIT_FILE, COMMIT_TEMP_FILE, CommitStore, Disk, DurableLog, FsyncPolicy,
    LogConfig, Offset, Partition, Record, RecoveryReport, SimDisk,
    encode_frame, segment_file_name,
};

pub const P0: Partition = Partition(0);
pub const P1: Partition = Partition(1);

/// The directory every simulated log lives in.
pub fn sim_dir() -> PathBuf {
    PathBuf::from("/workshop/log")
}

/// The path of the segment of `partition` that starts at `base`.
pub fn segment_path(dir: &Path, partition: Partition, base: u64) -> PathBuf {
    dir.join(format!("partition-{partition}"))
        .join(segment_file_name(Offset(base)))
}

/// The `i`th record of a workload: keys and values of different lengths, so
/// that an off-by-one in a length shows up as a wrong record.
pub fn record(i: u64) -> Record {
    Record::new(
        format!("key-{i}"),
        format!("value {i} {}", "x".repeat((i % 7) as usize)),
    )
}

/// A configuration with `partitions` partitions, segments of `segment_bytes`
/// and the fsync policy `fsync`.
pub fn config(
    partitions: u32,
    segment_bytes: u64,
    fsync: FsyncPolicy,
) -> LogConfig {
    LogConfig {
        partition_count: partitions,
        segment_bytes,
        fsync,
    }
}

/// Opens the log in `dir`, failing the test with the error if it cannot.
pub fn open<D: Disk>(
    disk: &D,
    dir: &Path,
    config: LogConfig,
) -> (DurableLog<D>, RecoveryReport) {
    DurableLog::open(disk.clone(), dir, config)
        .unwrap_or_else(|e| panic!("opening the log failed: {e} ({e:?})"))
}

/// Opens a simulated log in [`sim_dir`].
pub fn open_sim(
    disk: &SimDisk,
    config: LogConfig,
) -> (DurableLog<SimDisk>, RecoveryReport) {
    open(disk, &sim_dir(), config)
}

/// Every record of `partition`, in offset order, checking that the offsets
/// are 0, 1, 2, ... with none missing or repeated.
pub fn records<D: Disk>(
    log: &DurableLog<D>,
    partition: Partition,
) -> Vec<Record> {
    let stored = log
        .read(partition, Offset(0), usize::MAX)
        .unwrap_or_else(|e| panic!("reading partition {partition}: {e}"));
    for (index, stored) in stored.iter().enumerate() {
        assert_eq!(
            stored.offset,
            Offset(index as u64),
            "partition {partition} must hold exactly one record per offset, from 0 with no gap"
        );
    }
    stored.into_iter().map(|stored| stored.record).collect()
}

/// The frames of `records` at offsets `base`, `base + 1`, ..., one after the
/// other: the bytes a segment holding them must have.
pub fn frames(base: u64, records: &[Record]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (offset, record) in (base..).zip(records) {
        encode_frame(Offset(offset), record, &mut bytes)
            .expect("a small record fits in a frame");
    }
    bytes
}

/// Where each frame of `frames(base, records)` starts, and where the last ends.
pub fn boundaries(records: &[Record]) -> Vec<usize> {
    let mut at = vec![0];
    for record in records {
        let mut one = Vec::new();
        encode_frame(Offset(0), record, &mut one)
            .expect("a small record fits in a frame");
        at.push(at.last().copied().unwrap_or(0) + one.len());
    }
    at
}

/// Whether the crash workload commits offsets too. The recover exercise runs
/// it without (it must pass before the commit store is written), the commit
/// exercise with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commits {
    Without,
    With,
}

/// What the crash workload was told, as the acks and syncs came back.
#[derive(Default)]
pub struct Promises {
    /// Per partition: every record appended, in order, acknowledged or not.
    pub appended: [Vec<Record>; 2],
    /// Per partition: how many records a durable ack or a sync promised.
    pub durable: [usize; 2],
    /// The last committed offset of partition 0 whose store returned `Ok`.
    pub committed: Option<Offset>,
}

/// A small workload on two partitions with segments of about three records:
/// appends, syncs under `Never`, and (with [`Commits::With`]) a commit of
/// partition 0 every fourth record. It stops at the first failure, as a
/// machine that lost power does.
pub fn crash_workload(
    disk: &SimDisk,
    fsync: FsyncPolicy,
    commits: Commits,
    promises: &mut Promises,
) {
    let dir = sim_dir();
    let cfg = config(2, 100, fsync);
    let Ok((log, _)) = DurableLog::open(disk.clone(), &dir, cfg) else {
        return;
    };
    let mut store = None;
    if commits == Commits::With {
        let Ok(opened) = CommitStore::open(disk.clone(), &dir) else {
            return;
        };
        store = Some(opened);
    }
    for i in 0..10u64 {
        let partition = Partition((i % 2) as u32);
        let slot = partition.index();
        promises.appended[slot].push(record(i));
        let Ok(ack) = log.append(partition, record(i)) else {
            return;
        };
        if ack.durable {
            promises.durable[slot] = ack.offset.0 as usize + 1;
        }
        if fsync == FsyncPolicy::Never && i % 3 == 2 {
            if log.sync().is_err() {
                return;
            }
            promises.durable = promises.appended.each_ref().map(Vec::len);
        }
        if let Some(store) = store.as_mut()
            && i % 4 == 3
        {
            // A careful consumer commits only what is on disk.
            let Ok(next) = log.durable_end(P0) else {
                return;
            };
            if store.store(P0, next).is_err() {
                return;
            }
            promises.committed = Some(next);
        }
    }
}

/// Checks invariants 1, 2 and 3 (and 6 with [`Commits::With`]) after a crash
/// at operation `stop`.
pub fn check_crash_recovery(
    disk: &SimDisk,
    fsync: FsyncPolicy,
    commits: Commits,
    stop: u64,
    promises: &Promises,
) {
    let cfg = config(2, 100, fsync);
    let what = format!("{fsync:?}, crash after {stop} disk operations");
    let (log, _) = DurableLog::open(disk.clone(), &sim_dir(), cfg).unwrap_or_else(|e| {
        panic!("{what}: a crash only tears the end of files, so recovery must succeed: {e}")
    });
    let mut ends = [0; 2];
    for partition in [P0, P1] {
        let slot = partition.index();
        // Invariant 2: one record per offset (checked by `records`).
        let recovered = records(&log, partition);
        // Invariant 3: every record read is one that was written, at its
        // offset.
        assert!(
            promises.appended[slot].starts_with(&recovered),
            "{what}: partition {partition} came back with records that were \
             never appended there, or in another order"
        );
        // Invariant 1: nothing acknowledged as durable is lost.
        assert!(
            recovered.len() >= promises.durable[slot],
            "{what}: partition {partition} had {} records acknowledged as \
             durable, and only {} came back",
            promises.durable[slot],
            recovered.len()
        );
        ends[slot] = recovered.len();
    }
    if commits == Commits::With {
        check_commits_after_crash(disk, &what, promises, ends[0]);
    }
    // Invariant 3, second half: recovering again, after another crash, gives
    // the same log.
    drop(log);
    disk.crash();
    let (again, report) = DurableLog::open(disk.clone(), &sim_dir(), cfg)
        .unwrap_or_else(|e| panic!("{what}: the second recovery failed: {e}"));
    for partition in [P0, P1] {
        assert_eq!(
            records(&again, partition).len(),
            ends[partition.index()],
            "{what}: recovering twice must give the same log"
        );
        assert_eq!(
            report.partitions[partition.index()].torn_tail,
            None,
            "{what}: the first recovery must leave nothing torn"
        );
    }
}

/// Invariant 6: committed offsets never go back and never pass the log end
/// (`log_end`, partition 0's recovered end).
fn check_commits_after_crash(
    disk: &SimDisk,
    what: &str,
    promises: &Promises,
    log_end: usize,
) {
    let commits =
        CommitStore::open(disk.clone(), &sim_dir()).unwrap_or_else(|e| {
            panic!(
                "{what}: the commit file must survive any crash, and it came \
                 back damaged ({e}). Never write {COMMIT_FILE} in place: write \
                 {COMMIT_TEMP_FILE}, fsync it, and only then rename it"
            )
        });
    let committed = commits.committed(P0);
    assert!(
        committed >= promises.committed,
        "{what}: offset {:?} was committed (store returned Ok), and \
         {committed:?} came back: the crash undid the rename. Fsync the \
         directory after the rename, before store returns",
        promises.committed
    );
    assert!(
        committed.unwrap_or(Offset(0)).0 as usize <= log_end,
        "{what}: the committed offset {committed:?} is past the recovered log \
         end {log_end}"
    );
}

// ANCHOR: crash_every_point
/// Runs the crash workload once without a crash to count its disk
/// operations, then once per count `stop` from 0 to that total: the disk
/// stops after `stop` operations, crashes, and the log is recovered and
/// checked. Each run has its own seed, so each crash keeps a different part
/// of what was not synced.
pub fn crash_at_every_operation(commits: Commits) {
    for fsync in [
        FsyncPolicy::EveryRecord,
        FsyncPolicy::EveryRecords(3),
        FsyncPolicy::Never,
    ] {
        // How many operations the whole workload takes without a crash.
        let total = {
            let disk = SimDisk::new(0);
            crash_workload(&disk, fsync, commits, &mut Promises::default());
            disk.operations()
        };
        for stop in 0..=total {
            let disk = SimDisk::new(stop);
            disk.fail_after(stop);
            let mut promises = Promises::default();
            crash_workload(&disk, fsync, commits, &mut promises);
            disk.crash();
            check_crash_recovery(&disk, fsync, commits, stop, &promises);
        }
    }
}
// ANCHOR_END: crash_every_point
