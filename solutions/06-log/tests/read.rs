//! Exercise "read": `Log::read` in src/read.rs.

use std::sync::Arc;
use std::thread;

use proptest::prelude::*;
use solution06_log::{Log, LogError, Offset, Partition, Record, StoredRecord};

fn record(text: &str) -> Record {
    Record::new("seat-A12", text.to_owned())
}

/// A one-partition log holding `count` records, "record 0", "record 1", ...
fn log_holding(count: u64) -> Log {
    let log = Log::new(1).expect("a log with one partition must be created");
    for i in 0..count {
        log.append(Partition(0), record(&format!("record {i}")))
            .expect("appending to partition 0 must work (exercise \"append\")");
    }
    log
}

/// What `read` must return for offsets `range` of the log built by
/// `log_holding`.
fn stored(range: std::ops::Range<u64>) -> Vec<StoredRecord> {
    range
        .map(|i| StoredRecord {
            partition: Partition(0),
            offset: Offset(i),
            record: record(&format!("record {i}")),
        })
        .collect()
}

/// What a test that did not finish most likely shows.
const STUCK_IN_READ: &str = "the test did not finish: a `read` never returned. Does it \
    wait, in a loop, until the partition holds `max` records? `read` returns what is \
    there now, possibly nothing; waiting for more is a future's job (step 07)";

/// Runs the body of a test under a watchdog, so that a `read` that never
/// returns fails the test after a few seconds, with a message that says why,
/// instead of hanging it.
fn watched(body: impl FnOnce() + Send + 'static) {
    workshop_testkit::watchdog::within(
        std::time::Duration::from_secs(5),
        STUCK_IN_READ,
        body,
    )
}

/// Fails if a read past the end does not return at once, checked once under
/// the watchdog before the property runs any history: proptest tries many
/// histories, and would hang on the first one that reads past the end.
fn reads_return_without_waiting() -> Result<(), TestCaseError> {
    static CHECKED: std::sync::OnceLock<Result<(), String>> =
        std::sync::OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        std::panic::catch_unwind(|| {
            watched(|| {
                let _ = log_holding(1).read(Partition(0), Offset(0), 10);
            })
        })
        .map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a read panicked (see above)".to_owned())
        })
    });
    checked.clone().map_err(TestCaseError::fail)
}

/// Offsets only, to keep failure messages short.
fn offsets(records: &[StoredRecord]) -> Vec<u64> {
    records.iter().map(|r| r.offset.0).collect()
}

#[test]
fn reading_from_zero_returns_the_records_in_append_order() {
    watched(move || {
        let log = log_holding(3);
        let got = log.read(Partition(0), Offset(0), 10).unwrap();
        assert_eq!(
            got,
            stored(0..3),
            "reading from offset 0 must return every record, oldest first, each with its partition and offset"
        );
    });
}

#[test]
fn reading_from_the_middle_starts_at_that_offset() {
    watched(move || {
        let log = log_holding(6);
        let got = log.read(Partition(0), Offset(2), 3).unwrap();
        assert_eq!(
            offsets(&got),
            vec![2, 3, 4],
            "read(from: 2, max: 3) must return the records at offsets 2, 3, 4: an offset is the position in the partition, not in the Vec you return"
        );
        assert_eq!(
            got,
            stored(2..5),
            "the record at offset 2 is the third one appended"
        );
    });
}

#[test]
fn max_limits_how_many_records_come_back() {
    watched(move || {
        let log = log_holding(5);
        assert_eq!(
            log.read(Partition(0), Offset(1), 0).unwrap(),
            vec![],
            "read(max: 0) must return no record"
        );
        assert_eq!(
            offsets(&log.read(Partition(0), Offset(1), 1).unwrap()),
            vec![1],
            "read(from: 1, max: 1) must return exactly the record at offset 1"
        );
    });
}

#[test]
fn a_max_beyond_the_end_returns_what_is_left() {
    watched(move || {
        let log = log_holding(5);
        assert_eq!(
            offsets(&log.read(Partition(0), Offset(3), 100).unwrap()),
            vec![3, 4],
            "read(from: 3, max: 100) of a partition holding 5 records must return offsets 3 and 4 (and must not panic)"
        );
        assert_eq!(
            log.read(Partition(0), Offset(1), usize::MAX).unwrap(),
            stored(1..5),
            "read(from: 1, max: usize::MAX) means \"everything from offset 1 on\": it must return offsets 1 to 4, not overflow when adding max to from"
        );
    });
}

#[test]
fn reading_at_or_past_the_end_returns_nothing_rather_than_an_error() {
    watched(move || {
        let log = log_holding(3);
        for from in [3, 4, 1_000, u64::MAX] {
            let got = log.read(Partition(0), Offset(from), 10);
            assert_eq!(
                got,
                Ok(vec![]),
                "reading from offset {from} of a partition holding 3 records must return Ok with no records: a consumer that is caught up simply gets nothing"
            );
        }
    });
}

#[test]
fn an_empty_partition_reads_as_empty() {
    watched(move || {
        let log = Log::new(2).unwrap();
        assert_eq!(
            log.read(Partition(1), Offset(0), 10),
            Ok(vec![]),
            "reading a partition nobody has appended to must return Ok with no records"
        );
    });
}

#[test]
fn reading_an_unknown_partition_is_a_clear_error() {
    watched(move || {
        let log = Log::new(2).unwrap();
        assert_eq!(
            log.read(Partition(2), Offset(0), 10),
            Err(LogError::UnknownPartition {
                partition: Partition(2),
                partition_count: 2,
            }),
            "a 2-partition log has partitions 0 and 1: reading partition 2 must be refused with UnknownPartition, not panic and not return nothing"
        );
    });
}

#[test]
fn each_partition_returns_only_its_own_records() {
    watched(move || {
        let log = Log::new(2).unwrap();
        log.append(Partition(0), record("zero a")).unwrap();
        log.append(Partition(1), record("one a")).unwrap();
        log.append(Partition(0), record("zero b")).unwrap();
        let got = log.read(Partition(1), Offset(0), 10).unwrap();
        assert_eq!(
            got,
            vec![StoredRecord {
                partition: Partition(1),
                offset: Offset(0),
                record: record("one a"),
            }],
            "partition 1 holds one record, at its own offset 0, and says it came from partition 1"
        );
    });
}

#[test]
fn reading_twice_gives_the_same_records() {
    watched(move || {
        let log = log_holding(4);
        let first = log.read(Partition(0), Offset(1), 2).unwrap();
        let second = log.read(Partition(0), Offset(1), 2).unwrap();
        assert_eq!(
            first, second,
            "reading does not consume: the same read must return the same records again"
        );
    });
}

#[test]
fn each_record_is_stored_at_the_offset_its_append_returned() {
    watched(move || {
        const THREADS: usize = 4;
        const APPENDS: usize = 500;
        let log = Arc::new(Log::new(1).unwrap());
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let log = Arc::clone(&log);
                thread::spawn(move || {
                    (0..APPENDS)
                        .map(|i| {
                            let value = format!("thread {t} record {i}");
                            let offset = log
                                .append(Partition(0), record(&value))
                                .unwrap();
                            (offset, value)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            for (offset, value) in
                handle.join().expect("an appender thread panicked")
            {
                let got = log.read(Partition(0), offset, 1).unwrap();
                assert_eq!(
                    got.first().map(|r| &r.record),
                    Some(&record(&value)),
                    "append returned offset {offset} for {value:?}, so reading offset {offset} must return that record"
                );
            }
        }
    });
}

// ANCHOR: replay_property
/// One step of a generated history: append `value` to `partition`, or read.
#[derive(Clone, Debug)]
enum Step {
    Append {
        partition: u32,
        value: Vec<u8>,
    },
    Read {
        partition: u32,
        from: u64,
        max: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..3u32, prop::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(partition, value)| Step::Append { partition, value }),
        1 => (0..3u32, 0..24u64, 0..10usize)
            .prop_map(|(partition, from, max)| Step::Read { partition, from, max }),
    ]
}

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    /// Whatever the history, a read returns exactly what a plain `Vec` per
    /// partition says, and an earlier read returns the same records again
    /// later, after more appends: the log only grows at the end.
    #[test]
    fn every_read_is_replayable(steps in prop::collection::vec(step(), 1..60)) {
        reads_return_without_waiting()?;
        let log = Log::new(3).unwrap();
        let mut model: Vec<Vec<Record>> = vec![Vec::new(); 3];
        let mut earlier_reads = Vec::new();

        for step in steps {
            match step {
                Step::Append { partition, value } => {
                    let record = Record::new("key", value);
                    let offset = log.append(Partition(partition), record.clone()).unwrap();
                    let want = model[partition as usize].len() as u64;
                    prop_assert_eq!(offset, Offset(want), "append to partition {} returned the wrong offset", partition);
                    model[partition as usize].push(record);
                }
                Step::Read { partition, from, max } => {
                    let got = log.read(Partition(partition), Offset(from), max).unwrap();
                    let want = expected_read(&model, partition, from, max);
                    prop_assert_eq!(&got, &want, "read(partition {}, from {}, max {})", partition, from, max);
                    earlier_reads.push((partition, from, max, got));
                }
            }
        }

        for (partition, from, max, before) in earlier_reads {
            let again = log.read(Partition(partition), Offset(from), max).unwrap();
            // Records appended since then may extend a read that stopped at the
            // end, but what it returned before must come back unchanged.
            prop_assert_eq!(
                again.get(..before.len()),
                Some(&before[..]),
                "read(partition {}, from {}, max {}) returned different records the second time: a log is only appended to",
                partition, from, max
            );
        }
    }
}
// ANCHOR_END: replay_property

/// What `read(partition, from, max)` must return, computed from the test's
/// model: a plain `Vec` of records per partition, where the index of a record
/// is its offset. (Kept out of the part of this file the chapter shows, so that
/// the chapter does not hand you a working `read`.)
fn expected_read(
    model: &[Vec<Record>],
    partition: u32,
    from: u64,
    max: usize,
) -> Vec<StoredRecord> {
    model[partition as usize]
        .iter()
        .enumerate()
        .skip(from as usize)
        .take(max)
        .map(|(i, record)| StoredRecord {
            partition: Partition(partition),
            offset: Offset(i as u64),
            record: record.clone(),
        })
        .collect()
}
