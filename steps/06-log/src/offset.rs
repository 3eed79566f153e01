//! Offsets, stored records, and what can go wrong when using the log.

use std::fmt;

use solution03_partitioning::{Partition, Record};

// ANCHOR: offset
/// A record's position in its partition: the first record of a partition is at
/// offset 0, the next at 1, and so on, with no gaps.
///
/// An offset is a position, not a count: "offset 3" is the fourth record, and a
/// partition holding three records has its next free position at offset 3.
/// Offsets of different partitions have nothing to do with each other: offset 3
/// of partition 0 and offset 3 of partition 1 are two unrelated records.
///
/// Kafka numbers a partition's records the same way, from 0; NATS JetStream
/// counts a stream's messages from 1 (see the chapter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset(pub u64);
// ANCHOR_END: offset

impl Offset {
    /// The offset right after this one: where a reader continues after reading
    /// the record at `self`.
    ///
    /// A `u64` of offsets does not run out: a partition taking a million
    /// records a second would need more than 500,000 years to reach `u64::MAX`.
    pub fn next(self) -> Offset {
        Offset(self.0 + 1)
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

// ANCHOR: stored_record
/// A record as the log hands it to a reader: where it is stored, and what.
///
/// The producer's [`Record`] does not know its offset; the log decides it on
/// append. A reader needs both: the offset to know where to continue (and, from
/// step 09, what to commit), the record to handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub partition: Partition,
    pub offset: Offset,
    pub record: Record,
}
// ANCHOR_END: stored_record

// ANCHOR: error
/// Why the log refused a call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// [`Log::new`](crate::Log::new) was asked for a log without partitions.
    /// Such a log could store nothing: every append would fail.
    #[error(
        "a log needs at least one partition, but it was created with 0: pass a partition count of 1 or more"
    )]
    NoPartitions,
    /// A partition number at or past the log's partition count: usually a
    /// producer or consumer configured for another topic, or one that has not
    /// noticed that the partition count changed.
    #[error(
        "partition {partition} does not exist: this log has {partition_count} partitions, numbered 0 to {}; check which topic and partition count the caller was configured with",
        .partition_count.saturating_sub(1)
    )]
    UnknownPartition {
        partition: Partition,
        partition_count: u32,
    },
}
// ANCHOR_END: error
