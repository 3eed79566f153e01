//! Helpers shared by the tests of step 04. Each test file uses some of them.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use step04_batching::{Batch, BatchConfig, Partition, Record, Topic};

/// The linger of most tests: Kafka's default.
pub const LINGER: Duration = Duration::from_millis(5);

pub fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

pub fn config(max_batch_bytes: usize, linger: Duration) -> BatchConfig {
    BatchConfig {
        max_batch_bytes,
        linger,
    }
}

/// A record of exactly `size` bytes (key plus value) whose value starts with
/// `name`, so that failures can show which record went where. The rest of the
/// value is dots.
pub fn keyed(key: &str, name: &str, size: usize) -> Record {
    let used = key.len() + name.len();
    assert!(
        size >= used,
        "test bug: a record named {name:?} with key {key:?} needs at least {used} bytes"
    );
    let mut value = name.as_bytes().to_vec();
    value.resize(size - key.len(), b'.');
    Record::new(Bytes::copy_from_slice(key.as_bytes()), Bytes::from(value))
}

/// A record with an empty key, for the tests that choose the partition
/// themselves.
pub fn record(name: &str, size: usize) -> Record {
    keyed("", name, size)
}

/// The name of a record made by `keyed` or `record`.
pub fn name_of(record: &Record) -> String {
    String::from_utf8_lossy(&record.value)
        .trim_end_matches('.')
        .to_owned()
}

pub fn names(records: &[Record]) -> Vec<String> {
    records.iter().map(name_of).collect()
}

/// Batches as `(partition number, record names)`, which prints readably.
pub fn batch_names(batches: &[(Partition, Batch)]) -> Vec<(u32, Vec<String>)> {
    batches
        .iter()
        .map(|(partition, batch)| (partition.0, names(batch.records())))
        .collect()
}

/// A topic that the tests cannot get wrong.
pub fn topic(name: &str, partition_count: u32) -> Topic {
    Topic::new(name, partition_count)
        .expect("the tests only create valid topics")
}

/// One key per partition of `topic`: `keys[p]` goes to partition `p`.
pub fn one_key_per_partition(topic: &Topic) -> Vec<String> {
    let mut keys: Vec<Option<String>> =
        vec![None; topic.partition_count() as usize];
    for seat in 0.. {
        let key = format!("seat-{seat}");
        let slot = &mut keys[topic.partition_for(key.as_bytes()).0 as usize];
        if slot.is_none() {
            *slot = Some(key);
        }
        if keys.iter().all(Option::is_some) {
            break;
        }
    }
    keys.into_iter().flatten().collect()
}
