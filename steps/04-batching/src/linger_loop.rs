//! The task that drives a producer: records from a channel, and a timer for the
//! linger.
//!
//! A batch that is not full goes out when its linger runs out, but nothing
//! happens at that moment unless some task is awake to do it. In Kafka that is
//! the producer's sender thread; here it is [`Producer::run`], which sleeps
//! until the earliest deadline or the next record, whichever comes first.

use solution03_partitioning::Record;
use tokio::sync::mpsc;
use tokio::time::sleep_until;

use crate::{BrokerClient, FlushError, Producer};

impl<B: BrokerClient> Producer<B> {
    // ANCHOR: run
    /// Sends the records that arrive on `records`, and each batch when it is
    /// full or when its linger runs out: it waits for the next record or the
    /// next deadline, whichever comes first. When the channel closes (every
    /// sender was dropped), it sends everything still buffered and returns
    /// `Ok`.
    ///
    /// On `Err` nothing is lost: the producer keeps the failed batch and the
    /// buffered records, and the channel keeps the records not yet received.
    /// Call `run` again (after a pause, say) to carry on where it stopped.
    pub async fn run(
        &mut self,
        records: &mut mpsc::Receiver<Record>,
    ) -> Result<(), FlushError> {
        todo!("wait for a record or the next deadline (chapter 04)")
    }
    // ANCHOR_END: run
}
