//! Steps 01 to 09 together, the way the capstone will use them: bookings produced
//! through step 04's batching producer into step 06's log, consumed by step 08's
//! stream, committed with step 09's tracker, and applied with step 01's state
//! machine. If any step's API drifts from what the next one expects, this stops
//! compiling; if their meanings drift (an offset off by one, a key that splits a
//! booking over two partitions, a commit that runs ahead), it fails.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use solution01_events::{BookingEvent, BookingId, BookingState, SeatId, UserId, apply};
use solution02_protobuf::encode;
use solution03_partitioning::{Partition, Record, Topic, partition_key};
use solution04_batching::{Batch, BatchConfig, BrokerClient, Producer, SendError};
use solution06_log::{Log, Offset};
use solution08_stream::Consumer;
use solution09_offsets::{CommitTracker, CommittedOffsets};

/// Step 04's producer talks to a broker through `BrokerClient`; here the broker is
/// step 06's log, one append per record of the batch.
struct LogBroker(Arc<Log>);

impl BrokerClient for LogBroker {
    async fn send(
        &self,
        _topic: &str,
        partition: Partition,
        batch: &Batch,
    ) -> Result<(), SendError> {
        for record in batch.records() {
            self.0
                .append(partition, record.clone())
                .map_err(|e| SendError::new(e.to_string()))?;
        }
        Ok(())
    }
}

/// Twenty bookings: the even ones are paid, the odd ones expire.
fn bookings() -> Vec<(BookingId, Vec<BookingEvent>)> {
    (0..20)
        .map(|n| {
            let booking_id = BookingId::new();
            let seat_id = SeatId::parse(&format!("D{}", n + 1)).expect("D1..D20 are seats");
            let last = if n % 2 == 0 {
                BookingEvent::PaymentReceived { booking_id }
            } else {
                BookingEvent::ReservationExpired { booking_id }
            };
            let events = vec![
                BookingEvent::ReservationRequested {
                    booking_id,
                    seat_id,
                    user_id: UserId::new(),
                },
                last,
            ];
            (booking_id, events)
        })
        .collect()
}

#[tokio::test]
async fn bookings_flow_from_producer_to_committed_state() {
    let topic = Topic::new("bookings", 4).expect("a topic of 4 partitions");
    let log = Arc::new(Log::new(topic.partition_count()).expect("a log of 4 partitions"));
    let mut producer = Producer::new(
        topic.clone(),
        BatchConfig::default(),
        LogBroker(log.clone()),
    );

    // Produce every booking's first event, then every second event: the
    // interleaving a busy system would see.
    let bookings = bookings();
    let mut produced = 0;
    for round in 0..2 {
        for (_, events) in &bookings {
            let event = &events[round];
            producer
                .send(Record::new(partition_key(event), encode(event)))
                .await
                .expect("the log takes every batch");
            produced += 1;
        }
    }
    producer
        .flush_all()
        .await
        .expect("the last batches reach the log");

    // Consume everything, committing as each record's effect is applied.
    let assignments: Vec<(Partition, Offset)> =
        topic.partitions().map(|p| (p, Offset(0))).collect();
    let mut consumer = Consumer::new(log.clone(), assignments).expect("every partition exists");
    let mut trackers: HashMap<Partition, CommitTracker> = topic
        .partitions()
        .map(|p| (p, CommitTracker::new(Offset(0))))
        .collect();
    let mut committed = CommittedOffsets::new();
    let mut states: HashMap<BookingId, BookingState> = HashMap::new();
    for _ in 0..produced {
        let record = consumer
            .next()
            .await
            .expect("the stream does not end while records are left")
            .expect("every record decodes");
        let tracker = trackers
            .get_mut(&record.partition)
            .expect("an assigned partition");
        tracker
            .received(record.offset)
            .expect("offsets arrive in order");
        let state = states
            .entry(record.event.booking_id())
            .or_insert(BookingState::Empty);
        *state = apply(state, &record.event)
            .expect("each booking's events arrive in the order they were produced");
        if let Some(watermark) = tracker
            .finished(record.offset)
            .expect("a received record finishes")
        {
            let log_end = log
                .high_watermark(record.partition)
                .expect("an assigned partition");
            committed
                .commit(record.partition, watermark, log_end)
                .expect("a watermark never goes back and never passes the log end");
        }
    }

    for (n, (booking_id, _)) in bookings.iter().enumerate() {
        let state = &states[booking_id];
        if n % 2 == 0 {
            assert!(
                matches!(state, BookingState::Confirmed { .. }),
                "booking {n} was paid: {state:?}"
            );
        } else {
            assert!(
                matches!(state, BookingState::Expired { .. }),
                "booking {n} expired: {state:?}"
            );
        }
    }
    for partition in topic.partitions() {
        let log_end = log
            .high_watermark(partition)
            .expect("an assigned partition");
        assert_eq!(
            committed.committed(partition).unwrap_or(Offset(0)),
            log_end,
            "with everything handled, partition {partition}'s committed offset is its log end"
        );
        assert_eq!(
            trackers[&partition].lag(log_end),
            0,
            "nothing is left to consume on {partition}"
        );
    }
    assert_eq!(
        consumer.positions(),
        topic
            .partitions()
            .map(|p| (p, log.high_watermark(p).expect("an assigned partition")))
            .collect::<Vec<_>>(),
        "the consumer's positions are the log ends"
    );
}
