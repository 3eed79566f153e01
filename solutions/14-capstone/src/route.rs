//! The router: from the outbox log, where the relay publishes batches in the
//! outbox's order, to the topic, one record per event, in the partition of
//! its booking.

use solution03_partitioning::{partition_for, partition_key};
use solution10_recovery::Disk;
use solution11_idempotency::ProducerBatch;

use crate::error::PipelineError;
use crate::pipeline::{OUTBOX_PARTITION, Pipeline};

/// How many batches one read of the outbox log asks for.
pub const ROUTE_READ: usize = 16;

impl<D: Disk> Pipeline<D> {
    // ANCHOR: route
    /// Moves every batch of the outbox log from the router's committed
    /// position to the log's end into the topic: each event of a batch, in
    /// order, with [`Pipeline::deliver`] to the partition step 03 gives its
    /// booking (`partition_for` of its `partition_key`).
    ///
    /// The router's position (in `self.router_commits`, partition
    /// `OUTBOX_PARTITION`) is committed after the events are in the topic
    /// and synced (`self.topic.sync()`), never before: after a crash in
    /// between, the same events are appended again, and the consumer's
    /// handler absorbs the copies. A committed position whose events a power
    /// cut took would lose them for good.
    ///
    /// One read returns at most [`ROUTE_READ`] batches: read again until a
    /// read returns none.
    ///
    /// A record that is not a batch stops the router with
    /// [`PipelineError::NotABatch`] and that record's offset. The batches
    /// before it are moved and committed (sync, then commit the bad record's
    /// offset), so the router's position points at the record to look at.
    ///
    /// Returns how many events it moved.
    pub fn route(&mut self) -> Result<usize, PipelineError> {
        // exercise: solution
        let mut moved = 0;
        loop {
            let from = self.routed_to();
            let batches = self.outbox_log.durable().read(
                OUTBOX_PARTITION,
                from,
                ROUTE_READ,
            )?;
            let Some(last) = batches.last() else {
                return Ok(moved);
            };
            let next = last.offset.next();
            for stored in &batches {
                let batch = match ProducerBatch::decode(&stored.record.value) {
                    Ok(batch) => batch,
                    Err(source) => {
                        // Keep what came before it, durable then committed.
                        self.topic.sync()?;
                        self.router_commits
                            .store(OUTBOX_PARTITION, stored.offset)?;
                        return Err(PipelineError::NotABatch {
                            offset: stored.offset,
                            source,
                        });
                    }
                };
                for event in &batch.events {
                    let key = partition_key(&event.event);
                    let partition =
                        partition_for(&key, self.config.partitions)?;
                    self.deliver(partition, event)?;
                    moved += 1;
                }
            }
            // Durable first, then the commit that says so.
            self.topic.sync()?;
            self.router_commits.store(OUTBOX_PARTITION, next)?;
        }
        // exercise: stub
        // todo!("append each event to its partition, sync, commit (chapter 14)")
        // exercise: end
    }
    // ANCHOR_END: route
}
