//! Publishing to JetStream: one subject per partition, and the event id as
//! the message id, so that the server drops a repeat.

use std::num::NonZeroU32;

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage;
use solution01_events::BookingEvent;
use solution03_partitioning::{murmur2, partition_key, to_positive};
use solution06_log::{Offset, Partition};
use solution11_idempotency::{IdentifiedEvent, encode_identified};

use crate::bus::Published;
use crate::error::BusError;

/// The stream of booking events, and the subjects it stores.
pub const STREAM: &str = "BOOKINGS";
pub const SUBJECTS: &str = "bookings.*";

// ANCHOR: partition_of
/// The partition of an event's booking, as step 03 picks it: every event of
/// one booking lands in the same partition, so on the same subject.
pub fn partition_of(event: &BookingEvent, partitions: NonZeroU32) -> Partition {
    Partition(to_positive(murmur2(&partition_key(event))) % partitions)
}

/// The subject of a partition: `bookings.0`, `bookings.1`, ...
pub fn subject(partition: Partition) -> String {
    format!("bookings.{}", partition.0)
}
// ANCHOR_END: partition_of

// ANCHOR: message_for
/// The message that carries `event`: step 11's bytes (the event and its
/// id), with the event id in the `Nats-Msg-Id` header. Within the stream's
/// duplicate window the server answers a message whose id it has seen with
/// the first one's sequence, and stores nothing.
pub fn message_for(event: &IdentifiedEvent) -> PublishMessage {
    todo!("step 11's bytes, with the event id as message id (chapter 15)")
}
// ANCHOR_END: message_for

// ANCHOR: publish
/// Publishes `event` on its partition's subject and waits for the server's
/// answer: stored (where), or recognised as a duplicate.
///
/// The answer comes only once the stream has the message (on a cluster,
/// once a majority of its replicas has it): an error means "not known to be
/// stored", and the caller publishes the same event again. Its id makes that
/// safe.
pub async fn publish(
    jetstream: &jetstream::Context,
    event: &IdentifiedEvent,
    partitions: NonZeroU32,
) -> Result<Published, BusError> {
    todo!("send on the partition's subject, await the ack (chapter 15)")
}
// ANCHOR_END: publish
