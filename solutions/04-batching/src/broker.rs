//! What the producer sends batches to: a trait, and an in-memory broker for
//! tests.
//!
//! The producer depends on the trait only, so the same producer code runs
//! against the in-memory broker in tests and benchmarks and, with another
//! implementation, against a real broker. Step 06 builds the broker's log
//! itself.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use solution03_partitioning::{Partition, Record};
use thiserror::Error;
use tokio::time::Instant;

use crate::Batch;

// ANCHOR: client
/// A connection to a broker that takes one batch per request.
pub trait BrokerClient {
    /// Appends `batch` to `partition` of `topic`, as one request.
    ///
    /// The batch is borrowed, not moved: if the request fails, the caller still
    /// owns every record in it and can send it again. `Ok` means the broker has
    /// stored the whole batch; `Err` means it stored none of it.
    ///
    /// The future is `Send` so that a producer can run in a spawned task.
    fn send(
        &self,
        topic: &str,
        partition: Partition,
        batch: &Batch,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}
// ANCHOR_END: client

/// Why a broker did not take a batch. It stored none of the batch's records.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("the broker did not store the batch: {reason}")]
pub struct SendError {
    /// What the broker or the connection said, for the logs.
    pub reason: String,
}

impl SendError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// One batch as the in-memory broker received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedBatch {
    pub topic: String,
    pub partition: Partition,
    pub records: Vec<Record>,
    /// The (tokio) time the batch arrived: with a paused clock, tests can check
    /// exactly when the linger sent it.
    pub received_at: Instant,
}

// ANCHOR: in_memory
/// A broker that keeps every batch it accepts in a list, and can be told to
/// fail.
///
/// Cloning it gives another handle to the same broker, so a test can hand one
/// clone to the producer and keep one to look at what arrived.
#[derive(Clone, Debug, Default)]
pub struct InMemoryBroker {
    /// A std `Mutex`, not a tokio one: it is never held across an `.await`.
    state: Arc<Mutex<BrokerState>>,
}
// ANCHOR_END: in_memory

#[derive(Debug, Default)]
struct BrokerState {
    received: Vec<ReceivedBatch>,
    /// How many of the next requests fail, as a broken connection would.
    failures_to_inject: usize,
    /// Every call to `send`, failed or not.
    attempts: usize,
}

impl InMemoryBroker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `count` requests fail with a `SendError`, storing
    /// nothing.
    pub fn fail_next(&self, count: usize) {
        self.state().failures_to_inject = count;
    }

    /// Every batch accepted so far, in the order it arrived.
    pub fn received(&self) -> Vec<ReceivedBatch> {
        self.state().received.clone()
    }

    /// The records stored in one partition, in order: what a consumer of that
    /// partition would read.
    pub fn records_in(&self, partition: Partition) -> Vec<Record> {
        self.state()
            .received
            .iter()
            .filter(|batch| batch.partition == partition)
            .flat_map(|batch| batch.records.iter().cloned())
            .collect()
    }

    /// How many times `send` was called, including the calls that failed.
    pub fn attempts(&self) -> usize {
        self.state().attempts
    }

    /// The lock, even if a test thread panicked while holding it: the list of
    /// batches is still consistent, because every change to it is a single
    /// push.
    fn state(&self) -> MutexGuard<'_, BrokerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BrokerClient for InMemoryBroker {
    async fn send(
        &self,
        topic: &str,
        partition: Partition,
        batch: &Batch,
    ) -> Result<(), SendError> {
        let mut state = self.state();
        state.attempts += 1;
        if state.failures_to_inject > 0 {
            state.failures_to_inject -= 1;
            return Err(SendError::new(
                "connection reset (injected by the test)",
            ));
        }
        state.received.push(ReceivedBatch {
            topic: topic.to_owned(),
            partition,
            records: batch.records().to_vec(),
            received_at: Instant::now(),
        });
        Ok(())
    }
}
