//! Exercise "settle": `reply_for` and `deliver` in src/settle.rs, the answer
//! to each delivery, against a real server.

use std::time::Duration;

use crate::common::{
    PERMANENT_REASON, Scripted, TEST_CONSUMER, TRANSIENT_REASON, config, count,
    deliver_until_idle, fetch_now, first_dead_letter_header, fresh_seat,
    permanent, policy, publish_raw, requested, rng, server, streams,
    test_consumer, transient,
};
use solution15_bridge::async_nats::{
    self,
    jetstream::{self, consumer::PullConsumer},
};
use solution15_bridge::{
    BookingId, BusConfig, BusError, DEAD_LETTERS, HandlerError, NatsServer,
    Reply, STREAM, dead_letter_config, deliver, reply_for,
};

#[test]
fn a_handled_event_is_acked() {
    let reply = reply_for(Ok(()), 1, &policy(3), &mut rng(1));
    assert_eq!(reply, Reply::Ack, "Ok from the handler is an ACK");
}

#[test]
fn a_transient_failure_is_naked_with_step_12s_delay_for_that_retry() {
    let policy = policy(5);
    for delivered in 1..=4 {
        let reply =
            reply_for(Err(transient()), delivered, &policy, &mut rng(9));
        let want = policy.delay(delivered, &mut rng(9));
        assert_eq!(
            reply,
            Reply::Nak { delay: want },
            "after failed delivery {delivered} of 5, NAK with the policy's \
             delay for retry {delivered}: the one inside \
             `Next::RetryAfter(delay)` from RetryPolicy::after_failure, which \
             has drawn it from the rng you were given (a second draw gives \
             another delay)"
        );
    }
}

#[test]
fn a_permanent_failure_is_terminated_at_once() {
    let reply = reply_for(Err(permanent()), 1, &policy(5), &mut rng(1));
    assert!(
        matches!(&reply, Reply::Term { .. }),
        "a permanent failure is never retried: TERM, got {reply:?}"
    );
    assert!(
        matches!(&reply, Reply::Term { reason }
            if reason.contains(PERMANENT_REASON)),
        "the TERM's reason must carry the handler's error (its Display, \
         which includes the reason \"{PERMANENT_REASON}\"), got {reply:?}"
    );
}

#[test]
fn a_transient_failure_is_terminated_when_the_attempts_are_spent() {
    let reply = reply_for(Err(transient()), 3, &policy(3), &mut rng(1));
    assert!(
        matches!(reply, Reply::Term { .. }),
        "the third failed delivery of three allowed is dead-lettered, not \
         NAKed again, got {reply:?}"
    );
    assert!(
        matches!(&reply, Reply::Term { reason }
            if reason.contains(TRANSIENT_REASON)),
        "the TERM's reason must carry the handler's error (its Display, \
         which includes the reason \"{TRANSIENT_REASON}\"), got {reply:?}"
    );
}

#[test]
fn an_event_of_an_unknown_booking_waits_like_a_retry_and_is_bounded_too() {
    let error = HandlerError::NotRequestedYet {
        booking_id: BookingId::new(),
    };
    let early = reply_for(Err(error.clone()), 1, &policy(3), &mut rng(4));
    assert_eq!(
        early,
        Reply::Nak {
            delay: policy(3).delay(1, &mut rng(4))
        },
        "an event whose booking is unknown is NAKed with the retry delay: \
         its request may still come"
    );
    let late = reply_for(Err(error), 3, &policy(3), &mut rng(4));
    assert!(
        matches!(late, Reply::Term { .. }),
        "after max_attempts deliveries it is dead-lettered, got {late:?}"
    );
}

#[test]
fn an_event_of_an_unknown_booking_is_naked_until_the_last_attempt() {
    let policy = policy(5);
    let seed = 11;
    for delivered in 1..5 {
        let error = HandlerError::NotRequestedYet {
            booking_id: BookingId::new(),
        };
        let reply = reply_for(Err(error), delivered, &policy, &mut rng(seed));
        assert_eq!(
            reply,
            Reply::Nak {
                delay: policy.delay(delivered, &mut rng(seed))
            },
            "NotRequestedYet on delivery {delivered} of 5 must be NAKed with \
             policy.delay({delivered}) while attempts remain"
        );
    }
    let error = HandlerError::NotRequestedYet {
        booking_id: BookingId::new(),
    };
    let last = reply_for(Err(error), 5, &policy, &mut rng(seed));
    assert!(
        matches!(last, Reply::Term { .. }),
        "NotRequestedYet on delivery 5 of 5 must be dead-lettered (TERM): \
         no attempt remains, got {last:?}"
    );
}

/// A server with the booking streams and a consumer of the test's own.
async fn setup(
    server: &NatsServer,
    config: &BusConfig,
) -> (jetstream::Context, PullConsumer) {
    let jetstream = streams(server, config).await;
    let consumer = test_consumer(&jetstream, config).await;
    (jetstream, consumer)
}

async fn progress_of(consumer: &PullConsumer) -> (u64, usize) {
    let info = consumer.get_info().await.expect("the consumer's info");
    (info.ack_floor.stream_sequence, info.num_ack_pending)
}

#[tokio::test]
async fn a_failed_delivery_comes_back_and_is_handled_the_second_time() {
    let server = server();
    let config = config(3);
    let (jetstream, consumer) = setup(&server, &config).await;
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    let mut handler = Scripted::failing(transient(), 1);
    let consumed =
        deliver_until_idle(&jetstream, &consumer, &mut handler, &config, 7)
            .await;
    assert_eq!(
        handler.calls.len(),
        2,
        "a delivery that failed must not be acked: the server must deliver \
         it again (an ACK sent before the handler ran loses it)"
    );
    assert_eq!(
        (consumed.handled, consumed.retried, consumed.dead_lettered),
        (1, 1, 0),
        "one NAK, then one ACK"
    );
    assert_eq!(
        handler.offsets,
        vec![1, 1],
        "the handler's offset is the message's stream sequence (1 here) on \
         every delivery, not the delivery count or the consumer sequence: \
         step 11 stores it as the event's first_offset"
    );
    assert_eq!(
        progress_of(&consumer).await,
        (1, 0),
        "once handled, the message is acked: the ack floor moves past it"
    );
}

#[tokio::test]
async fn the_redelivery_waits_for_the_nak_delay() {
    let server = server();
    let mut config = config(3);
    config.retry.base = Duration::from_millis(400);
    config.retry.cap = Duration::from_millis(400);
    // A seed whose first delay is long enough to tell a NAK with a delay
    // from one without.
    let seed = (0..100)
        .find(|&seed| {
            config.retry.delay(1, &mut rng(seed)) >= Duration::from_millis(250)
        })
        .expect("some seed draws at least 250 ms of 400");
    let want = config.retry.delay(1, &mut rng(seed));
    let (jetstream, consumer) = setup(&server, &config).await;
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    let mut handler = Scripted::failing(transient(), 1);
    deliver_until_idle(&jetstream, &consumer, &mut handler, &config, seed)
        .await;
    assert_eq!(
        handler.calls.len(),
        2,
        "the failed delivery must be NAKed and come back once: handler \
         called twice"
    );
    let waited = handler.calls[1].1.duration_since(handler.calls[0].1);
    assert!(
        waited + Duration::from_millis(20) >= want,
        "the server redelivered after {waited:?}, before the {want:?} of \
         the NAK: NAK with the delay (AckKind::Nak(Some(delay))), not a \
         plain NAK, and with the delay of `Next::RetryAfter(delay)`: \
         drawing again from the rng gives another delay"
    );
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_and_never_delivered_again() {
    let server = server();
    let config = config(5);
    let (jetstream, consumer) = setup(&server, &config).await;
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    let mut handler = Scripted::failing(permanent(), usize::MAX);
    let consumed =
        deliver_until_idle(&jetstream, &consumer, &mut handler, &config, 7)
            .await;
    assert_eq!(
        handler.calls.len(),
        1,
        "retrying a permanent failure cannot help: one attempt only"
    );
    assert_eq!(
        consumed.dead_lettered, 1,
        "a permanent failure must be answered Reply::Term (after_failure \
         gives DeadLetter)"
    );
    assert_eq!(
        count(&jetstream, DEAD_LETTERS).await,
        1,
        "a terminated event is kept in the dead-letter stream first: call \
         store_dead_letter before ack_with(AckKind::Term)"
    );
    let reason = first_dead_letter_header(&jetstream, "Dead-Reason").await;
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.contains(PERMANENT_REASON)),
        "the dead letter's Dead-Reason header carries the handler's error \
         (the TERM's reason), got {reason:?}"
    );
    assert_eq!(
        first_dead_letter_header(&jetstream, "Dead-Attempts")
            .await
            .as_deref(),
        Some("1"),
        "given up on its first delivery, the dead letter's Dead-Attempts is \
         1: pass the message's delivery count (delivered), not \
         max_attempts, to store_dead_letter"
    );
    assert_eq!(
        progress_of(&consumer).await,
        (1, 0),
        "a terminated message no longer holds the ack floor back"
    );
}

#[tokio::test]
async fn a_transient_failure_is_dead_lettered_after_max_deliver_attempts() {
    let server = server();
    let config = config(3);
    let (jetstream, consumer) = setup(&server, &config).await;
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    let mut handler = Scripted::failing(transient(), usize::MAX);
    let consumed =
        deliver_until_idle(&jetstream, &consumer, &mut handler, &config, 7)
            .await;
    assert_eq!(
        handler.calls.len(),
        3,
        "three attempts in all (max_attempts = MaxDeliver = 3), then it is \
         given up on"
    );
    assert_eq!(
        (consumed.retried, consumed.dead_lettered),
        (2, 1),
        "two NAKs, then a dead letter"
    );
    assert_eq!(
        count(&jetstream, DEAD_LETTERS).await,
        1,
        "the spent event is in the dead-letter stream"
    );
    assert_eq!(
        first_dead_letter_header(&jetstream, "Dead-Attempts")
            .await
            .as_deref(),
        Some("3"),
        "the dead letter's Dead-Attempts header says how many times it was \
         tried: pass the message's delivery count (delivered) to \
         store_dead_letter"
    );
}

#[tokio::test]
async fn an_ack_the_server_did_not_confirm_is_an_error() {
    let mut server = server();
    let config = config(3);
    let (jetstream, _) = setup(&server, &config).await;
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    // A client that waits 300 ms (not 5 s) for the server's confirmation.
    let client = async_nats::connect(server.url())
        .await
        .expect("a second connection");
    let mut quick = jetstream::new(client);
    quick.set_timeout(Duration::from_millis(300));
    let stream = quick.get_stream(STREAM).await.expect("the stream");
    let consumer: PullConsumer = stream
        .get_consumer(TEST_CONSUMER)
        .await
        .expect("the test consumer");
    let out = fetch_now(&consumer, 1).await;
    assert_eq!(out.len(), 1, "the event is delivered");
    // The server dies before the answer: nothing can confirm the ACK.
    server.kill();
    let mut handler = Scripted::failing(transient(), 0);
    let reply =
        deliver(&quick, &out[0], &mut handler, &config.retry, &mut rng(1))
            .await;
    assert_eq!(handler.calls.len(), 1, "the handler handles the event");
    assert!(
        matches!(reply, Err(BusError::Reply { sequence: 1, .. })),
        "an ACK the server never confirmed must be reported as \
         BusError::Reply, not ignored: the event comes back after AckWait. \
         Send it with double_ack(), which waits for the server's answer \
         (a plain ack() returns once the client has queued it), got \
         {reply:?}"
    );
}

/// The event fetched on a connection of its own, which is then closed: any
/// answer to it (ACK, NAK, TERM) cannot reach the server. (Killing the
/// server, as for the ACK, would not do: a NAK or a TERM is not confirmed,
/// and the client keeps it for a reconnect.)
async fn fetched_on_a_closed_connection(
    server: &NatsServer,
) -> (jetstream::Context, jetstream::Message) {
    let client = async_nats::connect(server.url())
        .await
        .expect("a second connection");
    let own = jetstream::new(client.clone());
    let stream = own.get_stream(STREAM).await.expect("the stream");
    let consumer: PullConsumer = stream
        .get_consumer(TEST_CONSUMER)
        .await
        .expect("the test consumer");
    let mut out = fetch_now(&consumer, 1).await;
    assert_eq!(out.len(), 1, "the event is delivered");
    client
        .drain()
        .await
        .expect("draining the second connection");
    let closed = async {
        while client.publish("probe", "".into()).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("a drained connection refuses to send within 5 s");
    (own, out.remove(0))
}

#[tokio::test]
async fn a_nak_that_cannot_be_sent_is_an_error() {
    let server = server();
    let config = config(3);
    let (jetstream, _) = setup(&server, &config).await;
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    let (own, message) = fetched_on_a_closed_connection(&server).await;
    let mut handler = Scripted::failing(transient(), 1);
    let reply =
        deliver(&own, &message, &mut handler, &config.retry, &mut rng(1)).await;
    assert_eq!(handler.calls.len(), 1, "the handler fails the event once");
    assert!(
        matches!(reply, Err(BusError::Reply { sequence: 1, .. })),
        "every answer (ACK, NAK, TERM) that does not reach the server is \
         BusError::Reply: a NAK that could not be sent must not be \
         reported as sent, got {reply:?}"
    );
}

#[tokio::test]
async fn a_term_that_cannot_be_sent_is_an_error() {
    let server = server();
    let config = config(3);
    let (jetstream, _) = setup(&server, &config).await;
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    let (_, message) = fetched_on_a_closed_connection(&server).await;
    let mut handler = Scripted::failing(permanent(), 1);
    // The dead letter goes out on the working connection; only the TERM,
    // which travels on the message's own connection, is lost.
    let reply = deliver(
        &jetstream,
        &message,
        &mut handler,
        &config.retry,
        &mut rng(1),
    )
    .await;
    assert_eq!(
        count(&jetstream, DEAD_LETTERS).await,
        1,
        "a permanent failure stores its dead letter before the TERM"
    );
    assert!(
        matches!(reply, Err(BusError::Reply { sequence: 1, .. })),
        "a TERM that does not reach the server is BusError::Reply: do not \
         drop the result of `ack_with(AckKind::Term)`, got {reply:?}"
    );
}

#[tokio::test]
async fn bytes_that_are_not_an_event_are_dead_lettered_without_the_handler() {
    let server = server();
    let config = config(3);
    let (jetstream, consumer) = setup(&server, &config).await;
    let ack = jetstream
        .publish("bookings.0", "not protobuf at all".into())
        .await
        .expect("a raw publish");
    ack.await.expect("the server stores it");
    let mut handler = Scripted::failing(transient(), 0);
    let consumed =
        deliver_until_idle(&jetstream, &consumer, &mut handler, &config, 7)
            .await;
    assert!(
        handler.calls.is_empty(),
        "bytes that do not decode never reach the handler"
    );
    assert_eq!(
        (consumed.dead_lettered, consumed.retried),
        (1, 0),
        "they can never be handled: dead-lettered at once, not retried"
    );
    assert_eq!(
        count(&jetstream, DEAD_LETTERS).await,
        1,
        "and kept, byte for byte, in the dead-letter stream"
    );
}

#[tokio::test]
async fn an_event_whose_dead_letter_cannot_be_stored_is_not_terminated() {
    let server = server();
    let mut config = config(3);
    // Unanswered, the event comes back after 300 ms.
    config.ack_wait = Duration::from_millis(300);
    let (jetstream, consumer) = setup(&server, &config).await;
    // No dead-letter stream: storing a dead letter fails.
    jetstream
        .delete_stream(DEAD_LETTERS)
        .await
        .expect("deleting the dead-letter stream");
    let (_, event) = requested(&fresh_seat());
    publish_raw(&jetstream, &event).await;
    let mut handler = Scripted::failing(permanent(), usize::MAX);
    let first = fetch_now(&consumer, 1).await;
    assert_eq!(first.len(), 1, "the event is delivered");
    let reply = deliver(
        &jetstream,
        &first[0],
        &mut handler,
        &config.retry,
        &mut rng(1),
    )
    .await;
    assert!(
        matches!(reply, Err(BusError::DeadLetter { .. })),
        "a dead letter that could not be stored is an error: propagate \
         store_dead_letter's error with ? and do not TERM, got {reply:?}"
    );
    // The dead-letter stream is back; the event must come back too.
    jetstream
        .create_stream(dead_letter_config(&config))
        .await
        .expect("creating the dead-letter stream again");
    let consumed =
        deliver_until_idle(&jetstream, &consumer, &mut handler, &config, 7);
    let consumed = tokio::time::timeout(Duration::from_secs(5), consumed)
        .await
        .ok();
    assert!(
        consumed.is_some() && !handler.calls.is_empty(),
        "the event did not come back within 5 s after its dead letter \
         failed: was it terminated anyway? Store the dead letter first, TERM \
         only once it is stored (the handler was called {} time(s))",
        handler.calls.len()
    );
    assert_eq!(
        handler.calls.len(),
        2,
        "without its dead letter stored, the event must not be terminated: \
         it comes back once and is handled a second time"
    );
}
