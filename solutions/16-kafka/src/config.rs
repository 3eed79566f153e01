//! How the Kafka bus is set up (given code).

use std::num::NonZeroU32;
use std::time::Duration;

use solution12_retries::RetryPolicy;

// ANCHOR: kafka_config
/// Everything the producer, the consumer and the bus need to know: where
/// the broker is, which topics and group, and the knobs of steps 04, 05 and
/// 12 under their Kafka names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `bootstrap.servers`: where the client asks for the cluster's
    /// metadata (`host:port`, several separated by commas).
    pub bootstrap: String,
    /// The topic of booking events.
    pub topic: String,
    /// The topic of events given up on: Kafka has no dead-letter topic of
    /// its own, so this is an ordinary topic the consumer writes to.
    pub dead_letter_topic: String,
    /// Partitions of `topic`; step 03's `partition_for` spreads the
    /// bookings over them.
    pub partitions: NonZeroU32,
    /// `group.id`: the consumer group whose committed offsets say where the
    /// booking handler stands.
    pub group: String,
    /// Step 12's policy: how often a failing record is tried, and how long
    /// to wait in between, before it goes to the dead-letter topic.
    pub retry: RetryPolicy,
    /// `linger.ms` (step 04): how long a partition's batch may wait for
    /// more records before it is sent.
    pub linger: Duration,
    /// `batch.size` (step 04): a partition's batch is sent once it holds
    /// this many bytes, lingering or not.
    pub batch_bytes: u32,
    /// `queue.buffering.max.messages` (step 05): the most records waiting
    /// in the producer for the broker's acknowledgement.
    pub queue_max_messages: u32,
    /// `queue.buffering.max.kbytes` (step 05): the same bound in KiB.
    pub queue_max_kbytes: u32,
    /// `message.timeout.ms`: how long the producer keeps trying to deliver
    /// a record before it reports it failed.
    pub message_timeout: Duration,
    /// `fetch.wait.max.ms`: how long the broker holds a consumer's fetch
    /// when it has nothing new. Short, so that an idle consumer notices new
    /// records quickly (the default, 500 ms, is tuned for throughput).
    pub fetch_wait: Duration,
}
// ANCHOR_END: kafka_config

impl KafkaConfig {
    /// The booking topics on the broker at `bootstrap`: four partitions,
    /// group `booking-handler`, step 12's kind of retries (four attempts,
    /// 100 ms doubling to at most 2 s), Kafka 4's producer defaults for
    /// batching (5 ms linger, 16 KiB batches), librdkafka's queue bound
    /// (100,000 records) with Kafka's 32 MiB, and 30 s to deliver a record.
    pub fn new(bootstrap: impl Into<String>) -> KafkaConfig {
        KafkaConfig {
            bootstrap: bootstrap.into(),
            topic: "bookings".to_owned(),
            dead_letter_topic: "bookings.dead".to_owned(),
            partitions: NonZeroU32::MIN.saturating_add(3),
            group: "booking-handler".to_owned(),
            retry: RetryPolicy {
                max_attempts: 4,
                base: Duration::from_millis(100),
                cap: Duration::from_secs(2),
            },
            linger: Duration::from_millis(5),
            batch_bytes: 16 * 1024,
            queue_max_messages: 100_000,
            queue_max_kbytes: 32 * 1024,
            message_timeout: Duration::from_secs(30),
            fetch_wait: Duration::from_millis(10),
        }
    }
}
