//! What durability costs: the durable log beside raw loops that write and
//! read the same bytes, on real files, in one run.
//!
//! Run from the repository root (under ten seconds after the build):
//!
//! ```sh
//! cargo bench -p solution10-recovery --bench durability
//! ```
//!
//! Each line compares the log with a raw loop doing the same disk work:
//!
//! - `append, <policy>`: `DurableLog::append` of 100-byte records on
//!   `RealDisk`, against a loop that writes the same frames with `write_all`
//!   and calls `sync_data` at the same moments (after every record, after
//!   every 100, every 5 ms, never). The ratio is log / raw: how much of the
//!   disk's speed the log keeps. The first line's raw rate is the machine's
//!   fsync-per-record rate, the physical limit of `EveryRecord`.
//! - `recovery scan`: reading the segments of a log of 200,000 records (24
//!   MB, in the page cache) and checking every frame with `scan_segment`,
//!   against a raw loop that reads the same files and computes the CRC-32C of
//!   every frame's body, walking the frames by their lengths and checking
//!   nothing else.
//! - `open (scan + memory log)`: all of `DurableLog::open`, which also fills
//!   step 06's in-memory log (a lock and a push per record), against the
//!   same raw loop.
//!
//! The disk is shared and noisy, so the log and the raw loop take turns, five
//! rounds each, and each side reports its median: a slow moment hits both
//! sides, not one. Criterion measures one side after the other, which on a
//! shared machine measures the neighbours as much as the code; this bench
//! uses a plain `main` instead.

use std::fs::OpenOptions;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use solution10_recovery::{
    DurableLog, FsyncPolicy, LogConfig, Offset, Partition, RealDisk, Record,
    encode_frame, parse_segment_file_name, scan_segment,
};

const ROUNDS: usize = 5;
const P0: Partition = Partition(0);

/// A record of 100 bytes, key and value: small, so that the fsync, not the
/// copying, sets the rate.
fn record() -> Record {
    Record::new(vec![b'k'; 16], vec![b'v'; 84])
}

fn config(fsync: FsyncPolicy) -> LogConfig {
    LogConfig {
        partition_count: 1,
        // Large segments: rolling is not what this measures.
        segment_bytes: 1 << 30,
        fsync,
    }
}

/// Records per second of `count` appends through the durable log.
fn log_rate(dir: &Path, fsync: FsyncPolicy, count: usize) -> f64 {
    let (log, _) = DurableLog::open(RealDisk, dir, config(fsync))
        .expect("the benchmark's log opens");
    let record = record();
    let start = Instant::now();
    for _ in 0..count {
        black_box(log.append(P0, record.clone()).expect("append"));
    }
    count as f64 / start.elapsed().as_secs_f64()
}

/// Records per second of a loop writing the same frames to `path` with the
/// fsync cadence of `fsync`.
fn raw_rate(path: &Path, fsync: FsyncPolicy, count: usize) -> f64 {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the raw file opens");
    let mut frame = Vec::new();
    encode_frame(Offset(0), &record(), &mut frame).expect("fits");
    let mut unsynced = 0u32;
    let mut last_sync = Instant::now();
    let start = Instant::now();
    for _ in 0..count {
        file.write_all(&frame).expect("write");
        unsynced += 1;
        let sync = match fsync {
            FsyncPolicy::EveryRecord => true,
            FsyncPolicy::EveryRecords(n) => unsynced >= n,
            FsyncPolicy::Interval(t) => last_sync.elapsed() >= t,
            FsyncPolicy::Never => false,
        };
        if sync {
            file.sync_data().expect("sync");
            unsynced = 0;
            last_sync = Instant::now();
        }
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn append(name: &str, fsync: FsyncPolicy, count: usize) {
    let (mut logged, mut raw) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // Who goes first changes every round, so that neither side always
        // meets the disk right after the other has filled its cache.
        if round % 2 == 0 {
            raw.push(raw_rate(&dir.path().join("raw"), fsync, count));
            logged.push(log_rate(&dir.path().join("log"), fsync, count));
        } else {
            logged.push(log_rate(&dir.path().join("log"), fsync, count));
            raw.push(raw_rate(&dir.path().join("raw"), fsync, count));
        }
    }
    let (logged, raw) = (median(logged), median(raw));
    println!(
        "append, {name:<23} log {logged:>11.0} rec/s   raw {raw:>11.0} rec/s   ratio {:.2}",
        logged / raw
    );
}

/// Reads `segments` and computes the CRC-32C of every frame's body, walking
/// the frames by their length fields and checking nothing else: the least
/// work that still reads and checksums every record.
fn raw_read_and_checksum(segments: &[PathBuf]) -> u32 {
    let mut checksum = 0;
    for path in segments {
        let bytes = std::fs::read(path).expect("read");
        let mut at = 0;
        while at + 8 <= bytes.len() {
            let mut length = [0; 4];
            length.copy_from_slice(&bytes[at..at + 4]);
            let end = at + 8 + u32::from_le_bytes(length) as usize;
            if end > bytes.len() {
                break;
            }
            checksum ^= crc32c::crc32c(&bytes[at + 8..end]);
            at = end;
        }
    }
    checksum
}

/// Reads `segments` and scans each with `scan_segment`: the recovery scan
/// without the rest of `open`.
fn scan_all(segments: &[PathBuf]) -> usize {
    let mut count = 0;
    for path in segments {
        let bytes = Bytes::from(std::fs::read(path).expect("read"));
        let base = path
            .file_name()
            .and_then(|name| parse_segment_file_name(name.to_str()?))
            .expect("a segment name");
        let scan = scan_segment(&bytes, base, path).expect("a clean segment");
        count += scan.records.len();
    }
    count
}

fn recovery() {
    const RECORDS: usize = 200_000;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cfg = LogConfig {
        segment_bytes: 4 << 20,
        ..config(FsyncPolicy::Never)
    };
    {
        let (log, _) =
            DurableLog::open(RealDisk, dir.path(), cfg).expect("the log opens");
        for _ in 0..RECORDS {
            log.append(P0, record()).expect("append");
        }
        log.sync().expect("sync");
    }
    let mut segments: Vec<PathBuf> =
        std::fs::read_dir(dir.path().join("partition-0"))
            .expect("the partition directory")
            .map(|entry| entry.expect("an entry").path())
            .collect();
    segments.sort();
    let rate = |start: Instant| RECORDS as f64 / start.elapsed().as_secs_f64();
    let (mut raw, mut scanned, mut opened) =
        (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        black_box(raw_read_and_checksum(&segments));
        raw.push(rate(start));

        let start = Instant::now();
        assert_eq!(black_box(scan_all(&segments)), RECORDS);
        scanned.push(rate(start));

        let start = Instant::now();
        let (log, _) =
            DurableLog::open(RealDisk, dir.path(), cfg).expect("recovery");
        black_box(&log);
        opened.push(rate(start));
        drop(log);
    }
    let raw = median(raw);
    for (name, rates) in [
        ("recovery scan", scanned),
        ("open (scan + memory log)", opened),
    ] {
        let logged = median(rates);
        println!(
            "{name:<31} log {logged:>11.0} rec/s   raw {raw:>11.0} rec/s   ratio {:.2}",
            logged / raw
        );
    }
}

fn main() {
    // `cargo test --benches` runs this with `--bench` missing: keep it quick.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|arg| arg == "--bench") {
        return;
    }
    // `cargo bench ... -- recovery` runs only the lines whose name has
    // "recovery" in it.
    let filter = args.iter().find(|arg| !arg.starts_with("--"));
    let run = |name: &str| filter.is_none_or(|f| name.contains(f.as_str()));
    let policies = [
        ("every record", FsyncPolicy::EveryRecord, 200),
        ("every 100 records", FsyncPolicy::EveryRecords(100), 5_000),
        (
            "every 5 ms",
            FsyncPolicy::Interval(Duration::from_millis(5)),
            20_000,
        ),
        ("never", FsyncPolicy::Never, 50_000),
    ];
    for (name, fsync, count) in policies {
        if run(&format!("append, {name}")) {
            append(name, fsync, count);
        }
    }
    if run("recovery") {
        recovery();
    }
}
