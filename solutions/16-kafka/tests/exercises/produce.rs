//! Exercise "produce": `producer_config`, `key_of` and `publish` in
//! src/produce.rs, against a real broker.

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureProducer;
use solution16_kafka::rdkafka;
use solution16_kafka::{
    EVENT_ID_HEADER, KafkaBusError, KafkaConfig, Partition, decode_identified,
    key_of, partition_of, producer_config, publish, publish_error,
};

use crate::common::{
    TestClient, broker, on_loopback, read_all, requested, topics,
};

/// What `producer_config` set `name` to.
fn setting(config: &KafkaConfig, name: &str) -> Option<String> {
    producer_config(config).get(name).map(str::to_owned)
}

#[test]
fn the_producer_is_idempotent_and_waits_for_every_replica() {
    let config = KafkaConfig::new("127.0.0.1:9092");
    assert_eq!(
        setting(&config, "bootstrap.servers").as_deref(),
        Some("127.0.0.1:9092"),
        "bootstrap.servers must be config.bootstrap"
    );
    assert_eq!(
        setting(&config, "enable.idempotence").as_deref(),
        Some("true"),
        "set enable.idempotence to \"true\": without it a retried batch (a \
         lost acknowledgement) is stored twice, and a retry can reorder a \
         partition"
    );
    let acks = setting(&config, "acks");
    assert!(
        matches!(acks.as_deref(), Some("all" | "-1")),
        "set acks to \"all\": a record counts as sent only once every \
         in-sync replica has it (acks=1 loses it when the leader dies just \
         after answering), got {acks:?}"
    );
}

#[test]
fn the_producer_partitions_keys_as_step_03_does() {
    let config = KafkaConfig::new("127.0.0.1:9092");
    assert_eq!(
        setting(&config, "partitioner").as_deref(),
        Some("murmur2_random"),
        "set partitioner to \"murmur2_random\" (Kafka's Java default, step \
         03's murmur2): librdkafka's own default, consistent_random, hashes \
         keys with CRC32 and puts a booking in another partition than every \
         Java producer and step 03; plain \"murmur2\" hashes keys the same \
         way but sends every record without a key to one partition, where \
         the Java default spreads them"
    );
}

#[test]
fn the_producer_takes_batching_and_its_bounds_from_the_config() {
    let mut config = KafkaConfig::new("127.0.0.1:9092");
    config.linger = Duration::from_millis(1_007);
    config.batch_bytes = 12_345;
    config.queue_max_messages = 321;
    config.queue_max_kbytes = 4_321;
    config.message_timeout = Duration::from_millis(8_500);
    for (name, want, why) in [
        (
            "linger.ms",
            "1007",
            "config.linger in whole milliseconds (step 04)",
        ),
        ("batch.size", "12345", "config.batch_bytes (step 04)"),
        (
            "queue.buffering.max.messages",
            "321",
            "config.queue_max_messages (step 05)",
        ),
        (
            "queue.buffering.max.kbytes",
            "4321",
            "config.queue_max_kbytes (step 05)",
        ),
        (
            "message.timeout.ms",
            "8500",
            "config.message_timeout in whole milliseconds",
        ),
    ] {
        assert_eq!(
            setting(&config, name).as_deref(),
            Some(want),
            "{name} must be {why}"
        );
    }
}

#[test]
fn the_key_is_the_booking_id_as_step_03s_partition_key() {
    let (booking_id, event) = requested();
    assert_eq!(
        key_of(&event.event).as_ref(),
        booking_id.as_uuid().hyphenated().to_string().as_bytes(),
        "the key is step 03's partition_key: the booking id as UUID text, \
         so every event of a booking goes to one partition"
    );
}

fn producer(config: &KafkaConfig) -> TestClient<FutureProducer> {
    let producer = on_loopback(producer_config(config))
        .create()
        .unwrap_or_else(|e| {
            panic!("the client refused producer_config's settings: {e}")
        });
    TestClient::new(producer)
}

#[tokio::test]
async fn published_events_are_stored_in_step_03s_partitions_with_key_id_and_bytes()
 {
    let broker = broker();
    let config = topics(&broker, 4);
    let producer = producer(&config);
    let mut sent = Vec::new();
    for _ in 0..12 {
        let (_, event) = requested();
        let published = publish(&producer, &config, &event).await;
        let published = published.unwrap_or_else(|e| {
            panic!("publishing to a running broker must work: {e} ({e:?})")
        });
        sent.push((event, published));
    }
    let stored = read_all(&config, &config.topic).await;
    assert_eq!(
        stored.len(),
        12,
        "each publish stores one record, on config.topic"
    );
    for (event, published) in &sent {
        let id = event.id.to_string();
        let found = stored.iter().find(|record| {
            record.header(EVENT_ID_HEADER).as_ref() == Some(&id)
        });
        let Some(record) = found else {
            panic!(
                "a record must carry its event id (as UUID text) in the \
                 {EVENT_ID_HEADER:?} header; found none with {id}"
            );
        };
        assert_eq!(
            record.key.as_deref(),
            Some(key_of(&event.event).as_ref()),
            "the record's key must be key_of(event)"
        );
        let payload = record.payload.as_deref().unwrap_or_default();
        let decoded = decode_identified(payload);
        assert_eq!(
            decoded.as_ref().ok(),
            Some(event),
            "the payload must be step 11's bytes of the event and its id \
             (encode_identified): {decoded:?}"
        );
        let want = partition_of(&event.event, config.partitions);
        assert_eq!(
            Partition(record.partition),
            want,
            "the booking {:?} must be stored in partition {want:?}, step \
             03's toPositive(murmur2(key)) % 4: set the partitioner to \
             murmur2_random (librdkafka's default, consistent_random, \
             disagrees)",
            record.key.as_deref().map(String::from_utf8_lossy),
        );
        assert_eq!(
            (published.partition, published.position.0),
            (want, record.offset),
            "publish must return where the broker stored the record: the \
             partition and offset of the awaited delivery report"
        );
        assert!(
            !published.duplicate,
            "Kafka never reports a duplicate by event id: \
             Published::duplicate is always false here"
        );
    }
    // Kafka does not look at event ids: a repeat is a record of its own.
    let (first, before) = &sent[0];
    let again = publish(&producer, &config, first).await;
    let again = again.unwrap_or_else(|e| panic!("publishing again: {e}"));
    let copies = read_all(&config, &config.topic)
        .await
        .into_iter()
        .filter(|record| {
            record.header(EVENT_ID_HEADER) == Some(first.id.to_string())
        })
        .map(|record| (Partition(record.partition), record.offset))
        .collect::<Vec<_>>();
    assert_eq!(
        copies,
        vec![
            (before.partition, before.position.0),
            (again.partition, again.position.0)
        ],
        "the same event published again is a second record, in the same \
         partition, after the first: the handler's dedupe (step 11) absorbs \
         it, not the broker"
    );
}

#[tokio::test]
async fn a_full_producer_queue_hands_the_event_back_at_once() {
    let broker = broker();
    let mut config = topics(&broker, 1);
    // Room for one record, which waits 100 ms for more before it is sent.
    config.queue_max_messages = 1;
    config.linger = Duration::from_millis(100);
    let producer = producer(&config);
    let (_, first) = requested();
    let (_, second) = requested();
    let (first, second) = tokio::join!(
        publish(&producer, &config, &first),
        publish(&producer, &config, &second),
    );
    assert!(
        first.is_ok(),
        "the first event fits in the queue and is stored: {first:?}"
    );
    assert!(
        matches!(second, Err(KafkaBusError::QueueFull)),
        "a second event while the queue is full must come back at once as \
         KafkaBusError::QueueFull (send_result, not send, which waits for \
         room; step 05), and the queue must hold config.queue_max_messages \
         (queue.buffering.max.messages), got {second:?}"
    );
    let stored = read_all(&config, &config.topic).await;
    assert_eq!(
        stored.len(),
        1,
        "only the first event is stored: the refused one was not queued"
    );
}

#[test]
fn a_publish_error_says_what_to_do_and_leaves_its_cause_to_source() {
    let full = publish_error(
        "bookings",
        KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
    );
    assert!(
        matches!(full, KafkaBusError::QueueFull),
        "a full queue is KafkaBusError::QueueFull, got {full:?}"
    );
    let lost = publish_error(
        "bookings",
        KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut),
    );
    assert!(
        lost.to_string().contains("publish the same event"),
        "a publish the broker did not confirm says what to do: {lost}"
    );
    // rdkafka's own error repeats its code's text in its message, so only
    // the bus's link of the chain is checked here.
    let cause = std::error::Error::source(&lost).map(ToString::to_string);
    assert!(
        cause.is_some(),
        "the client's error is the source of KafkaBusError::Publish"
    );
    let cause = cause.unwrap_or_default();
    assert!(
        !lost.to_string().contains(&cause),
        "the message {lost:?} must not repeat its cause {cause:?}: source() \
         returns it"
    );
}
