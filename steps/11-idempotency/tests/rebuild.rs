//! Exercise "rebuild": `rebuild` in src/producer_log.rs, and the idempotent
//! log on step 10's simulated disk, across restarts and crashes.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use common::requested;
use step11_idempotency::{
    BatchAck, BatchHeader, DurableLog, FsyncPolicy, IdempotentLog,
    IdempotentProducer, LogConfig, Offset, OpenError, Partition, ProduceError,
    ProducerBatch, ProducerId, REBUILD_READ, Record, Sequence, SequenceError,
    SimDisk,
};

const P0: Partition = Partition(0);
const P1: Partition = Partition(1);

fn dir() -> PathBuf {
    PathBuf::from("/workshop/log")
}

fn config() -> LogConfig {
    LogConfig {
        partition_count: 2,
        segment_bytes: 4096,
        fsync: FsyncPolicy::EveryRecord,
    }
}

/// Opens the idempotent log on `disk`, as the broker does when it starts.
fn open(disk: &SimDisk) -> IdempotentLog<SimDisk> {
    match IdempotentLog::open(disk.clone(), &dir(), config()) {
        Ok((log, _report)) => log,
        Err(e) => panic!("opening the log failed: {e} ({e:?})"),
    }
}

/// A batch of `n` fresh events.
fn next_batch(
    producer: &mut IdempotentProducer,
    partition: Partition,
    n: usize,
) -> ProducerBatch {
    let events = (0..n).map(|_| requested("A1").1).collect();
    producer.batch(partition, events)
}

fn produce(
    log: &IdempotentLog<SimDisk>,
    partition: Partition,
    batch: &ProducerBatch,
) -> BatchAck {
    log.produce(partition, batch).unwrap_or_else(|e| {
        panic!(
            "producing sequences {}.. to partition {partition} failed: {e} ({e:?})",
            batch.first_sequence
        )
    })
}

fn end(log: &IdempotentLog<SimDisk>, partition: Partition) -> Offset {
    log.durable().end(partition).expect("the partition exists")
}

#[test]
fn a_retried_batch_gets_its_original_offset_and_nothing_is_appended() {
    let disk = SimDisk::new(1);
    let log = open(&disk);
    let mut producer = IdempotentProducer::new();
    let first = next_batch(&mut producer, P0, 2);
    let second = next_batch(&mut producer, P0, 1);
    let acked = produce(&log, P0, &first);
    produce(&log, P0, &second);
    let retry = produce(&log, P0, &first);
    assert_eq!(
        (retry.offset, retry.duplicate),
        (acked.offset, true),
        "a retry of the first batch must be answered with its original offset, as a duplicate"
    );
    assert_eq!(
        end(&log, P0),
        Offset(2),
        "a duplicate appends nothing: two batches, two records"
    );
}

#[test]
fn after_a_restart_a_retry_still_gets_its_original_offset() {
    let disk = SimDisk::new(2);
    let mut producer = IdempotentProducer::new();
    let batches: Vec<_> =
        (0..3).map(|_| next_batch(&mut producer, P0, 2)).collect();
    let acks: Vec<_> = {
        let log = open(&disk);
        batches
            .iter()
            .map(|batch| produce(&log, P0, batch))
            .collect()
    }; // The log process stops here: its producer table in memory is gone.
    let log = open(&disk);
    for (batch, ack) in batches.iter().zip(&acks) {
        let retry = produce(&log, P0, batch);
        assert_eq!(
            (retry.offset, retry.duplicate),
            (ack.offset, true),
            "after the restart, the retry of sequences {}.. must still be a duplicate at offset \
             {}: open must rebuild the producer table from the log",
            batch.first_sequence,
            ack.offset
        );
    }
    assert_eq!(
        end(&log, P0),
        Offset(3),
        "nothing was appended by the retries"
    );
}

#[test]
fn after_a_restart_the_log_expects_the_next_sequence() {
    let disk = SimDisk::new(3);
    let mut producer = IdempotentProducer::new();
    let first = next_batch(&mut producer, P0, 3);
    produce(&open(&disk), P0, &first);
    let log = open(&disk);
    assert_eq!(
        log.last_sequence(producer.id(), P0),
        Some(Sequence(2)),
        "the log wrote sequences 0 to 2 of this producer before the restart"
    );
    let skipped = ProducerBatch {
        first_sequence: Sequence(4),
        ..next_batch(&mut IdempotentProducer::with_id(producer.id()), P0, 1)
    };
    let result = log.produce(P0, &skipped);
    assert!(
        matches!(
            result,
            Err(ProduceError::Sequence(SequenceError::Gap {
                expected: Sequence(3),
                ..
            }))
        ),
        "after the restart a batch starting at 4 skips sequence 3 and must be refused as a Gap, \
         got {result:?}"
    );
    let next = next_batch(&mut producer, P0, 1);
    assert!(
        !produce(&log, P0, &next).duplicate,
        "the batch starting at 3 is new"
    );
}

#[test]
fn every_record_of_every_partition_is_read_back() {
    let disk = SimDisk::new(4);
    let mut producer = IdempotentProducer::new();
    let count = REBUILD_READ + 6;
    let mut last = None;
    {
        let log = open(&disk);
        for _ in 0..count {
            let batch = next_batch(&mut producer, P0, 1);
            last = Some((produce(&log, P0, &batch), batch));
        }
        let other = next_batch(&mut producer, P1, 1);
        produce(&log, P1, &other);
    }
    let log = open(&disk);
    let Some((ack, batch)) = last else {
        panic!("the test produced batches")
    };
    let retry = produce(&log, P0, &batch);
    assert_eq!(
        (retry.offset, retry.duplicate),
        (ack.offset, true),
        "the last of {count} batches must be remembered after the restart: one read of \
         REBUILD_READ ({REBUILD_READ}) records is not the whole partition, read until a read \
         comes back empty"
    );
    assert_eq!(
        log.last_sequence(producer.id(), P1),
        Some(Sequence(0)),
        "partition 1 must be rebuilt too"
    );
}

#[test]
fn a_record_that_is_not_a_batch_stops_the_open_and_says_where() {
    let disk = SimDisk::new(5);
    {
        let (log, _) = DurableLog::open(disk.clone(), &dir(), config())
            .expect("the durable log opens");
        log.append(P1, Record::new("k", &b"a plain record"[..]))
            .expect("the append succeeds");
    }
    match IdempotentLog::open(disk.clone(), &dir(), config()) {
        Err(OpenError::NotABatch {
            partition, offset, ..
        }) => {
            assert_eq!((partition, offset), (P1, Offset(0)));
        }
        Err(other) => panic!("expected OpenError::NotABatch, got {other}"),
        Ok(_) => panic!(
            "a log holding a record that is no batch cannot rebuild its producer table: open \
             must fail with OpenError::NotABatch"
        ),
    }
}

/// What a producer that retries until it gets an answer ends with, when the
/// disk fails after `operations` operations and the broker crashes and
/// restarts: the ack of every batch.
fn produce_through_a_crash(
    seed: u64,
    operations: Option<u64>,
) -> (SimDisk, Vec<BatchAck>, u64) {
    let disk = SimDisk::new(seed);
    let mut log = open(&disk);
    let opened = disk.operations();
    if let Some(operations) = operations {
        disk.fail_after(operations);
    }
    let mut producer = IdempotentProducer::with_id(ProducerId(9));
    let batches: Vec<_> = [P0, P1, P0, P0, P1, P0]
        .into_iter()
        .enumerate()
        .map(|(n, partition)| {
            (partition, next_batch(&mut producer, partition, 1 + n % 3))
        })
        .collect();
    let mut acks = Vec::new();
    for (partition, batch) in &batches {
        let mut attempts = 0;
        let ack = loop {
            attempts += 1;
            assert!(attempts < 5, "a batch was refused again and again");
            match log.produce(*partition, batch) {
                Ok(ack) => break ack,
                Err(ProduceError::Append(_)) => {
                    // The broker dies; the disk keeps what a power cut keeps.
                    drop(log);
                    disk.crash();
                    log = open(&disk);
                }
                Err(other) => {
                    panic!("the retry of a batch was refused: {other}")
                }
            }
        };
        acks.push(ack);
    }
    let used = disk.operations() - opened;
    (disk, acks, used)
}

#[test]
fn with_a_crash_at_any_disk_operation_each_sequence_is_stored_once() {
    let (_, _, operations) = produce_through_a_crash(0, None);
    let mut wrong = Vec::new();
    for fail_after in 0..operations {
        let (disk, acks, _) =
            produce_through_a_crash(fail_after, Some(fail_after));
        // And a power cut at the end: every batch was acked after its fsync.
        disk.crash();
        let log = open(&disk);
        let mut stored = HashSet::new();
        let mut offsets = BTreeMap::new();
        for partition in [P0, P1] {
            let records = log
                .durable()
                .read(partition, Offset(0), 1000)
                .expect("the partition exists");
            for record in records {
                let header = BatchHeader::decode(&record.record.value)
                    .expect("every record is a batch");
                for sequence in header.first_sequence.0..=header.last_sequence.0
                {
                    if !stored.insert((header.producer_id, partition, sequence))
                    {
                        wrong.push(format!(
                            "disk failing after {fail_after} operations: sequence {sequence} \
                             of partition {partition} is stored twice"
                        ));
                    }
                }
                offsets
                    .insert((partition, header.first_sequence), record.offset);
            }
        }
        for ack in &acks {
            if offsets.get(&(ack.partition, ack.first_sequence))
                != Some(&ack.offset)
            {
                wrong.push(format!(
                    "disk failing after {fail_after} operations: the batch acked at partition \
                     {}, offset {} is not there after recovery",
                    ack.partition, ack.offset
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "each (producer, partition, sequence) must be stored at most once, and every acked \
         batch must stay at its acked offset:\n{}",
        wrong.join("\n")
    );
}
