//! Steps 01, 02, 03 and 06 together: many bookings' events, keyed by booking,
//! partitioned, encoded and appended to the log, then read back. Whatever the
//! interleaving of bookings, each booking's events come back in the order they were
//! produced, because the key keeps them in one partition and a partition keeps order.
//! This is the promise "ordering is per key" that later steps rely on.

use std::collections::HashMap;

use solution01_events::{BookingEvent, BookingId, SeatId, UserId};
use solution02_protobuf::{decode, encode};
use solution03_partitioning::{Record, Topic, partition_key};
use solution06_log::{Log, Offset};

fn booking_history(booking_id: BookingId, seat: usize) -> Vec<BookingEvent> {
    let seat_id = SeatId::parse(&format!("B{}", seat % 999 + 1)).expect("B1..B999 are seats");
    vec![
        BookingEvent::ReservationRequested {
            booking_id,
            seat_id,
            user_id: UserId::new(),
        },
        BookingEvent::PaymentReceived { booking_id },
        BookingEvent::ReservationExpired { booking_id },
    ]
}

#[test]
fn each_bookings_events_come_back_in_the_order_they_were_produced() {
    let topic = Topic::new("bookings", 4).expect("4 partitions is a valid topic");
    let log = Log::new(topic.partition_count()).expect("the log has the topic's partitions");

    // Interleave 50 bookings: first every request, then every payment, then every
    // expiry, the way they would arrive from many users at once.
    let histories: Vec<Vec<BookingEvent>> = (0..50)
        .map(|seat| booking_history(BookingId::new(), seat))
        .collect();
    for round in 0..3 {
        for history in &histories {
            let event = &history[round];
            let key = partition_key(event);
            let partition = topic.partition_for(&key);
            log.append(partition, Record::new(key, encode(event)))
                .expect("appending to a partition of the topic works");
        }
    }

    // Read every partition from the start and regroup the events by booking.
    let mut read_back: HashMap<BookingId, Vec<BookingEvent>> = HashMap::new();
    for partition in topic.partitions() {
        let records = log
            .read(partition, Offset(0), usize::MAX)
            .expect("reading a partition of the topic works");
        for stored in records {
            let event =
                decode(&stored.record.value).expect("the log returns the bytes we appended");
            read_back.entry(event.booking_id()).or_default().push(event);
        }
    }

    assert_eq!(
        read_back.len(),
        histories.len(),
        "every booking must come back"
    );
    for history in &histories {
        let got = &read_back[&history[0].booking_id()];
        assert_eq!(
            got, history,
            "a booking's events must come back in the order they were produced"
        );
    }
}
