//! Exercise "publish": `message_for` and `publish` in src/publish.rs, the
//! event id as `Nats-Msg-Id` and a subject per partition, against a real
//! server.

use std::num::NonZeroU32;

use crate::common::{
    TestDb, config, fresh_seat, paid, read_all, requested, server, stored,
    streams,
};
use step15_bridge::{
    BusError, OutboxDb, STREAM, decode_identified, partition_of, publish,
    relay_once, subject,
};

#[tokio::test]
async fn a_published_event_is_stored_with_its_id_as_nats_msg_id() {
    let server = server();
    let jetstream = streams(&server, &config(3)).await;
    let (_, event) = requested(&fresh_seat());
    let published = publish(&jetstream, &event, NonZeroU32::MIN).await;
    let published = published.unwrap_or_else(|e| {
        panic!(
            "publishing to a running server must work: {e} ({e:?}); \
             \"no responders\" means no stream stores the subject: publish on \
             subject(partition_of(..)), bookings.<partition>"
        )
    });
    assert!(
        !published.duplicate,
        "a new event id is not a duplicate: take duplicate from the awaited \
         PublishAck"
    );
    let all = read_all(&jetstream).await;
    assert_eq!(all.len(), 1, "one publish stores one message");
    let (_, id, payload) = &all[0];
    assert_eq!(
        id.as_deref(),
        Some(event.id.to_string().as_str()),
        "the message's Nats-Msg-Id header must be the event id (as UUID \
         text), or the server cannot recognise a repeat"
    );
    let decoded = decode_identified(payload);
    assert_eq!(
        decoded.as_ref().ok(),
        Some(&event),
        "the payload must be step 11's bytes of the event and its id \
         (encode_identified): {decoded:?}"
    );
}

#[tokio::test]
async fn the_server_drops_a_repeated_event_id_and_answers_with_the_first_place()
{
    let server = server();
    let jetstream = streams(&server, &config(3)).await;
    let (_, event) = requested(&fresh_seat());
    let first = publish(&jetstream, &event, NonZeroU32::MIN).await;
    let first = first.expect("the first publish");
    let again = publish(&jetstream, &event, NonZeroU32::MIN).await;
    let again = again.expect("the repeated publish");
    assert_eq!(
        stored(&jetstream).await,
        1,
        "the stream must hold the event once, however often it was \
         published: two copies mean the server did not see the same \
         Nats-Msg-Id (the event id) on both"
    );
    assert!(
        again.duplicate,
        "the server dropped the repeat (the stream holds one copy), but \
         publish said duplicate = false: take `duplicate` from the \
         server's PublishAck, which you get by awaiting the ack"
    );
    assert_eq!(
        again.position, first.position,
        "a duplicate is answered with the sequence of the first copy: \
         position = Offset(ack.sequence)"
    );
}

#[tokio::test]
async fn every_event_of_a_booking_goes_to_its_partitions_subject() {
    let server = server();
    let mut config = config(3);
    config.partitions = NonZeroU32::new(4).expect("4 is not 0");
    let jetstream = streams(&server, &config).await;
    let mut sent = Vec::new();
    for _ in 0..6 {
        let (booking_id, request) = requested(&fresh_seat());
        sent.push(request);
        sent.push(paid(booking_id));
    }
    for event in &sent {
        let published = publish(&jetstream, event, config.partitions).await;
        let published = published.expect("a publish");
        assert_eq!(
            published.partition,
            partition_of(&event.event, config.partitions),
            "an event goes to its booking's partition (partition_of)"
        );
    }
    let all = read_all(&jetstream).await;
    assert_eq!(all.len(), sent.len(), "every event is stored once");
    for (event, (got_subject, _, _)) in sent.iter().zip(&all) {
        let want = subject(partition_of(&event.event, config.partitions));
        assert_eq!(
            got_subject, &want,
            "each event must be published on bookings.<its partition>, so \
             that one booking's events share a subject and keep their order"
        );
    }
}

#[tokio::test]
async fn a_publish_is_answered_only_once_the_server_stored_it() {
    let server = server();
    let jetstream = streams(&server, &config(3)).await;
    for n in 1..=5 {
        let (_, event) = requested(&fresh_seat());
        let published = publish(&jetstream, &event, NonZeroU32::MIN).await;
        let published = published.expect("a publish to a running server");
        assert_eq!(
            published.position.0, n,
            "publish returns the stream sequence from the server's ack \
             (1 for the first message): await the ack, do not guess"
        );
        assert_eq!(
            stored(&jetstream).await,
            n,
            "when publish returns, the stream has the message"
        );
    }
}

#[tokio::test]
async fn the_outbox_relay_publishes_again_after_a_crash_and_the_server_drops_the_repeats()
 {
    let server = server();
    let jetstream = streams(&server, &config(3)).await;
    let test = TestDb::new();
    let mut outbox =
        OutboxDb::open(&test.path, step15_bridge::DbConfig::default())
            .expect("the outbox database opens");
    for _ in 0..4 {
        let (_, event) = requested(&fresh_seat());
        outbox.record(&event.event).expect("recording a request");
    }
    // The relay publishes every row and crashes before it marks them.
    let first = relay_once(&mut outbox, &jetstream, NonZeroU32::MIN, 10, false)
        .await
        .expect("the first pass publishes");
    assert_eq!(first.published, 4, "the first pass stores every row");
    // Restarted, it finds the same rows unsent and publishes them again.
    let second = relay_once(&mut outbox, &jetstream, NonZeroU32::MIN, 10, true)
        .await
        .expect("the second pass publishes");
    assert_eq!(
        (second.published, second.duplicates),
        (0, 4),
        "the rows published before the crash carry the same event ids, so \
         the server must answer each as a duplicate"
    );
    assert_eq!(
        stored(&jetstream).await,
        4,
        "after the crash and the second pass, each row is in the stream once"
    );
}

#[tokio::test]
async fn a_publish_the_server_does_not_confirm_is_an_error_naming_its_subject()
{
    let server = server();
    let jetstream = streams(&server, &config(3)).await;
    // No stream stores the subjects any more: the message goes out, and no
    // acknowledgement comes back.
    jetstream
        .delete_stream(STREAM)
        .await
        .expect("deleting the booking stream");
    let (_, event) = requested(&fresh_seat());
    let published = publish(&jetstream, &event, NonZeroU32::MIN).await;
    assert!(
        matches!(&published, Err(BusError::Publish { subject, .. })
            if subject == "bookings.0"),
        "a publish the server did not confirm must come back as \
         BusError::Publish naming the subject it was sent on (bookings.0 \
         here), not panic and not be reported as stored: the caller \
         publishes the same event again, got {published:?}"
    );
}
