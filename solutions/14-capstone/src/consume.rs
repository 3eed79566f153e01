//! One round of a partition's consumer: step 12's worker, then step 10's
//! commit, after the effect.

use solution06_log::{Offset, Partition};
use solution10_recovery::Disk;
use solution12_retries::run_partition;

use crate::error::PipelineError;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;

// ANCHOR: round
/// What one round of a partition's consumer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round {
    pub partition: Partition,
    /// Where the round began: the committed offset before it.
    pub start: Offset,
    /// The offset committed at the end of the round.
    pub committed: Offset,
    /// Records the handler took.
    pub processed: usize,
    /// Records sent to the dead-letter topic.
    pub dead_lettered: usize,
    /// Handler calls beyond the first, over all records: the retries.
    pub retries: u32,
}
// ANCHOR_END: round

impl<D: Disk> Pipeline<D> {
    // ANCHOR: consume
    /// Runs `partition`'s consumer from its committed offset
    /// ([`Pipeline::committed`]) to the end of the topic: step 12's
    /// `run_partition` on `self.topic.memory()`, with `self.handler`,
    /// `self.dead_letters`, `self.config.worker` and `self.rng`. Then, and
    /// only then, commits the offset its report gives, with
    /// [`Pipeline::commit`]. It adds the records it dead-lettered to
    /// `self.metrics.dead_lettered` (with `Metrics::add`): the dashboard
    /// shows that counter, and the round is the only one that knows.
    ///
    /// A worker that fails returns [`PipelineError::Worker`] and commits
    /// nothing: the next round reads the same records again. A round that is
    /// dropped before it ends (a shutdown that stops waiting, a crash)
    /// commits nothing either.
    pub async fn consume(
        &mut self,
        partition: Partition,
    ) -> Result<Round, PipelineError> {
        // exercise: solution
        let start = self.committed(partition);
        let topic = self.topic.memory();
        let report = run_partition(
            &topic,
            partition,
            start,
            &mut self.handler,
            &self.dead_letters,
            self.config.worker,
            &mut self.rng,
        )
        .await
        .map_err(|source| PipelineError::Worker { partition, source })?;
        // After the effect: every record below `report.committed` is in the
        // consumer's database or in the dead-letter topic.
        self.commit(partition, report.committed)?;
        Metrics::add(
            &self.metrics.dead_lettered,
            report.dead_lettered.len() as u64,
        );
        let retries = report
            .attempts
            .values()
            .map(|attempts| attempts.saturating_sub(1))
            .sum();
        Ok(Round {
            partition,
            start,
            committed: report.committed,
            processed: report.processed.len(),
            dead_lettered: report.dead_lettered.len(),
            retries,
        })
        // exercise: stub
        // todo!("run the worker, then commit its offset (chapter 14)")
        // exercise: end
    }
    // ANCHOR_END: consume
}
