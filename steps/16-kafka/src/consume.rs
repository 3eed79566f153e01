//! The booking handler's consumer: a member of a consumer group that
//! commits by hand, after the effect, and its progress as committed offsets
//! and lag (step 09 in Kafka's words).

use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message, TopicPartitionList};
use solution15_bridge::{Offset, Partition};

use crate::config::KafkaConfig;
use crate::error::KafkaBusError;

/// How long a question to the broker (committed offsets, watermarks) may
/// take before it counts as failed.
pub const ASK_WITHIN: Duration = Duration::from_secs(5);

// ANCHOR: consumer_config
/// The consumer's settings, in librdkafka's names:
///
/// - `bootstrap.servers` and `group.id` from the config: the group owns the
///   committed offsets;
/// - `enable.auto.commit=false`: the client would otherwise commit every
///   5 s whatever it has handed out, handled or not (a crash then loses
///   records);
/// - `enable.auto.offset.store=false`: nor does it note offsets by itself
///   for a commit (the one on close included); only `commit_after` commits;
/// - `auto.offset.reset=earliest`: a group with no commit yet starts at the
///   beginning of each partition, not at its end (`latest`, the default,
///   skips every record published before the group first started);
/// - `fetch.wait.max.ms` from the config, in whole milliseconds.
pub fn consumer_config(config: &KafkaConfig) -> ClientConfig {
    todo!("a group, no auto-commit, start at the earliest (chapter 16)")
}
// ANCHOR_END: consumer_config

// ANCHOR: commit_after
/// Commits `message` as handled, once its effect is stored: the group's
/// committed offset of its partition becomes the NEXT offset to read
/// (`message.offset() + 1`), as in step 09. The commit is synchronous: it
/// returns once the broker has stored it, or with the broker's error. While
/// no broker answers, it waits (librdkafka keeps looking for the group's
/// coordinator): nothing after the commit runs before the commit is stored.
/// A failed commit is [`KafkaBusError::Commit`] with the offset it tried to
/// commit (`message.offset() + 1`).
pub fn commit_after(
    consumer: &StreamConsumer,
    message: &impl Message,
) -> Result<(), KafkaBusError> {
    todo!("commit the next offset of the message's partition (chapter 16)")
}
// ANCHOR_END: commit_after

// ANCHOR: progress
/// Where the group stands on one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionProgress {
    pub partition: Partition,
    /// The group's committed offset: the next record it will read. 0 when
    /// it never committed.
    pub committed: Offset,
    /// The high watermark: the offset the next record published to the
    /// partition will get.
    pub end: Offset,
    /// Records published and not committed yet: `end - committed`, or 0 when
    /// a commit is past the end (a topic recreated or cut short).
    pub lag: u64,
}

/// Where the group stands on every partition of the topic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub partitions: Vec<PartitionProgress>,
}

impl Progress {
    /// Records not committed yet, over all partitions.
    pub fn lag(&self) -> u64 {
        self.partitions.iter().map(|partition| partition.lag).sum()
    }

    /// The committed offset of `partition`, if the topic has it.
    pub fn committed(&self, partition: Partition) -> Option<Offset> {
        self.partitions
            .iter()
            .find(|progress| progress.partition == partition)
            .map(|progress| progress.committed)
    }
}
// ANCHOR_END: progress

// ANCHOR: partition_progress
/// One partition's progress from the broker's answers: the group's
/// committed offset (`rdkafka::Offset::Offset(n)`, or `Invalid` when the
/// group never committed there, which means nothing is handled: 0) and the
/// partition's high watermark (the offset of the next record published).
/// Offsets the client reports as negative never occur on a partition; they
/// count as 0.
pub fn partition_progress(
    partition: i32,
    committed: rdkafka::Offset,
    high_watermark: i64,
) -> PartitionProgress {
    todo!("committed (never = 0), end, and the lag between (chapter 16)")
}
// ANCHOR_END: partition_progress

// ANCHOR: progress_fn
/// Asks the broker where `consumer`'s group stands on each of the topic's
/// `config.partitions` partitions: its committed offsets
/// (`committed_offsets`) and the high watermarks (`fetch_watermarks`), put
/// together by [`partition_progress`].
pub fn progress(
    consumer: &StreamConsumer,
    config: &KafkaConfig,
) -> Result<Progress, KafkaBusError> {
    let progress_error = |source| KafkaBusError::Progress {
        group: config.group.clone(),
        source,
    };
    let mut asked = TopicPartitionList::new();
    for partition in 0..config.partitions.get() {
        asked.add_partition(&config.topic, partition_number(partition));
    }
    let committed = consumer
        .committed_offsets(asked, ASK_WITHIN)
        .map_err(progress_error)?;
    let mut progress = Progress::default();
    for entry in committed.elements() {
        let (_low, high) = consumer
            .fetch_watermarks(&config.topic, entry.partition(), ASK_WITHIN)
            .map_err(progress_error)?;
        progress.partitions.push(partition_progress(
            entry.partition(),
            entry.offset(),
            high,
        ));
    }
    Ok(progress)
}
// ANCHOR_END: progress_fn

/// A partition number as the client names it (`i32`).
pub fn partition_number(partition: u32) -> i32 {
    i32::try_from(partition).unwrap_or(i32::MAX)
}

// ANCHOR: assign_partitions
/// Makes `consumer` read every partition of the booking topic from the
/// group's committed offsets (or, where there is none, from
/// `auto.offset.reset`), without joining the group: `assign`, not
/// `subscribe`. Commits still go to the group. A join costs a rebalance
/// (seconds), which only matters when several consumers share the
/// partitions (`KafkaBus::connect` subscribes).
///
/// It asks for the topic's metadata first: a partition assigned before the
/// client knows its leader waits 500 ms (librdkafka's fixed backoff) before
/// the client looks up where to start reading.
pub fn assign_partitions(
    consumer: &StreamConsumer,
    config: &KafkaConfig,
) -> Result<(), KafkaBusError> {
    consumer
        .fetch_metadata(Some(&config.topic), ASK_WITHIN)
        .map_err(|source| KafkaBusError::Consume {
            topic: config.topic.clone(),
            source,
        })?;
    let mut partitions = TopicPartitionList::new();
    for partition in 0..config.partitions.get() {
        partitions
            .add_partition_offset(
                &config.topic,
                partition_number(partition),
                rdkafka::Offset::Stored,
            )
            .map_err(|source| KafkaBusError::Consume {
                topic: config.topic.clone(),
                source,
            })?;
    }
    consumer
        .assign(&partitions)
        .map_err(|source| KafkaBusError::Consume {
            topic: config.topic.clone(),
            source,
        })
}
// ANCHOR_END: assign_partitions
