//! Step 16: the same booking handler on a broker that speaks the Kafka
//! protocol, through rdkafka (librdkafka).
//!
//! - `config.rs`: topics, group and the producer's knobs ([`KafkaConfig`],
//!   given).
//! - `produce.rs`: an idempotent producer with `acks=all` and step 03's
//!   partitioner, the event id in a header ([`producer_config`], [`key_of`],
//!   [`publish`]).
//! - `consume.rs`: a consumer group that commits by hand after the effect,
//!   and its progress as committed offsets and lag ([`consumer_config`],
//!   [`commit_after`], [`partition_progress`]).
//! - `settle.rs`: one record, committed, retried in place, or published to
//!   the dead-letter topic and then committed ([`reply_for`], [`deliver`]).
//! - `kafka_bus.rs`: the broker behind step 15's [`EventBus`] ([`KafkaBus`],
//!   given).
//! - `broker.rs`: a real `tansu` broker per test ([`TansuBroker`], given).
//! - `harness.rs`: what the tests ask of a real broker (given).
//! - `error.rs`: what can go wrong ([`KafkaBusError`], given).
//!
//! The chapter is `book/src/16-kafka.md`.

// The stubs below do not use their arguments, or the imports they will need, yet.
// Delete this `allow` when you are done.
#![allow(unused_variables, unused_imports, unused_mut, dead_code)]

pub mod broker;
mod config;
mod consume;
mod error;
pub mod harness;
mod kafka_bus;
mod produce;
mod settle;

pub use broker::{BrokerError, TansuBroker};
pub use config::KafkaConfig;
pub use consume::{
    ASK_WITHIN, PartitionProgress, Progress, assign_partitions, commit_after,
    consumer_config, partition_number, partition_progress, progress,
};
pub use error::KafkaBusError;
pub use kafka_bus::{KafkaBus, StoredRecord, create_topics, read_topic};
pub use produce::{
    EVENT_ID_HEADER, key_of, producer_config, publish, publish_error,
};
pub use settle::{
    DEAD_ATTEMPTS, DEAD_OFFSET, DEAD_PARTITION, DEAD_REASON, Reply, Settled,
    deliver, publish_dead_letter, reply_for,
};

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use rdkafka;
pub use solution15_bridge::{
    BookingDb, BookingEvent, BookingId, Consumed, DbConfig, Durability,
    EventBus, EventHandler, EventId, Handled, Handler, HandlerError,
    IdentifiedEvent, Offset, Partition, Published, RetryPolicy, SeatId, UserId,
    classify, decode_identified, encode_identified, partition_of,
};
