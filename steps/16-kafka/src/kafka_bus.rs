//! A Kafka-protocol broker behind step 15's bus: an idempotent producer and
//! a consumer in the booking handler's group, set up on connect (given
//! code).

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Headers;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Message, TopicPartitionList};
use solution12_retries::Handler;
use solution15_bridge::{Consumed, EventBus, IdentifiedEvent, Published};

use crate::config::KafkaConfig;
use crate::consume::{
    ASK_WITHIN, Progress, assign_partitions, consumer_config, partition_number,
    progress,
};
use crate::error::KafkaBusError;
use crate::produce::{producer_config, publish};
use crate::settle::{Reply, deliver};

/// How long `run_until_idle` waits for a record before it asks the broker
/// whether everything is committed.
const IDLE_POLL: Duration = Duration::from_millis(20);

// ANCHOR: kafka_bus
/// A producer and a consumer on a Kafka-protocol broker, for the booking
/// topic and its dead-letter topic.
pub struct KafkaBus {
    config: KafkaConfig,
    producer: FutureProducer,
    consumer: StreamConsumer,
    rng: Xoshiro256PlusPlus,
}
// ANCHOR_END: kafka_bus

impl KafkaBus {
    /// Connects to `config.bootstrap`, creates the two topics unless they
    /// exist, and joins the consumer group (`subscribe`): the group's
    /// members share the partitions, and a member that leaves or dies hands
    /// its partitions to the others (a rebalance, a few seconds). `seed`
    /// seeds the retries' jitter.
    pub async fn connect(
        config: KafkaConfig,
        seed: u64,
    ) -> Result<KafkaBus, KafkaBusError> {
        let bus = KafkaBus::open(config, seed).await?;
        bus.consumer
            .subscribe(&[bus.config.topic.as_str()])
            .map_err(|source| KafkaBusError::Consume {
                topic: bus.config.topic.clone(),
                source,
            })?;
        Ok(bus)
    }

    /// Like [`KafkaBus::connect`], but reads every partition itself
    /// (`assign`) instead of joining the group, so it starts at once; its
    /// commits still go to the group. For one consumer alone.
    pub async fn connect_assigned(
        config: KafkaConfig,
        seed: u64,
    ) -> Result<KafkaBus, KafkaBusError> {
        let bus = KafkaBus::open(config, seed).await?;
        assign_partitions(&bus.consumer, &bus.config)?;
        Ok(bus)
    }

    async fn open(
        config: KafkaConfig,
        seed: u64,
    ) -> Result<KafkaBus, KafkaBusError> {
        let client = |source| KafkaBusError::Client { source };
        let producer: FutureProducer =
            producer_config(&config).create().map_err(client)?;
        // The producer says whether anyone answers at the address at all.
        producer.client().fetch_metadata(None, ASK_WITHIN).map_err(
            |source| KafkaBusError::Connect {
                bootstrap: config.bootstrap.clone(),
                source,
            },
        )?;
        create_topics(&config).await?;
        let consumer: StreamConsumer =
            consumer_config(&config).create().map_err(client)?;
        Ok(KafkaBus {
            config,
            producer,
            consumer,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        })
    }

    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    /// The producer, for a relay or a test that publishes itself.
    pub fn producer(&self) -> &FutureProducer {
        &self.producer
    }

    pub fn consumer(&self) -> &StreamConsumer {
        &self.consumer
    }

    /// Where the group stands on every partition, asked from the broker now.
    pub fn progress(&self) -> Result<Progress, KafkaBusError> {
        progress(&self.consumer, &self.config)
    }

    /// Every record of the dead-letter topic, oldest first per partition.
    pub async fn dead_letters(
        &self,
    ) -> Result<Vec<StoredRecord>, KafkaBusError> {
        read_topic(&self.config.bootstrap, &self.config.dead_letter_topic).await
    }

    // ANCHOR: poll_once
    /// Waits at most `wait` for one record and settles it. `None` when
    /// nothing came.
    pub async fn poll_once<H: Handler + ?Sized>(
        &mut self,
        handler: &mut H,
        wait: Duration,
    ) -> Result<Option<Reply>, KafkaBusError> {
        let received =
            match tokio::time::timeout(wait, self.consumer.recv()).await {
                Err(_nothing_yet) => return Ok(None),
                Ok(received) => received,
            };
        let message = received.map_err(|source| KafkaBusError::Consume {
            topic: self.config.topic.clone(),
            source,
        })?;
        let settled = deliver(
            &self.consumer,
            &self.producer,
            &self.config,
            &message,
            handler,
            &mut self.rng,
        )
        .await?;
        Ok(Some(settled.reply))
    }
    // ANCHOR_END: poll_once

    /// Whether the group's committed offset has reached the end of every
    /// partition this consumer reads; `false` while it has none (a member
    /// that is still joining the group).
    fn caught_up(&self) -> Result<bool, KafkaBusError> {
        let assigned = self.consumer.assignment().map_err(|source| {
            KafkaBusError::Consume {
                topic: self.config.topic.clone(),
                source,
            }
        })?;
        if assigned.count() == 0 {
            return Ok(false);
        }
        let progress = self.progress()?;
        Ok(assigned.elements().iter().all(|element| {
            progress.partitions.iter().any(|partition| {
                partition_number(partition.partition.0) == element.partition()
                    && partition.lag == 0
            })
        }))
    }
}

impl EventBus for KafkaBus {
    type Error = KafkaBusError;

    async fn publish(
        &mut self,
        event: &IdentifiedEvent,
    ) -> Result<Published, KafkaBusError> {
        publish(&self.producer, &self.config, event).await
    }

    // ANCHOR: run_until_idle
    async fn run_until_idle<H: Handler>(
        &mut self,
        handler: &mut H,
    ) -> Result<Consumed, KafkaBusError> {
        let mut total = Consumed::default();
        loop {
            let received =
                tokio::time::timeout(IDLE_POLL, self.consumer.recv()).await;
            let Ok(received) = received else {
                // Nothing came within IDLE_POLL.
                if self.caught_up()? {
                    return Ok(total);
                }
                continue;
            };
            let message =
                received.map_err(|source| KafkaBusError::Consume {
                    topic: self.config.topic.clone(),
                    source,
                })?;
            let settled = deliver(
                &self.consumer,
                &self.producer,
                &self.config,
                &message,
                handler,
                &mut self.rng,
            )
            .await?;
            let retries = settled.attempts.saturating_sub(1);
            total.retried += usize::try_from(retries).unwrap_or(usize::MAX);
            match settled.reply {
                Reply::DeadLetter { .. } => total.dead_lettered += 1,
                Reply::Commit | Reply::RetryAfter(_) => total.handled += 1,
            }
        }
    }
    // ANCHOR_END: run_until_idle
}

/// Creates the booking topic with `config.partitions` partitions and the
/// dead-letter topic with one, unless they exist.
pub async fn create_topics(config: &KafkaConfig) -> Result<(), KafkaBusError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &config.bootstrap)
        .create()
        .map_err(|source| KafkaBusError::Client { source })?;
    let partitions = i32::try_from(config.partitions.get()).unwrap_or(i32::MAX);
    let topics = [
        NewTopic::new(&config.topic, partitions, TopicReplication::Fixed(1)),
        NewTopic::new(&config.dead_letter_topic, 1, TopicReplication::Fixed(1)),
    ];
    let answers = admin
        .create_topics(&topics, &AdminOptions::new())
        .await
        .map_err(|source| KafkaBusError::Topic {
            topic: config.topic.clone(),
            source,
        })?;
    for answer in answers {
        match answer {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaBusError::Topic {
                    topic,
                    source: KafkaError::AdminOp(code),
                });
            }
        }
    }
    Ok(())
}

// ANCHOR: stored_record
/// A record as the broker keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    pub partition: u32,
    pub offset: u64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    /// Every header, in order: name and value.
    pub headers: Vec<(String, Vec<u8>)>,
}
// ANCHOR_END: stored_record

impl StoredRecord {
    /// The value of the header `name`, as text, if it is there.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
    }
}

/// Every record of `topic` at `bootstrap` now, oldest first per partition,
/// read without a group and without committing anything.
pub async fn read_topic(
    bootstrap: &str,
    topic: &str,
) -> Result<Vec<StoredRecord>, KafkaBusError> {
    let consume_error = |source| KafkaBusError::Consume {
        topic: topic.to_owned(),
        source,
    };
    // A group of its own, which it never commits to: librdkafka's consumer
    // queue needs one.
    let reader: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "workshop-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .set("reconnect.backoff.ms", "10")
        .create()
        .map_err(|source| KafkaBusError::Client { source })?;
    let metadata = reader
        .fetch_metadata(Some(topic), ASK_WITHIN)
        .map_err(consume_error)?;
    let mut partitions = TopicPartitionList::new();
    let mut remaining = 0;
    for found in metadata.topics().iter().filter(|t| t.name() == topic) {
        for partition in found.partitions() {
            let (low, high) = reader
                .fetch_watermarks(topic, partition.id(), ASK_WITHIN)
                .map_err(consume_error)?;
            remaining += high - low;
            partitions
                .add_partition_offset(
                    topic,
                    partition.id(),
                    rdkafka::Offset::Beginning,
                )
                .map_err(consume_error)?;
        }
    }
    reader.assign(&partitions).map_err(consume_error)?;
    let mut records = Vec::new();
    while remaining > 0 {
        let message = tokio::time::timeout(ASK_WITHIN, reader.recv())
            .await
            .map_err(|_silent| consume_error(KafkaError::NoMessageReceived))?
            .map_err(consume_error)?;
        remaining -= 1;
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        let value = header.value.unwrap_or_default().to_vec();
                        (header.key.to_owned(), value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        records.push(StoredRecord {
            partition: u32::try_from(message.partition()).unwrap_or(0),
            offset: u64::try_from(message.offset()).unwrap_or(0),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
        });
    }
    records.sort_by_key(|record| (record.partition, record.offset));
    // Closing a consumer of a group waits for librdkafka's answer (up to
    // 100 ms); nothing here needs to wait for it.
    std::thread::spawn(move || drop(reader));
    Ok(records)
}
