//! Test support for step 16 (given code): what the tests ask of a real
//! broker, compiled once here rather than in the test binary on every check.
//!
//! Like a test's assertions, these functions panic with a message that says
//! what failed: they are meant for tests only.

use std::num::NonZeroU32;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, TopicPartitionList};
use solution15_bridge::{IdentifiedEvent, encode_identified};

use crate::broker::TansuBroker;
use crate::config::KafkaConfig;
use crate::consume::{ASK_WITHIN, assign_partitions, partition_number};
use crate::kafka_bus::{StoredRecord, create_topics, read_topic};
use crate::produce::EVENT_ID_HEADER;

/// How long a test waits for a record that should come.
pub const RECEIVE_WITHIN: Duration = Duration::from_secs(5);

/// A fresh broker for one test, stopped when the test ends (or panics).
/// Without tansu installed, the test fails with the one line that says how
/// to install it.
pub fn broker() -> TansuBroker {
    TansuBroker::start().unwrap_or_else(|e| panic!("{e}"))
}

/// The booking topic with `partitions` partitions and its dead-letter
/// topic on `broker`, and a config that names them (the rest is
/// `KafkaConfig::new`'s).
pub async fn topics(broker: &TansuBroker, partitions: u32) -> KafkaConfig {
    let mut config = KafkaConfig::new(broker.address());
    config.partitions = NonZeroU32::new(partitions)
        .unwrap_or_else(|| panic!("a topic has at least one partition"));
    create_topics(&config)
        .await
        .unwrap_or_else(|e| panic!("creating the topics: {e} ({e:?})"));
    config
}

/// A producer set up by the test itself (not by `producer_config`), so
/// that each exercise is checked on its own: step 03's partitioner, no
/// waiting.
pub fn test_producer(config: &KafkaConfig) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", &config.bootstrap)
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "0")
        .create()
        .unwrap_or_else(|e| panic!("a test producer: {e}"))
}

/// A consumer set up by the test itself (not by `consumer_config`): in the
/// config's group, committing by hand only, from the earliest record,
/// reading every partition (`assign`, no group join).
pub fn test_consumer(config: &KafkaConfig) -> StreamConsumer {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.bootstrap)
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap_or_else(|e| panic!("a test consumer: {e}"));
    assign_partitions(&consumer, config)
        .unwrap_or_else(|e| panic!("assigning the partitions: {e}"));
    consumer
}

/// Publishes `payload` with `key` to `partition` of `topic` (the
/// partitioner's choice when `None`), and waits until it is stored.
/// Returns its partition and offset.
pub async fn publish_raw(
    producer: &FutureProducer,
    topic: &str,
    partition: Option<u32>,
    key: &[u8],
    payload: &[u8],
    headers: OwnedHeaders,
) -> (i32, i64) {
    let mut record = FutureRecord::to(topic)
        .key(key)
        .payload(payload)
        .headers(headers);
    if let Some(partition) = partition {
        record = record.partition(partition_number(partition));
    }
    let delivered = producer
        .send(record, RECEIVE_WITHIN)
        .await
        .unwrap_or_else(|(e, _)| panic!("publishing to {topic}: {e}"));
    (delivered.partition, delivered.offset)
}

/// Publishes `event` as the bus does (step 11's bytes, the id header), to
/// partition 0, without the exercise's `publish`.
pub async fn publish_event(
    producer: &FutureProducer,
    config: &KafkaConfig,
    event: &IdentifiedEvent,
) -> (i32, i64) {
    let id = event.id.to_string();
    let headers = OwnedHeaders::new().insert(Header {
        key: EVENT_ID_HEADER,
        value: Some(id.as_str()),
    });
    let key = event.event.booking_id().to_string();
    let payload = encode_identified(event);
    publish_raw(
        producer,
        &config.topic,
        Some(0),
        key.as_bytes(),
        &payload,
        headers,
    )
    .await
}

/// The next record `consumer` reads, within [`RECEIVE_WITHIN`].
pub async fn next_record(consumer: &StreamConsumer) -> OwnedMessage {
    match tokio::time::timeout(RECEIVE_WITHIN, consumer.recv()).await {
        Ok(Ok(message)) => message.detach(),
        Ok(Err(e)) => panic!("reading a record: {e}"),
        Err(_) => panic!(
            "no record came within {RECEIVE_WITHIN:?}, though one was \
             published"
        ),
    }
}

/// The next record `consumer` reads, or `None` when none comes within
/// `wait`.
pub async fn record_within(
    consumer: &StreamConsumer,
    wait: Duration,
) -> Option<OwnedMessage> {
    match tokio::time::timeout(wait, consumer.recv()).await {
        Ok(Ok(message)) => Some(message.detach()),
        Ok(Err(e)) => panic!("reading a record: {e}"),
        Err(_) => None,
    }
}

/// The group's committed offset of each partition of the booking topic,
/// asked by a client of its own: `None` where it never committed.
pub fn committed(config: &KafkaConfig) -> Vec<Option<u64>> {
    let asker: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &config.bootstrap)
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap_or_else(|e| panic!("a client to ask for offsets: {e}"));
    let mut asked = TopicPartitionList::new();
    for partition in 0..config.partitions.get() {
        asked.add_partition(&config.topic, partition_number(partition));
    }
    let answer = asker
        .committed_offsets(asked, ASK_WITHIN)
        .unwrap_or_else(|e| panic!("the group's committed offsets: {e}"));
    answer
        .elements()
        .iter()
        .map(|element| match element.offset() {
            rdkafka::Offset::Offset(offset) => u64::try_from(offset).ok(),
            _ => None,
        })
        .collect()
}

/// Every record of `topic` now (see [`read_topic`]).
pub async fn read_all(config: &KafkaConfig, topic: &str) -> Vec<StoredRecord> {
    read_topic(&config.bootstrap, topic)
        .await
        .unwrap_or_else(|e| panic!("reading {topic}: {e} ({e:?})"))
}

/// The record's offset as the tests compare it.
pub fn offset_of(message: &impl Message) -> u64 {
    u64::try_from(message.offset())
        .unwrap_or_else(|_| panic!("a read record has an offset"))
}
