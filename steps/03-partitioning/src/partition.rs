//! From a key to a partition: `toPositive(murmur2(key)) % partitions`, the rule
//! of Kafka's producer for every record that has a key.

use std::fmt;
use std::num::NonZeroU32;

use crate::murmur2::murmur2;

// ANCHOR: partition
/// The number of one partition of a topic, from 0 to `partition_count - 1`.
///
/// A newtype rather than a bare `u32`, so that a partition number cannot be
/// passed where an offset or a count is expected (they are all `u32`s or `u64`s
/// in later steps). It prints as the bare number, as Kafka's tools show it:
/// write `"partition {p}"` in a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition(pub u32);
// ANCHOR_END: partition

impl Partition {
    /// The partition number as an index into a `Vec` with one slot per
    /// partition, the way later steps keep one buffer or one log per partition.
    pub fn index(self) -> usize {
        // A `u32` always fits in `usize` on the 32- and 64-bit targets Rust's
        // std supports for this workshop.
        self.0 as usize
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// ANCHOR: partition_error
/// Why no partition could be chosen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// Asked to choose among zero partitions. There is nothing to choose, and
    /// the remainder of a division by zero does not exist: Rust would panic.
    #[error(
        "cannot choose a partition among zero partitions: a topic has at least one, so check where the partition count came from"
    )]
    NoPartitions,
}
// ANCHOR_END: partition_error

// ANCHOR: to_positive
/// Kafka's `Utils.toPositive`: clears the sign bit of a hash, so that the
/// remainder of a division by the partition count is never negative.
///
/// Not the absolute value. `i32::MIN.abs()` overflows (it panics in a debug
/// build), and `abs` sends `-1` to 1 where Kafka sends it to 2147483647: a
/// different partition than every other Kafka client would choose for the same
/// key.
pub fn to_positive(hash: i32) -> u32 {
    todo!("clear the sign bit with a mask, not abs (chapter 03)")
}
// ANCHOR_END: to_positive

// ANCHOR: partition_for
/// The partition of a topic with `partition_count` partitions that a record
/// with this `key` goes to: `toPositive(murmur2(key)) % partition_count`, the
/// same partition Kafka's Java producer picks, in every process, on every run.
///
/// Zero partitions is an error, not a panic: the count often comes from a
/// configuration file or from a broker's answer.
pub fn partition_for(
    key: &[u8],
    partition_count: u32,
) -> Result<Partition, PartitionError> {
    todo!("refuse 0, then hash modulo the count (chapter 03)")
}
// ANCHOR_END: partition_for
