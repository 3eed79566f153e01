//! Exercise "consumer": `consumer_config` and `progress` in src/consumer.rs,
//! the consumer's acks, bounds and progress, against a real server.

use std::time::Duration;

use crate::common::{
    config, fetch_now, fresh_seat, publish_raw, requested,
    sequence_and_delivered, server, stream_with_consumer,
};
use step15_bridge::async_nats::jetstream::{
    self, AckKind,
    consumer::{AckPolicy, DeliverPolicy, PullConsumer},
};
use step15_bridge::{
    BusConfig, CONSUMER, NatsServer, consumer_config, progress,
};

/// The booking stream with the consumer of `consumer_config`, on `server`.
async fn consumer(
    server: &NatsServer,
    config: &BusConfig,
) -> (jetstream::Context, PullConsumer) {
    stream_with_consumer(server, config, consumer_config(config)).await
}

async fn publish_events(jetstream: &jetstream::Context, count: usize) {
    for _ in 0..count {
        let (_, event) = requested(&fresh_seat());
        publish_raw(jetstream, &event).await;
    }
}

#[test]
fn the_consumer_is_durable_with_explicit_acks_and_the_configured_bounds() {
    let mut config = config(6);
    config.ack_wait = Duration::from_secs(7);
    config.max_ack_pending = 9;
    let got = consumer_config(&config);
    assert_eq!(
        got.durable_name.as_deref(),
        Some(CONSUMER),
        "a durable consumer (named CONSUMER): the server keeps its acks \
         across restarts of the service"
    );
    assert_eq!(
        got.ack_policy,
        AckPolicy::Explicit,
        "every message is acked on its own, after its transaction committed"
    );
    assert_eq!(
        got.ack_wait, config.ack_wait,
        "ack_wait must be config.ack_wait (7 s here), not the server default"
    );
    assert_eq!(
        got.max_deliver, 6,
        "MaxDeliver is the retry policy's max_attempts"
    );
    assert_eq!(
        got.max_ack_pending, 9,
        "max_ack_pending must be config.max_ack_pending as i64 (9 here)"
    );
    assert_eq!(
        got.deliver_policy,
        DeliverPolicy::All,
        "a new consumer starts at the first message the stream holds \
         (DeliverPolicy::All, the default): New or Last skip the bookings \
         published before the service first started"
    );
    assert!(
        got.filter_subject.is_empty(),
        "no subject filter: one consumer takes every partition's subject, \
         bookings.*"
    );
    assert_eq!(
        got.inactive_threshold,
        Duration::ZERO,
        "no inactive_threshold on a durable consumer: the server would \
         delete it, and its ack floor with it, while the service is down"
    );
}

#[tokio::test]
async fn an_unanswered_delivery_comes_back_after_ack_wait() {
    let server = server();
    let mut config = config(3);
    config.ack_wait = Duration::from_millis(300);
    let (jetstream, consumer) = consumer(&server, &config).await;
    publish_events(&jetstream, 1).await;
    let first = fetch_now(&consumer, 10).await;
    assert_eq!(first.len(), 1, "the message is delivered");
    assert_eq!(
        sequence_and_delivered(&first[0]),
        (1, 1),
        "the first delivery of message 1 is (stream sequence 1, delivered 1)"
    );
    // No answer: as if the service crashed while handling it.
    assert!(
        fetch_now(&consumer, 10).await.is_empty(),
        "before AckWait the message is still out with the first delivery; \
         it came back at once: use AckPolicy::Explicit and ack_wait = \
         config.ack_wait"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = fetch_now(&consumer, 10).await;
    assert_eq!(
        again.iter().map(sequence_and_delivered).collect::<Vec<_>>(),
        vec![(1, 2)],
        "after AckWait (300 ms here) the server delivers it again, with \
         delivered = 2: set ack_wait from the config, with explicit acks"
    );
}

#[tokio::test]
async fn the_server_stops_delivering_after_max_deliver() {
    let server = server();
    let mut config = config(2);
    config.ack_wait = Duration::from_millis(150);
    let (jetstream, consumer) = consumer(&server, &config).await;
    publish_events(&jetstream, 1).await;
    let mut deliveries = fetch_now(&consumer, 10).await.len();
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        deliveries += fetch_now(&consumer, 10).await.len();
    }
    assert_eq!(
        deliveries, 2,
        "with max_attempts = 2 the server delivers an unanswered message \
         twice, then never again (MaxDeliver)"
    );
}

#[tokio::test]
async fn no_more_than_max_ack_pending_messages_are_out_at_once() {
    let server = server();
    let mut config = config(3);
    config.max_ack_pending = 2;
    let (jetstream, consumer) = consumer(&server, &config).await;
    publish_events(&jetstream, 5).await;
    let out = fetch_now(&consumer, 10).await;
    assert_eq!(
        out.len(),
        2,
        "with MaxAckPending = 2 the server hands out two messages and waits \
         for their acks"
    );
    out[0].double_ack().await.expect("an ack");
    let next = fetch_now(&consumer, 10).await;
    assert_eq!(
        next.iter().map(sequence_and_delivered).collect::<Vec<_>>(),
        vec![(3, 1)],
        "one ack frees one place: the next message"
    );
}

#[tokio::test]
async fn progress_is_the_ack_floor_as_committed_offset_and_num_pending_as_lag()
{
    let server = server();
    let config = config(3);
    let (jetstream, consumer) = consumer(&server, &config).await;
    publish_events(&jetstream, 5).await;
    let info = consumer.get_info().await.expect("the consumer's info");
    let before = progress(&info);
    assert_eq!(
        (before.committed.0, before.lag, before.in_flight),
        (0, 5, 0),
        "nothing acked: committed 0, all five messages are lag"
    );
    let out = fetch_now(&consumer, 3).await;
    assert_eq!(out.len(), 3, "the consumer hands out the three asked for");
    for message in &out[..2] {
        message.double_ack().await.expect("an ack");
    }
    let info = consumer.get_info().await.expect("the consumer's info");
    let after = progress(&info);
    assert_eq!(
        (after.committed.0, after.lag, after.in_flight),
        (2, 2, 1),
        "two acked (the ack floor is at sequence 2), two never delivered \
         (num_pending, the lag), one delivered and not acked \
         (num_ack_pending)"
    );
    // Message 3 comes back once: its second delivery is the consumer's
    // fourth, so the two sequences of the ack floor part ways.
    out[2]
        .double_ack_with(AckKind::Nak(None))
        .await
        .expect("the server confirms a NAK of message 3");
    let again = fetch_now(&consumer, 1).await;
    assert_eq!(
        again.iter().map(sequence_and_delivered).collect::<Vec<_>>(),
        vec![(3, 2)],
        "a NAKed message is delivered again"
    );
    again[0].double_ack().await.expect("an ack");
    let info = consumer.get_info().await.expect("the consumer's info");
    assert_eq!(
        progress(&info).committed.0,
        3,
        "after a redelivery the committed offset is the ack floor's STREAM \
         sequence (3 messages of the stream done), not its consumer \
         sequence (4: it counts deliveries, redeliveries included)"
    );
}
