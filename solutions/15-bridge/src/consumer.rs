//! The stream and its durable consumer: explicit acks as commits, AckWait and
//! MaxDeliver as retries, a bound on acks pending, and the ack floor as the
//! committed offset.

use std::num::NonZeroU32;
use std::time::Duration;

use async_nats::jetstream::consumer::{self, AckPolicy, pull};
use async_nats::jetstream::stream;
use solution06_log::Offset;
use solution12_retries::RetryPolicy;

use crate::publish::{STREAM, SUBJECTS};

/// The durable consumer of the booking service.
pub const CONSUMER: &str = "booking-handler";
/// The stream that keeps the events given up on: JetStream has none built in.
pub const DEAD_LETTERS: &str = "BOOKINGS_DEAD";

// ANCHOR: bus_config
/// How the JetStream bus is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusConfig {
    /// Subjects `bookings.0` to `bookings.<partitions - 1>`.
    pub partitions: NonZeroU32,
    /// Step 12's policy: `max_attempts` is MaxDeliver, the delays are the
    /// NAK delays.
    pub retry: RetryPolicy,
    /// How long the server waits for an answer to a delivery before it
    /// delivers the message again.
    pub ack_wait: Duration,
    /// The most messages delivered and not yet acked. 1 keeps every event
    /// in order under redelivery, at the price of one message at a time.
    pub max_ack_pending: u32,
    /// Copies of the stream: 1 on one server, 3 on a three-node cluster.
    pub replicas: usize,
    /// How long the server remembers message ids to drop repeats.
    pub duplicate_window: Duration,
}
// ANCHOR_END: bus_config

impl BusConfig {
    /// One server, four partitions, step 12's kind of retries (four attempts,
    /// 100 ms doubling to at most 2 s), 30 s AckWait (the server's default),
    /// 1,000 acks pending (the default), two minutes of dedupe (the default).
    pub fn new() -> BusConfig {
        BusConfig {
            partitions: NonZeroU32::MIN.saturating_add(3),
            retry: RetryPolicy {
                max_attempts: 4,
                base: Duration::from_millis(100),
                cap: Duration::from_secs(2),
            },
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 1_000,
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
        }
    }
}

impl Default for BusConfig {
    fn default() -> BusConfig {
        BusConfig::new()
    }
}

/// The stream of booking events: every `bookings.<partition>` subject, kept
/// on disk, with the configured copies and dedupe window.
pub fn stream_config(config: &BusConfig) -> stream::Config {
    stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![SUBJECTS.to_owned()],
        storage: stream::StorageType::File,
        num_replicas: config.replicas,
        duplicate_window: config.duplicate_window,
        ..Default::default()
    }
}

/// The dead-letter stream: the given-up events, on `dead.bookings.*`.
pub fn dead_letter_config(config: &BusConfig) -> stream::Config {
    stream::Config {
        name: DEAD_LETTERS.to_owned(),
        subjects: vec![format!("dead.{SUBJECTS}")],
        storage: stream::StorageType::File,
        num_replicas: config.replicas,
        duplicate_window: config.duplicate_window,
        ..Default::default()
    }
}

// ANCHOR: consumer_config
/// The durable pull consumer: every message acked on its own, after the
/// handler's transaction committed (explicit acks); redelivered after
/// `ack_wait` without an answer; delivered at most `retry.max_attempts`
/// times; at most `max_ack_pending` messages out at once.
pub fn consumer_config(config: &BusConfig) -> pull::Config {
    // exercise: solution
    pull::Config {
        durable_name: Some(CONSUMER.to_owned()),
        ack_policy: AckPolicy::Explicit,
        ack_wait: config.ack_wait,
        max_deliver: i64::from(config.retry.max_attempts),
        max_ack_pending: i64::from(config.max_ack_pending),
        ..Default::default()
    }
    // exercise: stub
    // todo!("a durable consumer with explicit acks and bounds (chapter 15)")
    // exercise: end
}
// ANCHOR_END: consumer_config

// ANCHOR: progress
/// Where a consumer stands, in step 09's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The ack floor: every message up to this stream sequence is acked (or
    /// terminated). Sequences start at 1, so it is also how many messages of
    /// the stream are done: step 09's committed offset.
    pub committed: Offset,
    /// Messages in the stream not delivered yet: the consumer's lag.
    pub lag: u64,
    /// Messages delivered and not acked yet: being handled, or waiting for
    /// a redelivery.
    pub in_flight: usize,
}

/// Reads a consumer's progress from the server's answer.
pub fn progress(info: &consumer::Info) -> Progress {
    // exercise: solution
    Progress {
        committed: Offset(info.ack_floor.stream_sequence),
        lag: info.num_pending,
        in_flight: info.num_ack_pending,
    }
    // exercise: stub
    // todo!("the ack floor, the messages pending, the acks pending (chapter 15)")
    // exercise: end
}
// ANCHOR_END: progress
