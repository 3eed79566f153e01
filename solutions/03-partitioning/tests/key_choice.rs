//! Exercise "key_choice": `partition_key` in src/key.rs.

use std::collections::BTreeSet;

use proptest::prelude::*;
use solution01_events::{BookingEvent, BookingId, SeatId, UserId};
use solution03_partitioning::{Partition, Topic, partition_key};
use uuid::Uuid;

fn booking(id: u128) -> BookingId {
    BookingId::from_uuid(Uuid::from_u128(id))
}

/// The three events a booking can have, all for `booking_id`, in the order they
/// would be sent (a real booking ends with one of the last two, not both).
fn events_of(booking_id: BookingId) -> [BookingEvent; 3] {
    let seat = SeatId::parse("A12").expect("A12 is a valid seat");
    [
        BookingEvent::ReservationRequested {
            booking_id,
            seat_id: seat,
            user_id: UserId::from_uuid(Uuid::from_u128(7)),
        },
        BookingEvent::PaymentReceived { booking_id },
        BookingEvent::ReservationExpired { booking_id },
    ]
}

fn topic(partition_count: u32) -> Topic {
    Topic::new("bookings", partition_count)
        .expect("the tests only create valid topics")
}

#[test]
fn the_key_is_the_booking_id_as_lowercase_hyphenated_text() {
    let id = booking(0x0f8e7d6c_5b4a_4938_8716_a5b4c3d2e1f0);
    let paid = BookingEvent::PaymentReceived { booking_id: id };
    let got = partition_key(&paid);
    assert_eq!(
        got.as_ref(),
        b"0f8e7d6c-5b4a-4938-8716-a5b4c3d2e1f0",
        "the key must be the booking id written as on the wire in step 02: lowercase, with hyphens \
         (got {:?}). Every producer of the topic must write the same bytes, or the same booking \
         lands in two partitions",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn every_event_of_a_booking_has_the_same_key() {
    let id = booking(0x11111111_2222_3333_4444_555555555555);
    let [requested, paid, expired] = events_of(id);
    let want = partition_key(&requested);
    for event in [&paid, &expired] {
        assert_eq!(
            partition_key(event),
            want,
            "{} must have the same key as the ReservationRequested of its booking. \
             PaymentReceived and ReservationExpired carry no seat: key every event by its booking id",
            event.name()
        );
    }
}

#[test]
fn a_booking_lands_in_the_same_partition_in_every_process() {
    // Computed with Kafka's Java producer: the key text "0f8e7d6c-..." goes to
    // partition 5 of 12 and partition 1 of 8, in every process, on every run.
    let id = booking(0x0f8e7d6c_5b4a_4938_8716_a5b4c3d2e1f0);
    for (count, want) in [(12, 5), (8, 1)] {
        for event in events_of(id) {
            assert_eq!(
                topic(count).partition_for(&partition_key(&event)),
                Partition(want),
                "{} of booking {id} must go to partition {want} of {count}, as with Kafka's producer",
                event.name()
            );
        }
    }
}

#[test]
fn different_bookings_spread_over_every_partition() {
    // Keys that do not depend on the booking (the event's name, a constant, the
    // seat for only some events) would put many bookings into one partition.
    let bookings = topic(8);
    let mut keys = BTreeSet::new();
    let mut used = BTreeSet::new();
    for i in 0..200 {
        let event = BookingEvent::PaymentReceived {
            booking_id: booking(0x0f8e7d6c_5b4a_4938_8716_000000000000 + i),
        };
        let key = partition_key(&event);
        used.insert(bookings.partition_for(&key));
        keys.insert(key);
    }
    assert_eq!(
        keys.len(),
        200,
        "200 bookings must get 200 different keys: the key is the booking id"
    );
    assert_eq!(
        used.len(),
        8,
        "200 bookings must use all 8 partitions, got only {used:?}: the key must vary with the booking"
    );
}

// Few cases keep the check fast after every save, and no regression files are
// written into the exercise's directory.

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    #[test]
    fn all_events_of_any_booking_go_to_one_partition(id in any::<u128>(), count in 1u32..=32) {
        let bookings = topic(count);
        let partitions: BTreeSet<Partition> = events_of(booking(id))
            .iter()
            .map(|event| bookings.partition_for(&partition_key(event)))
            .collect();
        prop_assert_eq!(
            partitions.len(),
            1,
            "the events of booking {} went to partitions {:?} of {}: one booking, one partition, or its payment can overtake its request",
            booking(id),
            partitions,
            count
        );
    }
}
