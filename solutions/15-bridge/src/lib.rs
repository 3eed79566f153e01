//! Step 15: the same consumer and handler on a real broker, NATS JetStream.
//!
//! - `bus.rs`: the [`EventBus`] the service talks to (given).
//! - `log_bus.rs`: the workshop's durable log of steps 10-12 behind it
//!   ([`LogBus`], given).
//! - `publish.rs`: publishing on a subject per partition, with the event id
//!   as `Nats-Msg-Id` ([`message_for`], [`publish`]).
//! - `consumer.rs`: the durable consumer, explicit acks and bounds, and its
//!   progress as a committed offset and a lag ([`consumer_config`],
//!   [`progress`]).
//! - `settle.rs`: one delivery, answered with ACK, NAK with a delay, or a
//!   dead letter and TERM ([`reply_for`], [`deliver`]).
//! - `jetstream.rs`: JetStream behind the bus ([`JetStreamBus`], given).
//! - `relay.rs`: step 13's outbox relayed to JetStream ([`relay_once`],
//!   given).
//! - `server.rs`: real `nats-server` processes for tests and demos, one or a
//!   cluster of three ([`NatsServer`], [`NatsCluster`], given).
//! - `harness.rs`: what the tests ask of a real server (given).
//! - `failover.rs`: bookings through a cluster that loses the stream's
//!   leader ([`bookings_through_a_leader_kill`], given).
//!
//! The chapter is `book/src/15-bridge.md`.

// exercise: solution
// exercise: stub
// // The stubs below do not use their arguments, or the imports they will need, yet.
// // Delete this `allow` when you are done.
// #![allow(unused_variables, unused_imports, dead_code)]
// exercise: end

mod bus;
mod consumer;
mod error;
mod failover;
pub mod harness;
mod jetstream;
mod log_bus;
mod publish;
mod relay;
pub mod server;
mod settle;

pub use bus::{Consumed, EventBus, Published};
pub use consumer::{
    BusConfig, CONSUMER, DEAD_LETTERS, Progress, consumer_config,
    dead_letter_config, progress, stream_config,
};
pub use error::BusError;
pub use failover::{
    FailoverError, FailoverReport, bookings_through_a_leader_kill,
    connect_to_cluster,
};
pub use jetstream::JetStreamBus;
pub use log_bus::{LogBus, LogBusError};
pub use publish::{
    STREAM, SUBJECTS, message_for, partition_of, publish, subject,
};
pub use relay::{JetStreamRelayError, RelayPass, relay_once};
pub use server::{NatsCluster, NatsServer, ServerError};
pub use settle::{Reply, deliver, reply_for, store_dead_letter};

// Re-exported so that users of this crate (and its tests) name the same types
// it works with, with one dependency.
pub use async_nats;
pub use solution01_events::InvalidSeatId;
pub use solution06_log::{Offset, Partition};
pub use solution10_recovery::FsyncPolicy;
pub use solution11_idempotency::{
    BookingDb, DbConfig, Durability, EventHandler, EventId, Handled,
    IdentifiedEvent, Outcome, decode_identified, encode_identified,
};
pub use solution12_retries::{
    BookingEvent, BookingId, BookingState, Handler, HandlerError, ParkLimits,
    RetryPolicy, SeatId, UserId, WorkerConfig, classify,
};
pub use solution13_outbox::{OutboxDb, OutboxError};
