//! Where committed offsets are kept between runs of a consumer.

use std::collections::HashMap;

use solution06_log::{Offset, Partition};

// ANCHOR: committed_offsets
/// The committed offset of each partition: where a consumer that starts (or
/// restarts after a crash) resumes reading.
///
/// Kafka keeps these in its `__consumer_offsets` topic, per consumer group and
/// partition; JetStream keeps an ack floor per consumer. Here they live in
/// memory, which is enough to simulate a crash of the consumer (the store is
/// treated as surviving it); step 10 writes them to disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommittedOffsets {
    /// One entry per partition that has a commit. A partition without an entry
    /// has never been committed, and a consumer starts it from the beginning.
    offsets: HashMap<Partition, Offset>,
}
// ANCHOR_END: committed_offsets

// ANCHOR: commit_error
/// Why a commit was refused. The stored offset is unchanged after each of
/// these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// The offset is below the one already committed. Storing it would make the
    /// next restart handle again records that were finished long ago; it
    /// usually comes from a late or duplicate commit of an old position.
    #[error(
        "cannot commit offset {offset} for partition {partition}: offset {committed} is already \
         committed, and a committed offset never goes back; commit only the tracker's watermark"
    )]
    Backwards {
        partition: Partition,
        offset: Offset,
        committed: Offset,
    },
    /// The offset is past the end of the partition. A restart would then wait
    /// for that offset and skip every record appended before it.
    #[error(
        "cannot commit offset {offset} for partition {partition}: the partition ends at \
         {log_end}, and the committed offset is the next record to read, at most the log end"
    )]
    PastEnd {
        partition: Partition,
        offset: Offset,
        log_end: Offset,
    },
}
// ANCHOR_END: commit_error

impl CommittedOffsets {
    /// A store with nothing committed yet.
    pub fn new() -> CommittedOffsets {
        CommittedOffsets::default()
    }

    /// The committed offset of `partition`, or `None` if it was never
    /// committed.
    pub fn committed(&self, partition: Partition) -> Option<Offset> {
        self.offsets.get(&partition).copied()
    }

    /// Where a consumer of `partition` starts reading: the committed offset, or
    /// offset 0 if nothing was ever committed (Kafka's
    /// `auto.offset.reset=earliest`).
    pub fn resume_at(&self, partition: Partition) -> Offset {
        self.committed(partition).unwrap_or(Offset(0))
    }

    // ANCHOR: commit
    /// Stores `offset` as the committed offset of `partition`, whose log end
    /// (its high watermark) is `log_end`.
    ///
    /// Refuses an offset below the one already committed
    /// ([`CommitError::Backwards`]) or past `log_end`
    /// ([`CommitError::PastEnd`]), and then stores nothing.
    ///
    /// Committing the offset that is already stored is accepted and changes
    /// nothing: a consumer that commits on a timer commits the same offset
    /// again whenever nothing finished in between.
    pub fn commit(
        &mut self,
        partition: Partition,
        offset: Offset,
        log_end: Offset,
    ) -> Result<(), CommitError> {
        // exercise: solution
        if let Some(committed) = self.committed(partition)
            && offset < committed
        {
            return Err(CommitError::Backwards {
                partition,
                offset,
                committed,
            });
        }
        // The log end itself is allowed: it is the offset of the next record to
        // be appended, and so exactly where a consumer that finished everything
        // resumes.
        if offset > log_end {
            return Err(CommitError::PastEnd {
                partition,
                offset,
                log_end,
            });
        }
        self.offsets.insert(partition, offset);
        Ok(())
        // exercise: stub
        // todo!("store `offset` unless it must be refused (chapter 09)")
        // exercise: end
    }
    // ANCHOR_END: commit
}
