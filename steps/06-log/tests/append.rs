//! Exercise "append": `Log::new`, `Log::append` and `Log::high_watermark` in
//! src/log.rs.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;

use step06_log::{Log, LogError, Offset, Partition, Record};

fn record(text: &str) -> Record {
    Record::new("seat-A12", text.to_owned())
}

fn log_with(partitions: u32) -> Log {
    Log::new(partitions)
        .expect("a log with at least one partition must be created")
}

#[test]
fn a_new_log_has_as_many_partitions_as_asked_for() {
    let log = log_with(3);
    assert_eq!(
        log.partition_count(),
        3,
        "Log::new(3) must create 3 partitions"
    );
}

#[test]
fn a_log_without_partitions_is_refused() {
    let result = Log::new(0);
    assert!(
        matches!(result, Err(LogError::NoPartitions)),
        "Log::new(0) must return Err(LogError::NoPartitions): a log without partitions could store nothing, got {result:?}"
    );
}

#[test]
fn the_first_record_gets_offset_zero() {
    let log = log_with(1);
    let offset = log.append(Partition(0), record("first")).unwrap();
    assert_eq!(
        offset,
        Offset(0),
        "the first record of a partition is at offset 0: an offset is a position, like an index into a Vec"
    );
}

#[test]
fn offsets_are_dense_and_strictly_increasing() {
    let log = log_with(1);
    let offsets: Vec<Offset> = (0..5)
        .map(|i| {
            log.append(Partition(0), record(&format!("record {i}")))
                .unwrap()
        })
        .collect();
    assert_eq!(
        offsets,
        vec![Offset(0), Offset(1), Offset(2), Offset(3), Offset(4)],
        "five appends to one partition must get offsets 0, 1, 2, 3, 4: no gap, no repeat"
    );
}

#[test]
fn an_empty_partition_has_high_watermark_zero() {
    let log = log_with(2);
    assert_eq!(
        log.high_watermark(Partition(1)).unwrap(),
        Offset(0),
        "an empty partition's high watermark is 0: the offset its first record will get"
    );
}

#[test]
fn the_high_watermark_is_the_offset_the_next_append_gets() {
    let log = log_with(1);
    for i in 0..4 {
        let before = log.high_watermark(Partition(0)).unwrap();
        let offset = log
            .append(Partition(0), record(&format!("record {i}")))
            .unwrap();
        assert_eq!(
            offset, before,
            "the high watermark is the offset the next append will get: it was {before} before the append, but the append returned {offset}"
        );
        assert_eq!(
            log.high_watermark(Partition(0)).unwrap(),
            offset.next(),
            "after appending at offset {offset}, the high watermark is {}: one past the last record, not the last record itself",
            offset.next()
        );
    }
}

#[test]
fn each_partition_numbers_its_own_records() {
    let log = log_with(3);
    let mut got = Vec::new();
    for partition in [0, 1, 0, 2, 0, 1] {
        let offset = log.append(Partition(partition), record("x")).unwrap();
        got.push((partition, offset.0));
    }
    assert_eq!(
        got,
        vec![(0, 0), (1, 0), (0, 1), (2, 0), (0, 2), (1, 1)],
        "(partition, offset) of six appends: offsets count per partition, so each partition starts at 0 and an append to one partition does not move another's offsets"
    );
    let watermarks: Vec<u64> = (0..3)
        .map(|p| log.high_watermark(Partition(p)).unwrap().0)
        .collect();
    assert_eq!(
        watermarks,
        vec![3, 2, 1],
        "high watermarks of partitions 0, 1, 2 after 3, 2 and 1 appends"
    );
}

#[test]
fn an_unknown_partition_is_refused_with_a_clear_error() {
    let log = log_with(3);
    let want = LogError::UnknownPartition {
        partition: Partition(3),
        partition_count: 3,
    };
    assert_eq!(
        log.append(Partition(3), record("x")),
        Err(want.clone()),
        "partitions of a 3-partition log are numbered 0, 1, 2: appending to partition 3 must be refused, not panic"
    );
    assert_eq!(
        log.high_watermark(Partition(3)),
        Err(want.clone()),
        "the high watermark of partition 3 of a 3-partition log must be refused, not panic"
    );
    let message = want.to_string();
    assert!(
        message.contains("partition 3") && message.contains("0 to 2"),
        "the error must name the partition and the valid range, got: {message}"
    );
}

#[test]
fn a_refused_append_stores_nothing() {
    let log = log_with(2);
    let _ = log.append(Partition(7), record("lost"));
    let watermarks: Vec<Offset> = (0..2)
        .map(|p| log.high_watermark(Partition(p)).unwrap())
        .collect();
    assert_eq!(
        watermarks,
        vec![Offset(0), Offset(0)],
        "an append to a partition that does not exist must not land in another partition"
    );
}

// ANCHOR: concurrent
#[test]
fn concurrent_appenders_never_share_or_skip_an_offset() {
    const THREADS: usize = 4;
    const APPENDS: usize = 20_000;
    let log = Arc::new(log_with(1));
    // All threads start appending at the same moment, so that appends overlap.
    let start = Arc::new(Barrier::new(THREADS));

    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = Arc::clone(&log);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..APPENDS)
                    .map(|i| {
                        let value = format!("thread {t} record {i}");
                        log.append(Partition(0), record(&value)).unwrap().0
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let per_thread: Vec<Vec<u64>> = handles
        .into_iter()
        .map(|h| h.join().expect("an appender thread panicked"))
        .collect();

    for (t, offsets) in per_thread.iter().enumerate() {
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "thread {t} appended one record after another, so its offsets must strictly increase"
        );
    }
    let all: Vec<u64> = per_thread.into_iter().flatten().collect();
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    let total = (THREADS * APPENDS) as u64;
    assert_eq!(
        distinct.len(),
        all.len(),
        "{} of {} appends got an offset that another append also got: choose the offset and push under one lock",
        all.len() - distinct.len(),
        all.len()
    );
    assert_eq!(
        distinct,
        (0..total).collect::<BTreeSet<u64>>(),
        "{THREADS} threads x {APPENDS} appends must get exactly the offsets 0 to {}, with no gap",
        total - 1
    );
    assert_eq!(
        log.high_watermark(Partition(0)).unwrap(),
        Offset(total),
        "after {total} appends the high watermark is {total}"
    );
}
// ANCHOR_END: concurrent
