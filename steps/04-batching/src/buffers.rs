//! One open batch per partition, and the rules that close it.
//!
//! This is the part of Kafka's `RecordAccumulator` that decides when a batch is
//! ready. It does no I/O and never reads the clock: every method that needs the
//! time takes `now`, so the rules can be tested with any time you like, and the
//! producer (`src/producer.rs`) is the only place that asks what time it is.

use std::collections::BTreeMap;

use solution03_partitioning::{Partition, Record};
use tokio::time::Instant;

use crate::{Batch, BatchConfig};

// ANCHOR: buffers
/// The open batches of a producer, at most one per partition.
#[derive(Debug)]
pub struct PartitionBuffers {
    config: BatchConfig,
    /// Only partitions with a batch in progress have an entry, and an open
    /// batch is never empty. A `BTreeMap` rather than a `HashMap` so that
    /// batches that become ready together come out in partition order, the same
    /// on every run.
    open: BTreeMap<Partition, Batch>,
}
// ANCHOR_END: buffers

impl PartitionBuffers {
    pub fn new(config: BatchConfig) -> Self {
        Self {
            config,
            open: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> BatchConfig {
        self.config
    }

    // ANCHOR: push
    /// Adds a record to its partition's open batch and returns the batches that
    /// are ready to send because of it, in the order they must be sent.
    ///
    /// - A batch is ready as soon as it holds `max_batch_bytes` or more.
    /// - A record that does not fit in the open batch closes it (that batch is
    ///   ready) and opens a new one, at `now`.
    /// - A record bigger than `max_batch_bytes` goes alone in a batch of its
    ///   own, after the partition's open batch.
    ///
    /// Batches never mix partitions, and records keep their order within a
    /// partition: across the returned batches, and between these and the
    /// batches returned later.
    pub fn push(
        &mut self,
        partition: Partition,
        record: Record,
        now: Instant,
    ) -> Vec<(Partition, Batch)> {
        todo!("add the record; return the ready batches (chapter 04)")
    }
    // ANCHOR_END: push

    // ANCHOR: linger
    /// Removes and returns every batch whose linger has run out at `now`: those
    /// opened at or before `now - linger`. Batches that may wait longer stay
    /// open.
    pub fn take_expired(&mut self, now: Instant) -> Vec<(Partition, Batch)> {
        todo!("remove and return the expired batches (chapter 04)")
    }

    /// The earliest time at which [`take_expired`](Self::take_expired) will
    /// return a batch, or `None` when no batch is open (or none can ever
    /// expire): what the linger loop sleeps until.
    pub fn next_deadline(&self) -> Option<Instant> {
        todo!("return the earliest linger deadline (chapter 04)")
    }
    // ANCHOR_END: linger

    /// Removes and returns every open batch, in partition order, whatever its
    /// size or age: for shutting down without losing what is buffered.
    pub fn drain(&mut self) -> Vec<(Partition, Batch)> {
        std::mem::take(&mut self.open).into_iter().collect()
    }

    /// True when no partition has a batch in progress.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}
