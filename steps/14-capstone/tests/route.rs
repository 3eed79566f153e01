//! Exercise 1: the router moves each published event into the partition of
//! its booking, and commits its position only after the events are durable.

mod common;

use std::collections::HashMap;

use std::time::Duration;

use common::{PARTITIONS, Service, config, never_fsync};
use step14_capstone::{
    BookingEvent, BookingId, CapstoneConfig, Offset, Partition, PipelineError,
    ROUTE_READ, Record, partition_for, partition_key,
};

/// Runs `route` with a time limit: a router that never moves its position
/// reads the same batches for ever.
fn route(mut service: Service) -> (Service, Result<usize, PipelineError>) {
    workshop_testkit::watchdog::within(
        Duration::from_secs(5),
        "route did not return: does each read start at self.routed_to(), and \
         does it commit the offset after the last batch read \
         (last.offset.next()), so that the next read starts past it?",
        move || {
            let moved = service.pipeline.route();
            (service, moved)
        },
    )
}

#[test]
fn every_event_goes_to_the_partition_of_its_booking_in_order() {
    let mut service = Service::new(1, config());
    let bookings = service.book(0, 12);
    for booking_id in bookings.iter().step_by(2) {
        service.pay(*booking_id);
    }
    service.pipeline.relay_all().expect("the relay publishes");
    let (service, moved) = route(service);
    let moved = moved.expect("the router moves the batches");
    assert_eq!(
        moved, 18,
        "route must return how many events it moved: 12 requests and 6 payments"
    );
    let mut seen: HashMap<BookingId, Vec<&'static str>> = HashMap::new();
    for partition in (0..PARTITIONS).map(Partition) {
        for (offset, event) in service.topic(partition) {
            let event = event.unwrap_or_else(|| {
                panic!(
                    "partition {partition} offset {offset} is not an event: \
                     each record of the topic must be one event, encoded \
                     with step 11's encode_identified (deliver does that)"
                )
            });
            let want = partition_for(&partition_key(&event.event), PARTITIONS)
                .expect("three partitions");
            assert_eq!(
                partition,
                want,
                "booking {} is in partition {partition}, but step 03 puts its \
                 key in partition {want}: use partition_for(partition_key(..))",
                event.event.booking_id().as_uuid()
            );
            let kind = match event.event {
                BookingEvent::ReservationRequested { .. } => "requested",
                _ => "paid",
            };
            seen.entry(event.event.booking_id()).or_default().push(kind);
        }
    }
    for (n, booking_id) in bookings.iter().enumerate() {
        let want: &[&str] = if n % 2 == 0 {
            &["requested", "paid"]
        } else {
            &["requested"]
        };
        assert_eq!(
            seen.get(booking_id).map(Vec::as_slice).unwrap_or_default(),
            want,
            "booking {n}'s events must each be in the topic once, in the \
             order of the outbox: every event of every batch, not only the \
             first"
        );
    }
}

#[test]
fn a_second_route_moves_only_what_is_new() {
    let mut service = Service::new(2, config());
    service.book(0, 5);
    service.pipeline.relay_all().expect("the relay publishes");
    let (service, moved) = route(service);
    moved.expect("the router moves the batches");
    let outbox_end = service
        .pipeline
        .outbox_log()
        .durable()
        .end(Partition(0))
        .expect("the outbox log has partition 0");
    assert_eq!(
        service.pipeline.routed_to(),
        outbox_end,
        "after a route, the router's committed position must be the outbox \
         log's end: the offset of the last batch plus one, not its offset"
    );
    let ends = service.ends();
    let (mut service, moved) = route(service);
    assert_eq!(
        moved.expect("a second route"),
        0,
        "a route with nothing new must move nothing: it starts at the \
         committed position (routed_to), not at 0"
    );
    assert_eq!(
        service.ends(),
        ends,
        "a second route with nothing new appended records to the topic: \
         start each read at routed_to()"
    );

    service.book(5, 3);
    service.pipeline.relay_all().expect("the relay publishes");
    let (service, moved) = route(service);
    assert_eq!(
        moved.expect("a third route"),
        3,
        "the next route must move the three new requests and nothing else"
    );
    assert!(
        service.copies().values().all(|&copies| copies == 1),
        "with no crash, every event must be in the topic exactly once"
    );
}

#[test]
fn a_crash_in_the_middle_of_route_loses_no_event() {
    let mut failed_routes = 0;
    for operations in 0..80 {
        let mut service = Service::new(operations, never_fsync());
        service.book(0, 8);
        service.pipeline.relay_all().expect("the relay publishes");
        let want = service.outbox_ids();
        service.disk.fail_after(operations);
        let (service, moved) = route(service);
        let failed = moved.is_err();
        failed_routes += usize::from(failed);
        let (service, moved) = route(service.power_cut());
        moved.expect("after the power cut, the router starts again");
        let copies = service.copies();
        for id in &want {
            assert!(
                copies.contains_key(id),
                "the disk failed after {operations} operations in the middle \
                 of route, and after the power cut event {id} is in no \
                 partition: the router's position was committed before its \
                 events were appended and synced (self.topic.sync())"
            );
        }
        if !failed {
            // The disk outlasted the whole route: every later point does too.
            break;
        }
    }
    assert!(
        failed_routes > 0,
        "no route ever met the failing disk: route must append its events \
         and commit its position"
    );
}

#[test]
fn a_batch_that_is_not_a_batch_is_an_error() {
    let service = Service::new(3, config());
    service
        .pipeline
        .outbox_log()
        .durable()
        .append(Partition(0), Record::new("x", &b"\xff not a batch"[..]))
        .expect("a raw append to the outbox log");
    let (service, moved) = route(service);
    let error = moved.expect_err(
        "route returned Ok, but outbox record 0 is not a ProducerBatch: \
         return PipelineError::NotABatch { offset }",
    );
    assert!(
        matches!(
            error,
            PipelineError::NotABatch {
                offset: Offset(0),
                ..
            }
        ),
        "a record that ProducerBatch::decode refuses must stop the router \
         with PipelineError::NotABatch and its offset, got {error:?}"
    );
    assert_eq!(
        service.pipeline.routed_to(),
        Offset(0),
        "the router must not commit past a record it could not move"
    );
}

#[test]
fn a_long_outbox_log_is_routed_in_full_to_any_partition_count() {
    // Five partitions, and one event per batch: 20 batches, more than one
    // read returns.
    let partitions = 5;
    let mut config = CapstoneConfig::new(partitions);
    config.relay_batch = 1;
    let mut service = Service::new(4, config);
    service.book(0, 20);
    service.pipeline.relay_all().expect("the relay publishes");
    let (service, moved) = route(service);
    assert_eq!(
        moved.expect("the router moves the batches"),
        20,
        "the outbox log holds 20 batches, more than one read returns \
         (ROUTE_READ, {ROUTE_READ}): route must read again from its new \
         position until a read returns no batch"
    );
    for partition in (0..partitions).map(Partition) {
        for (offset, event) in service.topic(partition) {
            let event = event.unwrap_or_else(|| {
                panic!(
                    "partition {partition} offset {offset} is not an event: \
                     encode with encode_identified (deliver does that)"
                )
            });
            let want = partition_for(&partition_key(&event.event), partitions)
                .expect("five partitions");
            assert_eq!(
                partition,
                want,
                "this topic has {partitions} partitions, and booking {} is in \
                 partition {partition} instead of {want}: the partition count \
                 is self.config.partitions, not a fixed number",
                event.event.booking_id().as_uuid()
            );
        }
    }
}

#[test]
fn the_batches_before_a_bad_record_are_moved_and_committed() {
    // One event per batch: the bad record lands at offset 20, in the second
    // read, after four good batches of that read.
    let mut config = config();
    config.relay_batch = 1;
    let mut service = Service::new(5, config);
    service.book(0, 20);
    service.pipeline.relay_all().expect("the relay publishes");
    let bad = service
        .pipeline
        .outbox_log()
        .durable()
        .append(Partition(0), Record::new("x", &b"\xff not a batch"[..]))
        .expect("a raw append to the outbox log")
        .offset;
    assert_eq!(bad, Offset(20), "the fixture puts the bad record at 20");
    let want = service.outbox_ids();
    let (service, moved) = route(service);
    let error = moved.expect_err(
        "route must stop with an error at the record that is not a batch, \
         at offset 20 (whatever read it is in); it returned Ok, with this \
         many events moved",
    );
    let PipelineError::NotABatch { offset, .. } = error else {
        panic!(
            "a record that ProducerBatch::decode refuses must stop the \
             router with PipelineError::NotABatch, got {error:?}"
        )
    };
    assert_eq!(
        offset, bad,
        "the bad record is at offset {bad} of the outbox log: NotABatch must \
         carry the offset of the record that failed to decode \
         (stored.offset), not the offset the read began at"
    );
    assert_eq!(
        service.pipeline.routed_to(),
        bad,
        "the 20 batches before the bad record, four of them in the same read \
         as the bad record, must be moved and committed: sync the topic, \
         commit the bad record's offset, then return the error"
    );
    let copies = service.copies();
    for id in &want {
        assert_eq!(
            copies.get(id).copied().unwrap_or_default(),
            1,
            "every event before the bad record must be in the topic exactly \
             once: one that is there twice was read twice, so a commit after \
             a read did not point past its last batch (last.offset.next())"
        );
    }
}

#[test]
fn the_batches_before_a_bad_record_survive_a_power_cut() {
    // A topic that never syncs on its own: only route's sync makes the
    // events before the bad record durable. One event per batch, so the
    // bad record is at offset 20, in the second read, after four good
    // batches of that read.
    for seed in 0..8 {
        let mut config = never_fsync();
        config.relay_batch = 1;
        let mut service = Service::new(100 + seed, config);
        service.book(0, 20);
        service.pipeline.relay_all().expect("the relay publishes");
        service
            .pipeline
            .outbox_log()
            .durable()
            .append(Partition(0), Record::new("x", &b"\xff not a batch"[..]))
            .expect("a raw append to the outbox log");
        let want = service.outbox_ids();
        let (service, moved) = route(service);
        moved.expect_err(
            "route must stop with an error at the record that is not a batch",
        );
        let copies = service.topic_after_power_cut();
        for id in &want {
            assert!(
                copies.contains_key(id),
                "route committed the bad record's offset before syncing the \
                 topic: after the power cut event {id} is gone and routed_to \
                 already points past it"
            );
        }
    }
}
