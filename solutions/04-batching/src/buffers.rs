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
        // exercise: solution
        let max = self.config.max_batch_bytes;
        let mut ready = Vec::new();

        // If the record does not fit in the open batch, that batch is as full
        // as it will get: close it, rather than let a batch grow past the
        // limit.
        if let Some(open) = self.open.get(&partition)
            && open.bytes() + record.size() > max
            && let Some(full) = self.open.remove(&partition)
        {
            ready.push((partition, full));
        }

        let batch = self
            .open
            .entry(partition)
            .or_insert_with(|| Batch::open(now));
        batch.append(record);
        // Exactly full is full: waiting for the next record would only delay
        // this batch, since nothing more fits in it.
        //
        // A record bigger than `max` needs no rule of its own. It did not fit
        // in the open batch, which was closed above and goes first, so the big
        // record cannot overtake older records. Alone in a fresh batch it is
        // over the limit, so that batch is closed here at once: the record
        // travels alone in a batch of its own, as Kafka sends it.
        if batch.bytes() >= max
            && let Some(full) = self.open.remove(&partition)
        {
            ready.push((partition, full));
        }
        ready
        // exercise: stub
        // todo!("add the record; return the ready batches (chapter 04)")
        // exercise: end
    }
    // ANCHOR_END: push

    // ANCHOR: linger
    /// Removes and returns every batch whose linger has run out at `now`: those
    /// opened at or before `now - linger`. Batches that may wait longer stay
    /// open.
    pub fn take_expired(&mut self, now: Instant) -> Vec<(Partition, Batch)> {
        // exercise: solution
        let expired: Vec<Partition> = self
            .open
            .iter()
            .filter(|(_, batch)| {
                self.deadline(batch).is_some_and(|due| due <= now)
            })
            .map(|(partition, _)| *partition)
            .collect();
        expired
            .into_iter()
            .filter_map(|partition| {
                self.open.remove(&partition).map(|batch| (partition, batch))
            })
            .collect()
        // exercise: stub
        // todo!("remove and return the expired batches (chapter 04)")
        // exercise: end
    }

    /// The earliest time at which [`take_expired`](Self::take_expired) will
    /// return a batch, or `None` when no batch is open (or none can ever
    /// expire): what the linger loop sleeps until.
    pub fn next_deadline(&self) -> Option<Instant> {
        // exercise: solution
        self.open
            .values()
            .filter_map(|batch| self.deadline(batch))
            .min()
        // exercise: stub
        // todo!("return the earliest linger deadline (chapter 04)")
        // exercise: end
    }
    // ANCHOR_END: linger
    // exercise: solution

    /// When `batch`'s linger runs out. `None` for a linger so long that the
    /// time cannot be represented (`Duration::MAX`, meaning "only send full
    /// batches"): `Instant + Duration` would panic there.
    fn deadline(&self, batch: &Batch) -> Option<Instant> {
        batch.created_at().checked_add(self.config.linger)
    }
    // exercise: end

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
