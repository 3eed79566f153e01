//! Test support for step 15 (given code): the calls the tests make to a
//! real server, compiled once here rather than in every test binary (each
//! would compile its own copy of the client's generic code, about a second
//! per binary on every check).
//!
//! Like a test's assertions, these functions panic with a message that says
//! what failed: they are meant for tests only.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::PullConsumer};
use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution11_idempotency::{IdentifiedEvent, encode_identified};
use solution12_retries::Handler;

use crate::bus::Consumed;
use crate::consumer::{
    BusConfig, DEAD_LETTERS, dead_letter_config, stream_config,
};
use crate::publish::STREAM;
use crate::server::NatsServer;
use crate::settle::{Reply, deliver};

/// A fresh JetStream server for one test, stopped when the test ends (or
/// panics). Without nats-server installed, the test fails with the one line
/// that says how to install it.
pub fn server() -> NatsServer {
    NatsServer::start().unwrap_or_else(|e| panic!("{e}"))
}

/// What the server hands out to `consumer` now: at most `at_most` messages,
/// after waiting at most 100 ms when it has none.
pub async fn fetch_now(
    consumer: &PullConsumer,
    at_most: usize,
) -> Vec<jetstream::Message> {
    let mut batch = consumer
        .fetch()
        .max_messages(at_most)
        .expires(Duration::from_millis(100))
        .messages()
        .await
        .unwrap_or_else(|e| panic!("fetching: {e}"));
    let mut messages = Vec::new();
    while let Some(message) = batch.next().await {
        messages.push(message.unwrap_or_else(|e| panic!("a message: {e}")));
    }
    messages
}

/// A message's stream sequence and how many times it was delivered.
pub fn sequence_and_delivered(message: &jetstream::Message) -> (u64, i64) {
    let info = message
        .info()
        .unwrap_or_else(|e| panic!("a JetStream message has its info: {e}"));
    (info.stream_sequence, info.delivered)
}

/// The booking stream and its dead-letter stream on `server`, created as the
/// bus creates them (given code), and a plain JetStream context.
pub async fn streams(
    server: &NatsServer,
    config: &BusConfig,
) -> jetstream::Context {
    let jetstream = context(server).await;
    for stream in [stream_config(config), dead_letter_config(config)] {
        jetstream
            .create_stream(stream)
            .await
            .unwrap_or_else(|e| panic!("creating a stream: {e}"));
    }
    jetstream
}

/// The durable name of [`test_consumer`].
pub const TEST_CONSUMER: &str = "test-consumer";

/// A consumer set up by the test itself (not by `consumer_config`), so
/// that each exercise is checked on its own: explicit acks, MaxDeliver from
/// the policy, AckWait long enough never to fire by itself.
pub async fn test_consumer(
    jetstream: &jetstream::Context,
    config: &BusConfig,
) -> PullConsumer {
    let stream = jetstream
        .get_stream(STREAM)
        .await
        .unwrap_or_else(|e| panic!("the stream {STREAM} is there: {e}"));
    stream
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some(TEST_CONSUMER.to_owned()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: config.ack_wait,
            max_deliver: i64::from(config.retry.max_attempts),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("a test consumer: {e}"))
}

/// Publishes `event` as the bus does, without the exercise's `publish`.
pub async fn publish_raw(
    jetstream: &jetstream::Context,
    event: &IdentifiedEvent,
) {
    let ack = jetstream
        .send_publish(
            "bookings.0",
            jetstream::message::PublishMessage::build()
                .payload(encode_identified(event))
                .message_id(event.id.to_string()),
        )
        .await
        .unwrap_or_else(|e| panic!("a publish: {e}"));
    ack.await
        .unwrap_or_else(|e| panic!("the server stores it: {e}"));
}

/// Hands every message of `consumer` to `deliver` until nothing is pending
/// or unacked, and counts the replies.
pub async fn deliver_until_idle(
    jetstream: &jetstream::Context,
    consumer: &PullConsumer,
    handler: &mut dyn Handler,
    config: &BusConfig,
    seed: u64,
) -> Consumed {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut consumed = Consumed::default();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the consumer did not finish within 10 s: does every delivery \
             get an answer (ACK, NAK or TERM)?"
        );
        let mut batch = consumer
            .fetch()
            .max_messages(16)
            .expires(Duration::from_millis(100))
            .messages()
            .await
            .unwrap_or_else(|e| panic!("fetching: {e}"));
        let mut got = 0;
        while let Some(message) = batch.next().await {
            let message = message.unwrap_or_else(|e| panic!("a message: {e}"));
            got += 1;
            let reply =
                deliver(jetstream, &message, handler, &config.retry, &mut rng)
                    .await
                    .unwrap_or_else(|e| panic!("deliver failed: {e} ({e:?})"));
            match reply {
                Reply::Ack => consumed.handled += 1,
                Reply::Nak { .. } => consumed.retried += 1,
                Reply::Term { .. } => consumed.dead_lettered += 1,
            }
        }
        if got == 0 {
            let info = consumer
                .get_info()
                .await
                .unwrap_or_else(|e| panic!("the consumer's info: {e}"));
            if info.num_pending == 0 && info.num_ack_pending == 0 {
                return consumed;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// How many messages a stream holds.
pub async fn count(jetstream: &jetstream::Context, name: &str) -> u64 {
    let stream = jetstream
        .get_stream(name)
        .await
        .unwrap_or_else(|e| panic!("the stream {name} is there: {e}"));
    let info = stream
        .get_info()
        .await
        .unwrap_or_else(|e| panic!("the stream answers: {e}"));
    info.state.messages
}

/// The header `name` of the first message in the dead-letter stream.
pub async fn first_dead_letter_header(
    jetstream: &jetstream::Context,
    name: &str,
) -> Option<String> {
    let stream = jetstream
        .get_stream(DEAD_LETTERS)
        .await
        .unwrap_or_else(|e| panic!("the stream {DEAD_LETTERS} is there: {e}"));
    let dead = stream
        .get_raw_message(1)
        .await
        .unwrap_or_else(|e| panic!("the first dead letter: {e}"));
    dead.headers
        .get(name)
        .map(|value| value.as_str().to_owned())
}

/// A plain JetStream context on `server`, for a test that looks behind the
/// bus.
pub async fn context(server: &NatsServer) -> jetstream::Context {
    let client = async_nats::connect(server.url()).await.unwrap_or_else(|e| {
        panic!("connecting to the test server failed: {e}")
    });
    jetstream::new(client)
}

/// How many messages the booking stream holds.
pub async fn stored(jetstream: &jetstream::Context) -> u64 {
    count(jetstream, STREAM).await
}

/// Everything a consumer of its own sees in the booking stream, without
/// acking: each message's subject, `Nats-Msg-Id` header and payload.
pub async fn read_all(
    jetstream: &jetstream::Context,
) -> Vec<(String, Option<String>, Vec<u8>)> {
    let stream = jetstream
        .get_stream(STREAM)
        .await
        .unwrap_or_else(|e| panic!("the stream {STREAM} is there: {e}"));
    let consumer: PullConsumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            ack_policy: jetstream::consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("a reading consumer: {e}"));
    let mut batch = consumer
        .fetch()
        .max_messages(1_000)
        .expires(Duration::from_millis(100))
        .messages()
        .await
        .unwrap_or_else(|e| panic!("fetching: {e}"));
    let mut all = Vec::new();
    while let Some(message) = batch.next().await {
        let message = message.unwrap_or_else(|e| panic!("a message: {e}"));
        let id = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("Nats-Msg-Id"))
            .map(|value| value.as_str().to_owned());
        all.push((message.subject.to_string(), id, message.payload.to_vec()));
    }
    all
}

/// The booking stream on `server` with a consumer set up by `consumer`.
pub async fn stream_with_consumer(
    server: &NatsServer,
    config: &BusConfig,
    consumer: jetstream::consumer::pull::Config,
) -> (jetstream::Context, PullConsumer) {
    let jetstream = context(server).await;
    let stream = jetstream
        .create_stream(stream_config(config))
        .await
        .unwrap_or_else(|e| panic!("creating the stream: {e}"));
    let consumer = stream.create_consumer(consumer).await.unwrap_or_else(|e| {
        panic!("the server refused the consumer config: {e} ({e:?})")
    });
    (jetstream, consumer)
}
