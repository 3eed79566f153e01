//! Fixtures shared by the test files of step 15: a real server per test, a
//! booking database per test, events, and handlers that note every call.

// Each test file uses only some of these.
#![allow(dead_code)]

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use solution15_bridge::async_nats::jetstream::{self, consumer::PullConsumer};
use solution15_bridge::{
    BookingDb, BookingEvent, BookingId, BusConfig, Consumed, DbConfig,
    Durability, EventHandler, EventId, Handled, Handler, HandlerError,
    IdentifiedEvent, NatsServer, Offset, Reply, RetryPolicy, STREAM, SeatId,
    UserId, classify, dead_letter_config, deliver, encode_identified,
    stream_config,
};

/// A fresh JetStream server for one test, stopped when the test ends (or
/// panics). Without nats-server installed, the test fails with the one line
/// that says how to install it.
pub fn server() -> NatsServer {
    NatsServer::start().unwrap_or_else(|e| panic!("{e}"))
}

pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// Step 12's kind of policy, with delays short enough for a test.
pub fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(50),
        cap: Duration::from_millis(400),
    }
}

/// One partition, short retries, AckWait long enough that it never fires by
/// itself in a test that does not wait for it.
pub fn config(max_attempts: u32) -> BusConfig {
    BusConfig {
        partitions: NonZeroU32::MIN,
        retry: policy(max_attempts),
        ..BusConfig::new()
    }
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
            durable_name: Some("test-consumer".to_owned()),
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
pub async fn deliver_until_idle<H: Handler>(
    jetstream: &jetstream::Context,
    consumer: &PullConsumer,
    handler: &mut H,
    config: &BusConfig,
    seed: u64,
) -> Consumed {
    let mut rng = rng(seed);
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

/// A plain JetStream context on `server`, for a test that looks behind the
/// bus.
pub async fn context(server: &NatsServer) -> jetstream::Context {
    let client = solution15_bridge::async_nats::connect(server.url())
        .await
        .unwrap_or_else(|e| {
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

pub fn seat(seat: &str) -> SeatId {
    SeatId::parse(seat).expect("the tests use valid seats")
}

/// A seat no other call of this test binary got.
pub fn fresh_seat() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let row = u8::try_from(n / 999 % 26).unwrap_or(0);
    format!("{}{}", char::from(b'A' + row), n % 999 + 1)
}

/// A `ReservationRequested` for a new booking of `seat`, with its id.
pub fn requested(seat_id: &str) -> (BookingId, IdentifiedEvent) {
    let booking_id = BookingId::new();
    let event = BookingEvent::ReservationRequested {
        booking_id,
        seat_id: seat(seat_id),
        user_id: UserId::new(),
    };
    (booking_id, IdentifiedEvent::new(event))
}

pub fn paid(booking_id: BookingId) -> IdentifiedEvent {
    IdentifiedEvent::new(BookingEvent::PaymentReceived { booking_id })
}

/// Step 11's booking database in a folder of its own.
pub struct TestDb {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("bookings.sqlite");
        TestDb { _dir: dir, path }
    }

    pub fn open(&self) -> BookingDb {
        let config = DbConfig {
            busy_timeout: Duration::from_millis(50),
            durability: Durability::SurvivesProcessCrash,
            read_only: false,
        };
        BookingDb::open(&self.path, config)
            .unwrap_or_else(|e| panic!("opening the booking database: {e}"))
    }
}

/// Step 11's handler, unchanged, with a note of each call: which event, and
/// whether it was its first delivery or a duplicate the dedupe absorbed.
pub struct Counting {
    pub db: BookingDb,
    pub first: Vec<EventId>,
    pub duplicates: Vec<EventId>,
}

impl Counting {
    pub fn new(db: BookingDb) -> Counting {
        Counting {
            db,
            first: Vec::new(),
            duplicates: Vec::new(),
        }
    }
}

impl Handler for Counting {
    fn handle(
        &mut self,
        offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        match EventHandler::handle(&mut self.db, offset, event) {
            Ok(Handled::First(_)) => self.first.push(event.id),
            Ok(Handled::Duplicate(_)) => self.duplicates.push(event.id),
            Err(error) => return Err(classify(&error)),
        }
        Ok(())
    }
}

/// A handler that fails its first `failures` calls with `error`, then
/// succeeds, and notes when each call came.
pub struct Scripted {
    pub error: HandlerError,
    pub failures: usize,
    pub calls: Vec<(EventId, Instant)>,
}

impl Scripted {
    pub fn failing(error: HandlerError, failures: usize) -> Scripted {
        Scripted {
            error,
            failures,
            calls: Vec::new(),
        }
    }
}

impl Handler for Scripted {
    fn handle(
        &mut self,
        _offset: Offset,
        event: &IdentifiedEvent,
    ) -> Result<(), HandlerError> {
        self.calls.push((event.id, Instant::now()));
        if self.calls.len() <= self.failures {
            return Err(self.error.clone());
        }
        Ok(())
    }
}

pub fn transient() -> HandlerError {
    HandlerError::Transient {
        reason: "the database is busy (a test)".to_owned(),
    }
}

pub fn permanent() -> HandlerError {
    HandlerError::Permanent {
        reason: "this event can never be handled (a test)".to_owned(),
    }
}
