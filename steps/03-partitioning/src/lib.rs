//! Step 03: topics, partitions, and a key hash that every process agrees on.
//!
//! - `record.rs`: a keyed record, what a producer sends ([`Record`]).
//! - `murmur2.rs`: Kafka's key hash, bit for bit ([`murmur2`]).
//! - `partition.rs`: from a hash to a partition ([`Partition`],
//!   [`to_positive`], [`partition_for`]).
//! - `topic.rs`: a named topic with a fixed number of partitions ([`Topic`]).
//! - `key.rs`: which bytes of a booking event are its key ([`partition_key`]).
//!
//! The chapter is `book/src/03-partitioning.md`.

// The stubs below do not use their arguments, imports and constants yet. Delete this line when you are done.
#![allow(unused_variables, unused_imports, dead_code)]

mod key;
mod murmur2;
mod partition;
mod record;
mod topic;

pub use key::partition_key;
pub use murmur2::murmur2;
pub use partition::{Partition, PartitionError, partition_for, to_positive};
pub use record::Record;
pub use topic::{Topic, TopicError};
