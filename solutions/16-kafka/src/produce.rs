//! Publishing to the booking topic: an idempotent producer that waits for
//! every replica (`acks=all`), step 03's key and partitioner, and the event
//! id in a header.

use bytes::Bytes;
use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use solution03_partitioning::partition_key;
use solution15_bridge::{
    BookingEvent, IdentifiedEvent, Offset, Partition, Published,
    encode_identified,
};

use crate::config::KafkaConfig;
use crate::error::KafkaBusError;

/// The header that carries the event id, as UUID text: what a consumer
/// that does not decode the payload (a dead-letter tool, a log line) can
/// still show.
pub const EVENT_ID_HEADER: &str = "event-id";

// ANCHOR: producer_config
/// The producer's settings, in librdkafka's names:
///
/// - `bootstrap.servers` from the config;
/// - `enable.idempotence=true`: the broker drops a batch the producer sent
///   twice (a retry after a lost answer), and keeps each partition in order;
/// - `acks=all`: a record counts as sent once every in-sync replica has it;
/// - `partitioner=murmur2_random`: the partition of a key is Kafka's Java
///   default and step 03's `partition_for` (librdkafka's own default,
///   `consistent_random`, hashes with CRC32 and disagrees);
/// - `linger.ms` and `batch.size` (step 04), `queue.buffering.max.messages`
///   and `queue.buffering.max.kbytes` (step 05) and `message.timeout.ms`
///   from the config, durations in whole milliseconds.
pub fn producer_config(config: &KafkaConfig) -> ClientConfig {
    // exercise: solution
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", config.linger.as_millis().to_string())
        .set("batch.size", config.batch_bytes.to_string())
        .set(
            "queue.buffering.max.messages",
            config.queue_max_messages.to_string(),
        )
        .set(
            "queue.buffering.max.kbytes",
            config.queue_max_kbytes.to_string(),
        )
        .set(
            "message.timeout.ms",
            config.message_timeout.as_millis().to_string(),
        );
    client
    // exercise: stub
    // todo!("idempotent, acks=all, step 03's partitioner (chapter 16)")
    // exercise: end
}
// ANCHOR_END: producer_config

// ANCHOR: key_of
/// The record's key: step 03's `partition_key`, the booking id as UUID
/// text. Every event of one booking has the same key, so the same
/// partition, so the handler sees them in order.
pub fn key_of(event: &BookingEvent) -> Bytes {
    // exercise: solution
    partition_key(event)
    // exercise: stub
    // todo!("the booking id as step 03's partition key (chapter 16)")
    // exercise: end
}
// ANCHOR_END: key_of

/// The error for a record the producer did not take, or the broker did not
/// confirm: a full queue is [`KafkaBusError::QueueFull`], anything else
/// [`KafkaBusError::Publish`].
pub fn publish_error(topic: &str, error: KafkaError) -> KafkaBusError {
    match error {
        KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => {
            KafkaBusError::QueueFull
        }
        source => KafkaBusError::Publish {
            topic: topic.to_owned(),
            source,
        },
    }
}

// ANCHOR: publish
/// Publishes `event` to the booking topic and waits for the broker's
/// answer: the partition and offset it was stored at.
///
/// The record's key is [`key_of`], its payload step 11's bytes
/// (`encode_identified`), and its [`EVENT_ID_HEADER`] header the event id.
/// The producer picks the partition from the key (the partitioner of
/// [`producer_config`]).
///
/// A full producer queue is [`KafkaBusError::QueueFull`] at once, with
/// nothing queued (step 05's "fail immediately"): the caller decides whether
/// to wait. Any other failure is [`KafkaBusError::Publish`]
/// ([`publish_error`] sorts them). Kafka does not
/// look at event ids: publishing the same event twice stores it twice, and
/// the handler's dedupe (step 11) absorbs the second.
pub async fn publish(
    producer: &FutureProducer,
    config: &KafkaConfig,
    event: &IdentifiedEvent,
) -> Result<Published, KafkaBusError> {
    // exercise: solution
    let key = key_of(&event.event);
    let payload = encode_identified(event);
    let id = event.id.to_string();
    let headers = OwnedHeaders::new().insert(Header {
        key: EVENT_ID_HEADER,
        value: Some(id.as_str()),
    });
    let record = FutureRecord::to(&config.topic)
        .key(key.as_ref())
        .payload(payload.as_ref())
        .headers(headers);
    // `send_result` queues the record or says at once why it cannot;
    // `send` would wait for room in a full queue.
    let delivery = producer
        .send_result(record)
        .map_err(|(error, _record)| publish_error(&config.topic, error))?;
    let delivered = delivery
        .await
        .map_err(|_dropped| publish_error(&config.topic, KafkaError::Canceled))?
        .map_err(|(error, _record)| publish_error(&config.topic, error))?;
    // A delivered record has a partition and an offset, never negative.
    Ok(Published {
        partition: Partition(u32::try_from(delivered.partition).unwrap_or(0)),
        position: Offset(u64::try_from(delivered.offset).unwrap_or(0)),
        duplicate: false,
    })
    // exercise: stub
    // todo!("key, step 11's bytes, the id header; await delivery (chapter 16)")
    // exercise: end
}
// ANCHOR_END: publish
