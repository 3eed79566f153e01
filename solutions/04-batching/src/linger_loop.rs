//! The task that drives a producer: records from a channel, and a timer for the
//! linger.
//!
//! A batch that is not full goes out when its linger runs out, but nothing
//! happens at that moment unless some task is awake to do it. In Kafka that is
//! the producer's sender thread; here it is [`Producer::run`], which sleeps
//! until the earliest deadline or the next record, whichever comes first.

use solution03_partitioning::Record;
use tokio::sync::mpsc;
// exercise: solution
use tokio::time::{Instant, sleep_until};
// exercise: stub
// use tokio::time::sleep_until;
// exercise: end

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
        // exercise: solution
        // A previous run may have stopped on a failure: retry what it left
        // behind (and anything that expired meanwhile) before waiting for
        // anything new.
        self.flush_due().await?;
        loop {
            // Recomputed on every turn: a record may have opened a batch with
            // an earlier deadline, and a flush may have closed the batch we
            // were waiting for.
            let deadline = self.next_deadline();
            tokio::select! {
                // Timer first: when a deadline has passed and records are
                // waiting too, the due batch goes out now instead of waiting
                // behind them.
                biased;
                () = sleep_until_or_never(deadline) => self.flush_due().await?,
                received = records.recv() => match received {
                    Some(record) => self.send(record).await?,
                    None => return self.flush_all().await,
                },
            }
        }
        // exercise: stub
        // todo!("wait for a record or the next deadline (chapter 04)")
        // exercise: end
    }
    // ANCHOR_END: run
}
// exercise: solution

/// Sleeps until `deadline`, or forever when there is none: with no open batch,
/// only a record can wake the loop.
async fn sleep_until_or_never(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
// exercise: end
