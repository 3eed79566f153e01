//! Helpers shared by this step's tests.

// Each test file uses some of these helpers, never all of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use solution10_recovery::{
    Disk, DurableLog, FsyncPolicy, LogConfig, Offset, Partition, Record,
    RecoveryReport, SimDisk, encode_frame, segment_file_name,
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
