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
use crate::consume::{ASK_WITHIN, partition_number};
use crate::kafka_bus::{StoredRecord, read_topic};
use crate::produce::EVENT_ID_HEADER;

/// How long a test waits for a record that should come.
pub const RECEIVE_WITHIN: Duration = Duration::from_secs(5);

/// `client` with settings for a broker on loopback that a test starts:
///
/// - `reconnect.backoff.ms=10`, not librdkafka's 100 ms: it waits half of
///   that before it connects to a broker it just learned about (tansu
///   answers the first request as broker 111, a broker the client has not
///   met yet);
/// - `enable.sparse.connections=false`: it connects to that broker at once,
///   not when a request needs it. An idempotent producer asks for its
///   producer id every 500 ms until a broker is up: connected on demand,
///   the first record waited 1 s about one time in six, 0.5 s always with
///   this.
pub fn on_loopback(mut client: ClientConfig) -> ClientConfig {
    client
        .set("reconnect.backoff.ms", "10")
        .set("enable.sparse.connections", "false");
    client
}

/// A client of a test that closes on a thread of its own when the test
/// drops it: closing a librdkafka client waits for its threads (up to
/// 100 ms each), and a test has no reason to wait for that. Use it as the
/// client itself (it dereferences to it).
pub struct TestClient<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> TestClient<T> {
    pub fn new(client: T) -> TestClient<T> {
        TestClient(Some(client))
    }
}

impl<T: Send + 'static> std::ops::Deref for TestClient<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(client) => client,
            None => unreachable!("a TestClient holds its client until dropped"),
        }
    }
}

impl<T: Send + 'static> Drop for TestClient<T> {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            std::thread::spawn(move || drop(client));
        }
    }
}

/// A fresh broker for one test, stopped when the test ends (or panics).
/// Without tansu installed, the test fails with the one line that says how
/// to install it.
pub fn broker() -> TansuBroker {
    TansuBroker::start().unwrap_or_else(|e| panic!("{e}"))
}

/// The booking topic with `partitions` partitions and its dead-letter
/// topic on `broker`, and a config that names them (the rest is
/// `KafkaConfig::new`'s). Created with tansu's command line, which is
/// quicker than an admin client's first connection.
pub fn topics(broker: &TansuBroker, partitions: u32) -> KafkaConfig {
    let mut config = KafkaConfig::new(broker.address());
    config.partitions = NonZeroU32::new(partitions)
        .unwrap_or_else(|| panic!("a topic has at least one partition"));
    for (topic, partitions) in
        [(&config.topic, partitions), (&config.dead_letter_topic, 1)]
    {
        broker
            .create_topic(topic, partitions)
            .unwrap_or_else(|e| panic!("creating the topic {topic}: {e}"));
    }
    config
}

/// A producer set up by the test itself (not by `producer_config`), so
/// that each exercise is checked on its own: step 03's partitioner, no
/// waiting.
pub fn test_producer(config: &KafkaConfig) -> TestClient<FutureProducer> {
    let mut producer = ClientConfig::new();
    producer
        .set("bootstrap.servers", &config.bootstrap)
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "0");
    let producer = on_loopback(producer)
        .create()
        .unwrap_or_else(|e| panic!("a test producer: {e}"));
    TestClient::new(producer)
}

/// A consumer set up by the test itself (not by `consumer_config`): in the
/// config's group, committing by hand only, reading every partition from
/// its first record (`assign`, no group join).
pub fn test_consumer(config: &KafkaConfig) -> TestClient<StreamConsumer> {
    let mut consumer = ClientConfig::new();
    consumer
        .set("bootstrap.servers", &config.bootstrap)
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "10");
    let consumer: StreamConsumer = on_loopback(consumer)
        .create()
        .unwrap_or_else(|e| panic!("a test consumer: {e}"));
    // From the beginning, not from the group's commits: a test's group is
    // new, and librdkafka looks up where to start a partition without a
    // commit only after a 100 ms backoff.
    consumer
        .fetch_metadata(Some(&config.topic), ASK_WITHIN)
        .unwrap_or_else(|e| panic!("the topic's metadata: {e}"));
    let mut partitions = TopicPartitionList::new();
    for partition in 0..config.partitions.get() {
        partitions
            .add_partition_offset(
                &config.topic,
                partition_number(partition),
                rdkafka::Offset::Beginning,
            )
            .unwrap_or_else(|e| panic!("a partition to assign: {e}"));
    }
    consumer
        .assign(&partitions)
        .unwrap_or_else(|e| panic!("assigning the partitions: {e}"));
    TestClient::new(consumer)
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
    committed_by(&asker(config), config)
}

/// A client in the config's group that only asks where the group stands
/// (with [`committed_by`]): its first question takes a few milliseconds
/// more than later ones.
pub fn asker(config: &KafkaConfig) -> TestClient<StreamConsumer> {
    let mut asker = ClientConfig::new();
    asker
        .set("bootstrap.servers", &config.bootstrap)
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false");
    let asker: StreamConsumer = on_loopback(asker)
        .create()
        .unwrap_or_else(|e| panic!("a client to ask for offsets: {e}"));
    TestClient::new(asker)
}

/// The committed offset of each partition of the booking topic, as
/// `consumer`'s group has it: `None` where it never committed.
pub fn committed_by(
    consumer: &StreamConsumer,
    config: &KafkaConfig,
) -> Vec<Option<u64>> {
    let mut asked = TopicPartitionList::new();
    for partition in 0..config.partitions.get() {
        asked.add_partition(&config.topic, partition_number(partition));
    }
    let answer = consumer
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
