//! The graceful shutdown: stop taking work, finish what was accepted or hand
//! it back, commit, flush, close.

use std::time::Duration;

use solution06_log::{Offset, Partition};
use solution10_recovery::Disk;
use tokio::time::Instant;

use crate::error::PipelineError;
use crate::pipeline::Pipeline;

// ANCHOR: closed
/// What a shutdown left behind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Closed {
    /// Outbox rows the relay published during the shutdown.
    pub relayed: usize,
    /// Events the router moved into the topic during the shutdown.
    pub routed: usize,
    /// Each partition's committed offset at the end, in partition order.
    pub committed: Vec<Offset>,
    /// The partitions whose last round did not finish within the budget:
    /// their records from the committed offset on are handed back, to be
    /// read again by the next start.
    pub handed_back: Vec<Partition>,
}
// ANCHOR_END: closed

impl<D: Disk> Pipeline<D> {
    // ANCHOR: shutdown
    /// Stops the service without losing or doubling anything, in this
    /// order:
    ///
    /// 1. stop intake ([`Pipeline::close_intake`]): no new requests;
    /// 2. publish what the outbox holds ([`Pipeline::relay_all`]) and move it
    ///    into the topic ([`Pipeline::route`]);
    /// 3. run a round of every partition ([`Pipeline::consume`], which
    ///    commits), all of them within `drain_for` in total: one deadline,
    ///    each round under `tokio::time::timeout_at(deadline, ..)`. A round
    ///    still waiting at the deadline is dropped: its records are handed
    ///    back, not committed. A passed deadline skips no partition: every
    ///    round is still polled once, so one with nothing to wait for (no
    ///    retry) finishes and commits, and only one that would wait is
    ///    handed back;
    /// 4. flush the logs ([`Pipeline::flush`]);
    /// 5. report what is left: the [`Closed`].
    ///
    /// An error at any step stops the shutdown and is returned at once (no
    /// round after a failed one runs): nothing past it is committed, and the
    /// next start takes up the work. Intake stays closed.
    pub async fn shutdown(
        &mut self,
        drain_for: Duration,
    ) -> Result<Closed, PipelineError> {
        // exercise: solution
        self.close_intake();
        let relayed = self.relay_all()?;
        let routed = self.route()?;
        let deadline = Instant::now() + drain_for;
        let mut handed_back = Vec::new();
        for partition in self.partitions() {
            let round =
                tokio::time::timeout_at(deadline, self.consume(partition));
            match round.await {
                Ok(finished) => {
                    finished?;
                }
                Err(_elapsed) => handed_back.push(partition),
            }
        }
        self.flush()?;
        let committed = self
            .partitions()
            .map(|partition| self.committed(partition))
            .collect();
        Ok(Closed {
            relayed,
            routed,
            committed,
            handed_back,
        })
        // exercise: stub
        // todo!("stop intake, relay, route, drain, flush (chapter 14)")
        // exercise: end
    }
    // ANCHOR_END: shutdown
}
