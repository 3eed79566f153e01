//! What can go wrong between the service and a Kafka-protocol broker (given
//! code).

use rdkafka::error::KafkaError;

// ANCHOR: kafka_bus_error
/// Why a call to the broker failed. The client's own error is the source,
/// for a log line that prints the chain.
#[derive(Debug, thiserror::Error)]
pub enum KafkaBusError {
    #[error(
        "no broker answered at {bootstrap}: start one (`tansu broker \
         --listener-url tcp://{bootstrap} --storage-engine sqlite://tansu.db`) \
         or check the address"
    )]
    Connect {
        bootstrap: String,
        #[source]
        source: KafkaError,
    },
    #[error(
        "the Kafka client refused its configuration (a misspelt setting or \
         a value out of range?)"
    )]
    Client {
        #[source]
        source: KafkaError,
    },
    #[error("the topic {topic} could not be created or read")]
    Topic {
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error(
        "the producer's queue is full (queue.buffering.max.messages or \
         .kbytes): nothing was sent; wait for deliveries, then publish the \
         same event again"
    )]
    QueueFull,
    #[error(
        "the broker did not confirm the record on {topic}: it may or may not \
         be stored, so publish the same event (same id) again; the handler's \
         dedupe absorbs a second copy"
    )]
    Publish {
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error(
        "records could not be read from {topic}; what was not committed is \
         read again from the last commit"
    )]
    Consume {
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error(
        "offset {offset} of {topic}/{partition} could not be committed: the \
         records after the last commit come back, and the handler's dedupe \
         absorbs them"
    )]
    Commit {
        topic: String,
        partition: u32,
        offset: u64,
        #[source]
        source: KafkaError,
    },
    #[error(
        "record {partition}/{offset} could not be published to the \
         dead-letter topic {topic}, so it was not committed: it comes back \
         and is tried again"
    )]
    DeadLetter {
        topic: String,
        partition: u32,
        offset: u64,
        #[source]
        source: KafkaError,
    },
    #[error("the broker did not say where the group {group} stands on {topic}")]
    Progress {
        group: String,
        topic: String,
        #[source]
        source: KafkaError,
    },
}
// ANCHOR_END: kafka_bus_error
