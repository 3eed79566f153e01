//! Counters that another thread reads while the pipeline runs (given code).
//!
//! The pipeline runs its rounds on one thread; a dashboard, a status file or
//! a test reads these atomics from anywhere, at any time, without a lock the
//! pipeline would wait for. Each counter is exact on its own; two read one
//! after the other may be from two different moments.

use std::sync::atomic::{AtomicU64, Ordering};

use solution06_log::{Offset, Partition};

/// What one partition of the topic looks like now.
#[derive(Debug, Default)]
pub struct PartitionMetrics {
    /// The offset the next record appended to the partition gets.
    pub log_end: AtomicU64,
    /// The committed offset: every record below it is handled or
    /// dead-lettered, and a restart begins here.
    pub committed: AtomicU64,
    /// One past the highest offset handed to the handler: the records from
    /// `committed` up to here are in flight, taken but not committed.
    pub taken: AtomicU64,
}

impl PartitionMetrics {
    /// Records appended and not committed yet.
    pub fn lag(&self) -> u64 {
        let end = self.log_end.load(Ordering::Relaxed);
        end.saturating_sub(self.committed.load(Ordering::Relaxed))
    }

    /// Records handed to the handler and not committed yet.
    pub fn in_flight(&self) -> u64 {
        let taken = self.taken.load(Ordering::Relaxed);
        taken.saturating_sub(self.committed.load(Ordering::Relaxed))
    }
}

/// The pipeline's counters. Share it as `Arc<Metrics>`
/// ([`Pipeline::metrics`](crate::Pipeline::metrics)).
#[derive(Debug, Default)]
pub struct Metrics {
    partitions: Vec<PartitionMetrics>,
    /// Events the handler stored for the first time.
    pub handled: AtomicU64,
    /// Deliveries the handler recognised as already handled (step 11).
    pub duplicates: AtomicU64,
    /// Handler calls that failed and will be tried again or dead-lettered.
    pub failures: AtomicU64,
    /// Records sent to the dead-letter topic since the service started.
    pub dead_lettered: AtomicU64,
    /// Outbox rows not published yet, as the relay last saw them.
    pub outbox_backlog: AtomicU64,
    /// Events the router moved into the topic.
    pub routed: AtomicU64,
}

impl Metrics {
    /// Counters for a topic of `partitions` partitions, all at zero.
    pub fn new(partitions: u32) -> Metrics {
        Metrics {
            partitions: (0..partitions)
                .map(|_| PartitionMetrics::default())
                .collect(),
            ..Metrics::default()
        }
    }

    /// The counters of `partition`, or `None` if the topic has no such
    /// partition.
    pub fn partition(&self, partition: Partition) -> Option<&PartitionMetrics> {
        self.partitions.get(partition.index())
    }

    /// Every partition's counters, in partition order.
    pub fn partitions(&self) -> &[PartitionMetrics] {
        &self.partitions
    }

    pub(crate) fn set_end(&self, partition: Partition, end: Offset) {
        if let Some(metrics) = self.partition(partition) {
            metrics.log_end.store(end.0, Ordering::Relaxed);
        }
    }

    pub(crate) fn set_committed(&self, partition: Partition, at: Offset) {
        if let Some(metrics) = self.partition(partition) {
            metrics.committed.store(at.0, Ordering::Relaxed);
            metrics.taken.fetch_max(at.0, Ordering::Relaxed);
        }
    }

    pub(crate) fn set_taken(&self, partition: Partition, offset: Offset) {
        if let Some(metrics) = self.partition(partition) {
            metrics.taken.fetch_max(offset.0 + 1, Ordering::Relaxed);
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}
