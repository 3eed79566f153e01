//! Exercise "settle": `reply_for` and `deliver` in src/settle.rs, the fate
//! of each record, against a real broker.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::Timestamp;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use step16_kafka::rdkafka;
use step16_kafka::{
    BookingId, DEAD_ATTEMPTS, DEAD_OFFSET, DEAD_PARTITION, DEAD_REASON,
    EVENT_ID_HEADER, HandlerError, KafkaBusError, KafkaConfig, Reply, Settled,
    deliver, encode_identified, reply_for,
};

use crate::common::{
    PERMANENT_REASON, Scripted, TRANSIENT_REASON, TestClient, asker, broker,
    committed_by, next_record, on_loopback, permanent, policy, publish_event,
    publish_raw, read_all, requested, rng, test_consumer, test_producer,
    topics, transient,
};

#[test]
fn a_handled_record_is_committed() {
    let reply = reply_for(Ok(()), 1, &policy(3), &mut rng(1));
    assert_eq!(reply, Reply::Commit, "Ok from the handler is a commit");
}

#[test]
fn a_transient_failure_is_retried_after_step_12s_delay_for_that_retry() {
    let policy = policy(5);
    for attempt in 1..=4 {
        let reply = reply_for(Err(transient()), attempt, &policy, &mut rng(9));
        let want = policy.delay(attempt, &mut rng(9));
        assert_eq!(
            reply,
            Reply::RetryAfter(want),
            "after failed attempt {attempt} of 5, retry after the policy's \
             delay for retry {attempt} (RetryPolicy::after_failure), drawn \
             from the rng you were given"
        );
    }
}

#[test]
fn a_permanent_failure_is_a_dead_letter_at_once() {
    let reply = reply_for(Err(permanent()), 1, &policy(5), &mut rng(1));
    assert!(
        matches!(&reply, Reply::DeadLetter { reason }
            if reason.contains(PERMANENT_REASON)),
        "a permanent failure is never retried: a dead letter whose reason is \
         the handler's error (its Display, with \"{PERMANENT_REASON}\"), got \
         {reply:?}"
    );
}

#[test]
fn a_transient_failure_is_a_dead_letter_when_the_attempts_are_spent() {
    let reply = reply_for(Err(transient()), 3, &policy(3), &mut rng(1));
    assert!(
        matches!(&reply, Reply::DeadLetter { reason }
            if reason.contains(TRANSIENT_REASON)),
        "the third failed attempt of three allowed is a dead letter with the \
         handler's error as reason, not another retry, got {reply:?}"
    );
}

#[test]
fn an_event_of_an_unknown_booking_waits_like_a_retry_until_the_last_attempt() {
    let policy = policy(4);
    let unknown = || HandlerError::NotRequestedYet {
        booking_id: BookingId::new(),
    };
    for attempt in 1..4 {
        let reply = reply_for(Err(unknown()), attempt, &policy, &mut rng(4));
        assert_eq!(
            reply,
            Reply::RetryAfter(policy.delay(attempt, &mut rng(4))),
            "NotRequestedYet on attempt {attempt} of 4 waits like a retry, \
             policy.delay({attempt}): its request may still come"
        );
    }
    let error = unknown();
    let want = error.to_string();
    let last = reply_for(Err(error), 4, &policy, &mut rng(4));
    assert!(
        matches!(&last, Reply::DeadLetter { reason } if *reason == want),
        "NotRequestedYet on attempt 4 of 4 is a dead letter whose reason is \
         the handler's error ({want:?}): no attempt remains, got {last:?}"
    );
}

/// A broker with the topics (one partition), the test's own consumer and
/// producer, and `policy(max_attempts)` as the retry policy.
struct Setup {
    _broker: step16_kafka::TansuBroker,
    config: KafkaConfig,
    consumer: TestClient<StreamConsumer>,
    producer: TestClient<FutureProducer>,
}

async fn setup(max_attempts: u32) -> Setup {
    let broker = broker();
    let mut config = topics(&broker, 1);
    config.retry = policy(max_attempts);
    let consumer = test_consumer(&config);
    let producer = test_producer(&config);
    Setup {
        _broker: broker,
        config,
        consumer,
        producer,
    }
}

impl Setup {
    /// Publishes one event and reads it back.
    async fn one_event(&self) -> OwnedMessage {
        publish_event(&self.producer, &self.config, &requested().1).await;
        next_record(&self.consumer).await
    }

    async fn deliver(
        &self,
        message: &OwnedMessage,
        handler: &mut Scripted,
    ) -> Result<Settled, KafkaBusError> {
        deliver(
            &self.consumer,
            &self.producer,
            &self.config,
            message,
            handler,
            &mut rng(7),
        )
        .await
    }
}

#[tokio::test]
async fn a_handled_record_is_committed_after_the_handler_ran() {
    let setup = setup(3).await;
    // The second record of the partition, at offset 1.
    let _first = setup.one_event().await;
    let message = setup.one_event().await;
    let mut handler = Scripted::succeeding();
    // From inside the handler: what the group has committed at that moment.
    let seen = Rc::new(RefCell::new(Vec::new()));
    let config = setup.config.clone();
    let seen_inside = Rc::clone(&seen);
    let asker = asker(&config);
    handler.on_call = Some(Box::new(move || {
        seen_inside.borrow_mut().push(committed_by(&asker, &config));
    }));
    let settled = setup.deliver(&message, &mut handler).await;
    let settled = settled.unwrap_or_else(|e| panic!("deliver: {e} ({e:?})"));
    assert_eq!(
        settled,
        Settled {
            reply: Reply::Commit,
            attempts: 1
        },
        "one attempt, handled, committed"
    );
    assert_eq!(
        *seen.borrow(),
        vec![vec![None]],
        "the record was committed before the handler ran: a crash in the \
         handler would lose it. Commit after the effect (at-least-once), \
         never before (at-most-once)"
    );
    assert_eq!(
        committed_by(&setup.consumer, &setup.config),
        vec![Some(2)],
        "once handled, the record is committed: offset 1 handled, the \
         group's committed offset is 2 (commit_after)"
    );
    assert_eq!(
        handler.offsets,
        vec![1],
        "the handler gets the record's offset (1 here): step 11 stores it"
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_in_place_after_its_delay() {
    let mut setup = setup(3).await;
    setup.config.retry.base = Duration::from_millis(200);
    setup.config.retry.cap = Duration::from_millis(200);
    // A seed whose first delay is long enough to tell a wait from none.
    let seed = (0..100)
        .find(|&seed| {
            setup.config.retry.delay(1, &mut rng(seed))
                >= Duration::from_millis(120)
        })
        .expect("some seed draws at least 120 ms of 200");
    let want = setup.config.retry.delay(1, &mut rng(seed));
    let message = setup.one_event().await;
    let mut handler = Scripted::failing(transient(), 1);
    // A task beside `deliver` on the test's one thread, which ticks only
    // while `deliver` awaits: a blocking sleep stops it.
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let seen = Rc::new(RefCell::new(Vec::new()));
    let seen_inside = Rc::clone(&seen);
    handler.on_call = Some(Box::new(move || {
        seen_inside.borrow_mut().push(ticks.load(Ordering::Relaxed));
    }));
    let settled = deliver(
        &setup.consumer,
        &setup.producer,
        &setup.config,
        &message,
        &mut handler,
        &mut rng(seed),
    )
    .await
    .unwrap_or_else(|e| panic!("deliver: {e} ({e:?})"));
    assert_eq!(
        settled,
        Settled {
            reply: Reply::Commit,
            attempts: 2
        },
        "a transient failure is retried: the second attempt succeeds and the \
         record is committed after 2 attempts"
    );
    let waited = handler.calls[1].1.duration_since(handler.calls[0].1);
    assert!(
        waited + Duration::from_millis(5) >= want,
        "the retry came after {waited:?}, before the {want:?} of \
         RetryAfter: sleep the delay (tokio::time::sleep) before the next \
         attempt"
    );
    ticker.abort();
    let ticks_seen = seen.borrow().clone();
    assert!(
        ticks_seen[1] > ticks_seen[0],
        "nothing else ran during the {waited:?} of the retry's delay: sleep \
         with tokio::time::sleep(delay).await, not std::thread::sleep, which \
         blocks the thread that every other task of the service runs on"
    );
    assert_eq!(
        committed_by(&setup.consumer, &setup.config),
        vec![Some(1)],
        "the record is committed once handled"
    );
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_once_and_then_committed() {
    let setup = setup(5).await;
    let message = setup.one_event().await;
    let mut handler = Scripted::failing(permanent(), usize::MAX);
    let settled = setup.deliver(&message, &mut handler).await;
    let settled = settled.unwrap_or_else(|e| panic!("deliver: {e} ({e:?})"));
    assert_eq!(
        handler.calls.len(),
        1,
        "retrying a permanent failure cannot help: one attempt only"
    );
    assert!(
        matches!(settled.reply, Reply::DeadLetter { .. }),
        "a permanent failure is a dead letter, got {settled:?}"
    );
    let dead = read_all(&setup.config, &setup.config.dead_letter_topic).await;
    assert_eq!(
        dead.len(),
        1,
        "the record is published to the dead-letter topic \
         (publish_dead_letter), once"
    );
    assert!(
        dead[0]
            .header(DEAD_REASON)
            .is_some_and(|reason| reason.contains(PERMANENT_REASON)),
        "the dead letter's {DEAD_REASON} header carries the handler's error"
    );
    assert_eq!(
        dead[0].header(DEAD_ATTEMPTS).as_deref(),
        Some("1"),
        "given up on after its first attempt, the dead letter's \
         {DEAD_ATTEMPTS} is 1: the attempts the handler made, not \
         max_attempts"
    );
    assert_eq!(
        committed_by(&setup.consumer, &setup.config),
        vec![Some(1)],
        "once it is a dead letter, the record is committed: it must not \
         hold the partition back"
    );
}

#[tokio::test]
async fn a_transient_failure_is_dead_lettered_after_max_attempts() {
    let setup = setup(3).await;
    let message = setup.one_event().await;
    let mut handler = Scripted::failing(transient(), usize::MAX);
    let settled = setup.deliver(&message, &mut handler).await;
    let settled = settled.unwrap_or_else(|e| panic!("deliver: {e} ({e:?})"));
    assert_eq!(
        handler.calls.len(),
        3,
        "max_attempts = 3: the handler runs three times in all (the first \
         attempt counts), then the record is given up on"
    );
    assert_eq!(
        settled.attempts, 3,
        "Settled::attempts says how many times the handler ran"
    );
    let dead = read_all(&setup.config, &setup.config.dead_letter_topic).await;
    assert_eq!(dead.len(), 1, "the spent record is a dead letter");
    let headers = [DEAD_ATTEMPTS, DEAD_PARTITION, DEAD_OFFSET, EVENT_ID_HEADER]
        .map(|name| dead[0].header(name));
    assert_eq!(
        headers[..3],
        [
            Some("3".to_owned()),
            Some("0".to_owned()),
            Some("0".to_owned())
        ],
        "the dead letter says after how many attempts (3) and where it came \
         from (partition 0, offset 0): pass the attempts the handler made \
         to publish_dead_letter"
    );
    assert!(
        headers[3].is_some(),
        "the dead letter keeps the record's own headers (the event id)"
    );
    assert_eq!(
        committed_by(&setup.consumer, &setup.config),
        vec![Some(1)],
        "after its dead letter, the record is committed"
    );
}

#[tokio::test]
async fn bytes_that_are_not_an_event_are_dead_lettered_without_the_handler() {
    let setup = setup(3).await;
    let topic = setup.config.topic.clone();
    let garbage = b"not protobuf at all";
    let headers = OwnedHeaders::new();
    publish_raw(&setup.producer, &topic, Some(0), b"key", garbage, headers)
        .await;
    let message = next_record(&setup.consumer).await;
    let mut handler = Scripted::succeeding();
    let settled = setup.deliver(&message, &mut handler).await;
    let settled = settled.unwrap_or_else(|e| panic!("deliver: {e} ({e:?})"));
    assert!(
        handler.calls.is_empty(),
        "bytes that do not decode (decode_identified fails) never reach the \
         handler"
    );
    assert!(
        matches!(&settled.reply, Reply::DeadLetter { reason }
            if reason.starts_with("not a booking event: ")
                && reason.len() > "not a booking event: ".len()),
        "they can never be handled: a dead letter at once, with the reason \
         \"not a booking event: \" followed by the decode error, got \
         {settled:?}"
    );
    let dead = read_all(&setup.config, &setup.config.dead_letter_topic).await;
    assert_eq!(
        dead.iter()
            .map(|d| d.payload.as_deref())
            .collect::<Vec<_>>(),
        vec![Some(&garbage[..])],
        "the dead letter keeps the bytes, byte for byte"
    );
    assert_eq!(
        dead[0].header(DEAD_ATTEMPTS).as_deref(),
        Some("0"),
        "bytes that never reached the handler were attempted 0 times: the \
         dead letter's {DEAD_ATTEMPTS} is the attempts the handler made, not \
         max_attempts"
    );
    assert_eq!(
        committed_by(&setup.consumer, &setup.config),
        vec![Some(1)],
        "and the record is committed after its dead letter"
    );
}

/// A producer whose queue holds one record, and holds it (it lingers for a
/// minute): every dead letter sent through it is refused at once (a full
/// queue).
fn full_producer(config: &KafkaConfig) -> TestClient<FutureProducer> {
    let mut full = on_loopback(ClientConfig::new());
    full.set("bootstrap.servers", &config.bootstrap)
        .set("queue.buffering.max.messages", "1")
        .set("linger.ms", "60000");
    let full: FutureProducer = full.create().expect("a producer");
    let filler = FutureRecord::<[u8], [u8]>::to(&config.topic);
    // The pending delivery is dropped; the record stays in the queue.
    let _pending = full
        .send_result(filler.payload(b"filler"))
        .unwrap_or_else(|_| panic!("the first record fits in the queue"));
    TestClient::new(full)
}

#[tokio::test]
async fn a_dead_letter_that_cannot_be_published_is_an_error_and_no_commit() {
    let setup = setup(3).await;
    let message = setup.one_event().await;
    let full = full_producer(&setup.config);
    let mut handler = Scripted::failing(permanent(), usize::MAX);
    let settled = deliver(
        &setup.consumer,
        &full,
        &setup.config,
        &message,
        &mut handler,
        &mut rng(1),
    )
    .await;
    assert!(
        matches!(settled, Err(KafkaBusError::DeadLetter { .. })),
        "the dead letter's failure must come back as \
         KafkaBusError::DeadLetter (propagate publish_dead_letter's error \
         with ?), not be swallowed, got {settled:?}"
    );
    assert_eq!(
        committed_by(&setup.consumer, &setup.config),
        vec![None],
        "a record whose dead letter was not stored must not be committed: \
         it would be lost. Commit only after the handler ran and the broker \
         has the dead letter"
    );
}

#[tokio::test]
async fn bytes_whose_dead_letter_cannot_be_published_are_an_error_and_no_commit()
 {
    let setup = setup(3).await;
    let topic = setup.config.topic.clone();
    let headers = OwnedHeaders::new();
    publish_raw(&setup.producer, &topic, Some(0), b"key", b"junk", headers)
        .await;
    let message = next_record(&setup.consumer).await;
    let full = full_producer(&setup.config);
    let mut handler = Scripted::succeeding();
    let settled = deliver(
        &setup.consumer,
        &full,
        &setup.config,
        &message,
        &mut handler,
        &mut rng(1),
    )
    .await;
    assert!(
        matches!(settled, Err(KafkaBusError::DeadLetter { .. })),
        "bytes that are not an event take the same road as any dead letter: \
         its failure comes back as KafkaBusError::DeadLetter, got \
         {settled:?}"
    );
    assert_eq!(
        committed_by(&setup.consumer, &setup.config),
        vec![None],
        "bytes whose dead letter was not stored must not be committed: they \
         would be lost. An early return for bytes that do not decode must \
         keep the order: dead letter first, commit after"
    );
}

#[tokio::test]
async fn a_commit_the_broker_refuses_is_an_error_of_deliver() {
    let setup = setup(3).await;
    let event = encode_identified(&requested().1);
    // A handled record of a partition the topic does not have: the broker
    // refuses its commit.
    let elsewhere = OwnedMessage::new(
        Some(event.to_vec()),
        None,
        setup.config.topic.clone(),
        Timestamp::NotAvailable,
        7,
        0,
        None,
    );
    let mut handler = Scripted::succeeding();
    let settled = setup.deliver(&elsewhere, &mut handler).await;
    assert_eq!(handler.calls.len(), 1, "the event is handled");
    assert!(
        matches!(settled, Err(KafkaBusError::Commit { .. })),
        "a commit that failed must come back from deliver (commit_after(..)?), \
         not be dropped: the caller would go on as if the record were \
         committed, got {settled:?}"
    );
}
