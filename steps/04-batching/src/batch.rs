//! A batch of records for one partition, and the two numbers that decide when
//! it is sent.

use std::time::Duration;

use solution03_partitioning::Record;
use tokio::time::Instant;

// ANCHOR: config
/// When a partition's batch is sent: when it holds `max_batch_bytes`, or when
/// `linger` has passed since it opened, whichever comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Kafka's `batch.size`. Bigger batches pay the per-request cost less often
    /// but hold more memory per partition, and a record may wait longer for its
    /// batch to fill. A record bigger than this is sent alone, in a batch of
    /// its own.
    pub max_batch_bytes: usize,
    /// Kafka's `linger.ms`: the longest a batch waits for more records after
    /// its first one. It bounds the latency that batching adds when traffic is
    /// light; under heavy traffic batches fill up by size long before it runs
    /// out.
    pub linger: Duration,
}

impl Default for BatchConfig {
    /// Kafka's producer defaults: `batch.size` 16384 bytes and `linger.ms` 5
    /// (it was 0 before Kafka 4.0).
    fn default() -> Self {
        Self {
            max_batch_bytes: 16_384,
            linger: Duration::from_millis(5),
        }
    }
}
// ANCHOR_END: config

// ANCHOR: batch
/// The records waiting to go to one partition, in the order they were produced.
///
/// The fields are private so that `bytes` always is the sum of the records'
/// sizes: the only way to add a record is [`Batch::append`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// In production order: the broker appends them to the partition's log in
    /// this order, and that is the order consumers see.
    records: Vec<Record>,
    /// The sum of `Record::size()` over `records`, kept so that "is it full?"
    /// costs nothing.
    bytes: usize,
    /// When the first record arrived: the linger is counted from here, not from
    /// the latest record, so that a steady trickle of records cannot delay a
    /// batch forever.
    created_at: Instant,
}
// ANCHOR_END: batch

impl Batch {
    /// An empty batch, opened at `now`.
    pub fn open(now: Instant) -> Self {
        Self {
            records: Vec::new(),
            bytes: 0,
            created_at: now,
        }
    }

    /// Adds a record at the end. Whether it should go into this batch is the
    /// caller's decision ([`crate::PartitionBuffers::push`]); this only keeps
    /// `bytes` right.
    pub fn append(&mut self, record: Record) {
        self.bytes += record.size();
        self.records.push(record);
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    pub fn into_records(self) -> Vec<Record> {
        self.records
    }

    /// The sum of the records' sizes (`Record::size`: key plus value bytes).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn created_at(&self) -> Instant {
        self.created_at
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}
