//! A topic: a name and a fixed number of partitions, the unit producers write
//! to and consumers read from.

use crate::partition::{Partition, partition_for};

// ANCHOR: topic
/// A named stream of records, split into `partition_count` partitions.
///
/// The fields are private and checked by [`Topic::new`], so every `Topic` in
/// the program has a name and at least one partition. That is what lets
/// [`Topic::partition_for`] return a [`Partition`] without a `Result`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Topic {
    name: String,
    partition_count: u32,
}
// ANCHOR_END: topic

// ANCHOR: topic_error
/// Why a topic could not be created.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// The name was the empty string.
    #[error(
        "a topic needs a name: producers and consumers find a topic by its name, and \"\" names nothing"
    )]
    EmptyName,
    /// The topic would have had zero partitions.
    #[error(
        "topic {name:?} cannot have zero partitions: records live in partitions, so create it with at least one"
    )]
    NoPartitions { name: String },
}
// ANCHOR_END: topic_error

// ANCHOR: topic_impl
impl Topic {
    /// A topic called `name` with `partition_count` partitions, numbered from
    /// 0.
    ///
    /// Kafka refuses the same two mistakes when a topic is created (and more:
    /// its names are at most 249 characters of `a-z A-Z 0-9 . _ -`).
    pub fn new(
        name: impl Into<String>,
        partition_count: u32,
    ) -> Result<Topic, TopicError> {
        todo!("refuse an empty name and zero partitions (chapter 03)")
    }

    /// The partition a record with this `key` goes to.
    ///
    /// Uses the free function `partition_for` with this topic's count. Cannot
    /// fail: [`Topic::new`] refused zero partitions, so there is always one to
    /// choose, and an `expect` (or `unreachable!`) that says so is right here.
    pub fn partition_for(&self, key: &[u8]) -> Partition {
        todo!("call partition_for with the count (chapter 03)")
    }

    /// Every partition of the topic, from 0 to `partition_count - 1`, in order.
    pub fn partitions(&self) -> impl Iterator<Item = Partition> {
        // `from_fn` only makes the stub compile: replace the whole body.
        std::iter::from_fn(|| {
            todo!("yield every partition in order (chapter 03)")
        })
    }
}
// ANCHOR_END: topic_impl

impl Topic {
    /// The topic's name, as producers and consumers ask for it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many partitions the topic has; always at least one.
    pub fn partition_count(&self) -> u32 {
        self.partition_count
    }
}
