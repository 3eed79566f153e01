//! Step 04: batching, or how a producer trades a few milliseconds of latency
//! for throughput.
//!
//! Sending every record on its own pays the fixed cost of a request (a system
//! call, a request header, a round trip, a wake-up on the broker) once per
//! record. A producer instead collects the records of each partition into a
//! batch and sends the batch when it is full or when it has waited long enough,
//! exactly like Kafka's `batch.size` and `linger.ms`.
//!
//! - `src/batch.rs`: [`BatchConfig`] and [`Batch`], given;
//! - `src/buffers.rs`: [`PartitionBuffers`], one open batch per partition,
//!   which decides when a batch is ready (exercises "push" and "linger");
//! - `src/broker.rs`: the [`BrokerClient`] trait and an [`InMemoryBroker`],
//!   given;
//! - `src/producer.rs`: the [`Producer`], which sends ready batches through the
//!   trait and never loses one that failed (exercise "producer");
//! - `src/linger_loop.rs`: the task that wakes the producer when a linger runs
//!   out (exercise "linger_loop").
//!
//! The chapter is `book/src/04-batching.md`.

// The stubs below do not use their arguments yet. Delete this line when you are done.
#![allow(unused_variables, unused_imports, dead_code)]

mod batch;
mod broker;
mod buffers;
mod linger_loop;
mod producer;

pub use batch::{Batch, BatchConfig};
pub use broker::{BrokerClient, InMemoryBroker, ReceivedBatch, SendError};
pub use buffers::PartitionBuffers;
pub use producer::{FlushError, Producer};
/// Records and topics from step 03, so that users of this crate need one
/// import.
pub use solution03_partitioning::{Partition, Record, Topic, TopicError};
