//! Exercise "push": `PartitionBuffers::push` in src/buffers.rs, the size limit.

mod common;

use common::{LINGER, batch_names, config, ms, names, record};
use proptest::prelude::*;
use solution04_batching::{Partition, PartitionBuffers, Record};
use tokio::time::Instant;

const P0: Partition = Partition(0);
const P1: Partition = Partition(1);

fn no_batches() -> Vec<(u32, Vec<String>)> {
    Vec::new()
}

fn batch(partition: u32, records: &[&str]) -> (u32, Vec<String>) {
    (partition, records.iter().map(|r| r.to_string()).collect())
}

#[test]
fn records_below_the_limit_wait_in_their_batch() {
    let now = Instant::now();
    let mut buffers = PartitionBuffers::new(config(100, LINGER));
    for name in ["a1", "a2", "a3"] {
        let ready = buffers.push(P0, record(name, 10), now);
        assert_eq!(
            batch_names(&ready),
            no_batches(),
            "after pushing {name}, the batch holds 30 of 100 bytes: it is not full, so push must return no batch yet"
        );
    }
    assert_eq!(
        batch_names(&buffers.drain()),
        vec![batch(0, &["a1", "a2", "a3"])],
        "the three records must wait together, in order, in partition 0's open batch"
    );
}

#[test]
fn a_batch_that_reaches_the_limit_exactly_is_ready_at_once() {
    let now = Instant::now();
    let mut buffers = PartitionBuffers::new(config(30, LINGER));
    buffers.push(P0, record("a1", 10), now);
    buffers.push(P0, record("a2", 10), now);
    let ready = buffers.push(P0, record("a3", 10), now);
    assert_eq!(
        batch_names(&ready),
        vec![batch(0, &["a1", "a2", "a3"])],
        "30 bytes in a batch of at most 30 is full: push must return it now, not wait for a record that can no longer fit"
    );
    assert_eq!(
        ready[0].1.bytes(),
        30,
        "the full batch holds 3 records of 10 bytes"
    );
    assert!(
        buffers.is_empty(),
        "a batch that push returned must no longer be open, or it would be sent twice"
    );
}

#[test]
fn a_record_that_does_not_fit_closes_the_open_batch_and_opens_the_next() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(25, LINGER));
    buffers.push(P0, record("a1", 10), t0);
    buffers.push(P0, record("a2", 10), t0);
    let ready = buffers.push(P0, record("a3", 10), t0 + ms(2));
    assert_eq!(
        batch_names(&ready),
        vec![batch(0, &["a1", "a2"])],
        "a3 does not fit into 20 of 25 bytes: the batch [a1, a2] must be returned as ready, \
         without a3 (a batch must never grow past max_batch_bytes)"
    );
    let open = buffers.drain();
    assert_eq!(
        batch_names(&open),
        vec![batch(0, &["a3"])],
        "a3 must start the next batch of partition 0"
    );
    assert_eq!(
        open[0].1.created_at(),
        t0 + ms(2),
        "the new batch opened when a3 arrived, so its linger counts from then, not from when the previous batch opened"
    );
}

#[test]
fn each_partition_fills_its_own_batch() {
    let now = Instant::now();
    let mut buffers = PartitionBuffers::new(config(30, LINGER));
    let mut ready = Vec::new();
    for (partition, name) in
        [(P0, "a1"), (P1, "b1"), (P0, "a2"), (P1, "b2"), (P0, "a3")]
    {
        ready.extend(buffers.push(partition, record(name, 10), now));
    }
    assert_eq!(
        batch_names(&ready),
        vec![batch(0, &["a1", "a2", "a3"])],
        "partition 0 received 30 bytes and partition 1 only 20: only partition 0's batch is full, \
         and a batch never holds records of another partition"
    );
    assert_eq!(
        batch_names(&buffers.drain()),
        vec![batch(1, &["b1", "b2"])],
        "partition 1's records must still wait in their own batch"
    );
}

#[test]
fn a_record_bigger_than_the_limit_goes_alone_after_the_open_batch() {
    let now = Instant::now();
    let mut buffers = PartitionBuffers::new(config(25, LINGER));
    buffers.push(P0, record("a1", 10), now);
    buffers.push(P1, record("b1", 10), now);
    let ready = buffers.push(P0, record("BIG", 40), now);
    assert_eq!(
        batch_names(&ready),
        vec![batch(0, &["a1"]), batch(0, &["BIG"])],
        "a 40-byte record cannot fit in a 25-byte batch, so it is sent alone in a batch of its own (as Kafka does). \
         Partition 0's open batch holds the older a1: it must come first in the list, \
         or BIG reaches the partition before a1 and the order is broken"
    );
    assert_eq!(
        batch_names(&buffers.drain()),
        vec![batch(1, &["b1"])],
        "a big record on partition 0 must not close partition 1's batch"
    );
}

#[test]
fn a_record_bigger_than_the_limit_with_no_open_batch_goes_alone() {
    let now = Instant::now();
    let mut buffers = PartitionBuffers::new(config(25, LINGER));
    let ready = buffers.push(P0, record("BIG", 40), now);
    assert_eq!(
        batch_names(&ready),
        vec![batch(0, &["BIG"])],
        "a record bigger than max_batch_bytes must be returned at once, alone, not dropped and not kept open"
    );
    assert!(
        buffers.is_empty(),
        "after the big record went out, no batch should be open"
    );
    let ready = buffers.push(P0, record("a1", 10), now);
    assert!(
        ready.is_empty(),
        "the next small record starts a new batch that must wait: got {:?}",
        batch_names(&ready)
    );
}

#[test]
fn the_batch_reports_the_bytes_it_holds() {
    let now = Instant::now();
    let mut buffers = PartitionBuffers::new(config(100, LINGER));
    buffers.push(P0, record("a1", 10), now);
    buffers.push(P0, record("a2", 25), now);
    let open = buffers.drain();
    assert_eq!(open.len(), 1, "both records belong in one batch");
    assert_eq!(
        open[0].1.bytes(),
        35,
        "bytes() must be the sum of the records' sizes"
    );
}

/// Pushes every `(partition, name, size)` and returns every batch, those that
/// push returned and those still open at the end, in the order they would be
/// sent.
fn push_all(
    buffers: &mut PartitionBuffers,
    pushes: &[(u32, Record)],
) -> Vec<(u32, Vec<Record>)> {
    let now = Instant::now();
    let mut batches = Vec::new();
    for (partition, record) in pushes {
        for (p, batch) in
            buffers.push(Partition(*partition), record.clone(), now)
        {
            batches.push((p.0, batch.into_records()));
        }
    }
    for (p, batch) in buffers.drain() {
        batches.push((p.0, batch.into_records()));
    }
    batches
}

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    /// Whatever the sizes, every record arrives exactly once, in its
    /// partition's order, and no batch with more than one record exceeds the
    /// limit.
    #[test]
    fn batches_keep_each_partitions_order_and_respect_the_limit(
        max_batch_bytes in 1usize..60,
        pushes in proptest::collection::vec((0u32..3, 3usize..80), 0..40),
    ) {
        let pushes: Vec<(u32, Record)> = pushes
            .iter()
            .enumerate()
            .map(|(i, (partition, size))| (*partition, record(&format!("{i}"), *size)))
            .collect();
        let mut buffers = PartitionBuffers::new(config(max_batch_bytes, LINGER));
        let batches = push_all(&mut buffers, &pushes);

        for partition in 0..3 {
            let pushed: Vec<Record> = pushes
                .iter()
                .filter(|(p, _)| *p == partition)
                .map(|(_, record)| record.clone())
                .collect();
            let stored: Vec<Record> = batches
                .iter()
                .filter(|(p, _)| *p == partition)
                .flat_map(|(_, records)| records.iter().cloned())
                .collect();
            prop_assert_eq!(
                names(&stored),
                names(&pushed),
                "partition {}: the batches, one after the other, must hold exactly the records pushed to it, in push order",
                partition
            );
        }
        for (partition, records) in &batches {
            let bytes: usize = records.iter().map(Record::size).sum();
            prop_assert!(!records.is_empty(), "push and drain must never return an empty batch");
            prop_assert!(
                bytes <= max_batch_bytes || records.len() == 1,
                "a batch of partition {} holds {} records and {} bytes, over the limit of {}: \
                 only a single record bigger than the limit may make a batch that large",
                partition, records.len(), bytes, max_batch_bytes
            );
        }
    }
}
