//! The producer: records in, batches out through a [`BrokerClient`].

use std::collections::VecDeque;

use solution03_partitioning::{Partition, Record, Topic};
use thiserror::Error;
use tokio::time::Instant;

use crate::{Batch, BatchConfig, BrokerClient, PartitionBuffers, SendError};

/// A batch could not be sent. Nothing is lost: the producer keeps the batch,
/// and every later batch of the producer, and sends them again, in order, on
/// its next flush. Do not send the records again yourself, or they will be
/// stored twice. What the broker said is the error's `source()`.
#[derive(Debug, Error)]
#[error(
    "could not send a batch of {records} record(s) to partition {partition} \
     of topic {topic:?}; the producer keeps it and sends it again, first, on \
     its next flush"
)]
pub struct FlushError {
    pub topic: String,
    pub partition: Partition,
    pub records: usize,
    pub source: SendError,
}

// ANCHOR: producer
/// Sends records to one topic, in batches.
///
/// It does not watch the clock by itself: a batch that is not full goes out
/// when someone calls [`flush_due`](Self::flush_due) after its linger, which is
/// what the linger loop (`src/linger_loop.rs`) does.
#[derive(Debug)]
pub struct Producer<B> {
    topic: Topic,
    broker: B,
    /// Batches still filling up.
    buffers: PartitionBuffers,
    /// Batches that are closed but not yet stored by the broker, oldest first:
    /// the ones that became ready and the ones whose request failed. Only a
    /// successful send removes a batch from the front.
    unsent: VecDeque<(Partition, Batch)>,
}
// ANCHOR_END: producer

impl<B: BrokerClient> Producer<B> {
    pub fn new(topic: Topic, config: BatchConfig, broker: B) -> Self {
        Self {
            topic,
            broker,
            buffers: PartitionBuffers::new(config),
            unsent: VecDeque::new(),
        }
    }

    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    pub fn broker(&self) -> &B {
        &self.broker
    }

    /// How many closed batches wait for the broker: more than zero after a
    /// failed flush.
    pub fn unsent_batches(&self) -> usize {
        self.unsent.len()
    }

    /// When the next open batch's linger runs out: when to call
    /// [`flush_due`](Self::flush_due) next.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.buffers.next_deadline()
    }

    // ANCHOR: send
    /// Adds a record to its partition's batch, and sends every batch that is
    /// ready: the batches a failed flush left behind first, then those this
    /// record filled.
    ///
    /// On `Err` the record is not lost: it is buffered, and the batch that
    /// failed is kept for the next flush.
    pub async fn send(&mut self, record: Record) -> Result<(), FlushError> {
        // exercise: solution
        let partition = self.topic.partition_for(&record.key);
        let ready = self.buffers.push(partition, record, Instant::now());
        self.unsent.extend(ready);
        self.send_unsent().await
        // exercise: stub
        // todo!("push the record, then send what is ready (chapter 04)")
        // exercise: end
    }

    /// Sends every batch whose linger has run out, after any batch a failed
    /// flush left behind.
    pub async fn flush_due(&mut self) -> Result<(), FlushError> {
        // exercise: solution
        let expired = self.buffers.take_expired(Instant::now());
        self.unsent.extend(expired);
        self.send_unsent().await
        // exercise: stub
        // todo!("send the refused, then the expired batches (chapter 04)")
        // exercise: end
    }

    /// Sends everything, full or not, open or closed, in order (the batches a
    /// failed flush left behind first): for shutting down, or before reporting
    /// "all sent" to a caller.
    pub async fn flush_all(&mut self) -> Result<(), FlushError> {
        // exercise: solution
        let open = self.buffers.drain();
        self.unsent.extend(open);
        self.send_unsent().await
        // exercise: stub
        // todo!("send every batch, in order (chapter 04)")
        // exercise: end
    }

    /// Sends the closed batches in `self.unsent`, oldest first, and stops at
    /// the first failure. A batch leaves the queue only once the broker has
    /// taken it.
    ///
    /// Stopping keeps each partition in order: a later batch of the same
    /// partition must not be stored before the one that failed. (It also holds
    /// back other partitions, which is simple and safe; Kafka tracks each
    /// partition on its own.)
    async fn send_unsent(&mut self) -> Result<(), FlushError> {
        // exercise: solution
        while let Some((partition, batch)) = self.unsent.front() {
            // Send from the front of the queue, borrowed. Popping the batch
            // first and sending it afterwards would drop it when the send
            // fails.
            if let Err(source) =
                self.broker.send(self.topic.name(), *partition, batch).await
            {
                return Err(FlushError {
                    topic: self.topic.name().to_owned(),
                    partition: *partition,
                    records: batch.len(),
                    source,
                });
            }
            self.unsent.pop_front();
        }
        Ok(())
        // exercise: stub
        // todo!("send `self.unsent` from the front (chapter 04)")
        // exercise: end
    }
    // ANCHOR_END: send
}
