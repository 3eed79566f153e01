//! Exercise "park": `Park::park`, `release` and `expired` in src/park.rs. The
//! worker that parks a payment until its request arrives is tested in
//! tests/keyed.rs, the next exercise, since it needs `drain`.

mod common;

use std::time::Duration;

use common::{expired, paid};
use solution12_retries::{
    BookingId, IdentifiedEvent, Offset, Park, ParkLimits, Parked, StoredRecord,
};
use tokio::time::Instant;

fn limits(max_per_booking: usize, max_wait_secs: u64) -> ParkLimits {
    ParkLimits {
        max_per_booking,
        max_wait: Duration::from_secs(max_wait_secs),
    }
}

fn parked(offset: u64, event: IdentifiedEvent, since: Instant) -> Parked {
    Parked {
        record: StoredRecord {
            partition: common::P,
            offset: Offset(offset),
            record: common::record_of(&event),
        },
        event,
        attempts: 1,
        since,
    }
}

fn offsets_of(parked: &[Parked]) -> Vec<u64> {
    parked.iter().map(|p| p.record.offset.0).collect()
}

// ANCHOR: park_unit
#[tokio::test(start_paused = true)]
async fn released_events_come_back_in_the_order_they_were_parked() {
    let mut park = Park::new(limits(4, 60));
    let booking = BookingId::new();
    let other = BookingId::new();
    let now = Instant::now();
    for (offset, id) in [(3, booking), (5, other), (7, booking)] {
        park.park(id, parked(offset, paid(id), now))
            .unwrap_or_else(|e| panic!("there is room in the park: {e}"));
    }
    assert_eq!(park.len(), 3);
    assert_eq!(
        offsets_of(&park.release(booking)),
        vec![3, 7],
        "releasing a booking gives back all of its events, oldest first, and \
         none of another booking's"
    );
    assert_eq!(
        offsets_of(&park.release(booking)),
        Vec::<u64>::new(),
        "a released event leaves the park: releasing again gives nothing"
    );
    assert_eq!(park.len(), 1, "the other booking's event is still parked");
}

#[tokio::test(start_paused = true)]
async fn a_full_booking_hands_the_event_back_and_other_bookings_still_park() {
    let mut park = Park::new(limits(2, 60));
    let booking = BookingId::new();
    let now = Instant::now();
    for offset in [1, 2] {
        park.park(booking, parked(offset, paid(booking), now))
            .unwrap_or_else(|e| panic!("2 fit for one booking: {e}"));
    }
    let refused = park.park(booking, parked(3, paid(booking), now));
    let Err(full) = refused else {
        panic!(
            "a third event for a booking with max_per_booking = 2 must be refused"
        );
    };
    assert_eq!(
        (full.booking_id, full.parked.record.offset),
        (booking, Offset(3)),
        "ParkFull must hand back the refused event itself, so that it can be \
         dead-lettered, not dropped"
    );
    assert_eq!(park.len(), 2, "the refused event is not in the park");
    let other = BookingId::new();
    assert!(
        park.park(other, parked(4, paid(other), now)).is_ok(),
        "the limit is per booking: another booking still has room"
    );
}

#[tokio::test(start_paused = true)]
async fn an_event_leaves_the_park_when_it_has_waited_max_wait() {
    let mut park = Park::new(limits(4, 10));
    let booking = BookingId::new();
    let start = Instant::now();
    park.park(booking, parked(1, paid(booking), start))
        .unwrap_or_else(|e| panic!("there is room: {e}"));
    park.park(
        booking,
        parked(2, expired(booking), start + Duration::from_secs(5)),
    )
    .unwrap_or_else(|e| panic!("there is room: {e}"));
    assert_eq!(
        park.next_deadline(),
        Some(start + Duration::from_secs(10)),
        "the first event parked runs out first"
    );
    let just_before =
        start + Duration::from_secs(10) - Duration::from_millis(1);
    assert_eq!(
        offsets_of(&park.expired(just_before)),
        Vec::<u64>::new(),
        "nothing has waited 10 s yet"
    );
    assert_eq!(
        offsets_of(&park.expired(start + Duration::from_secs(10))),
        vec![1],
        "after exactly max_wait the first event leaves; the second, parked 5 \
         s later, stays"
    );
    assert_eq!(
        offsets_of(&park.expired(start + Duration::from_secs(15))),
        vec![2]
    );
    assert!(park.is_empty(), "both events are out");
}

#[tokio::test(start_paused = true)]
async fn expired_events_of_many_bookings_come_out_in_offset_order() {
    let mut park = Park::new(limits(4, 10));
    let start = Instant::now();
    // 20 bookings, one event each, parked at the same instant: the park's
    // map keeps them in an order of its own, which is not the log's.
    for offset in 0..20 {
        let booking = BookingId::new();
        park.park(booking, parked(offset, paid(booking), start))
            .unwrap_or_else(|e| panic!("there is room: {e}"));
    }
    assert_eq!(
        offsets_of(&park.expired(start + Duration::from_secs(10))),
        (0..20).collect::<Vec<u64>>(),
        "`expired` must return the events in offset order (the log's order), \
         across bookings: the worker dead-letters them in that order, and a \
         map visits its bookings in an order of its own; sort what you took \
         by `record.offset`"
    );
    assert!(
        park.is_empty(),
        "every event has waited max_wait: all are out"
    );
}
// ANCHOR_END: park_unit
