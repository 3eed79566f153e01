//! Exercise 3: the graceful shutdown stops intake, finishes what was
//! accepted or hands it back, commits, flushes and reports.

mod common;

use std::time::Duration;

use common::{PARTITIONS, Service, config, patient_config, seat};
use solution14_capstone::{
    BookingEvent, BookingId, Partition, PipelineError, UserId,
};

const BUDGET: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn shutdown_finishes_everything_that_was_accepted() {
    let mut service = Service::new(21, config());
    let bookings = service.book(0, 10);
    service.pay(bookings[0]);
    let closed = service
        .pipeline
        .shutdown(BUDGET)
        .await
        .expect("a shutdown on a healthy pipeline");
    assert_eq!(
        (closed.relayed, closed.routed),
        (11, 11),
        "the shutdown must publish the outbox (relay_all) and move it into \
         the topic (route) before it drains: 11 events were accepted"
    );
    assert!(
        closed.handed_back.is_empty(),
        "every round finishes well within the budget; nothing is handed back"
    );
    assert_eq!(
        closed.committed,
        service.ends(),
        "after a shutdown every partition must be committed at its end"
    );
    assert_eq!(closed.committed, service.committed());
    for (n, booking_id) in bookings.iter().enumerate().skip(1) {
        assert!(
            service.is_held(*booking_id),
            "booking {n} was accepted before the shutdown and must be in the \
             consumer's database after it"
        );
    }
    let unsent = service.pipeline.outbox().unsent(100).expect("the outbox");
    assert!(
        unsent.is_empty(),
        "the outbox must be empty after a shutdown"
    );
}

#[tokio::test(start_paused = true)]
async fn intake_is_refused_once_shutdown_has_begun() {
    let mut service = Service::new(22, config());
    service.book(0, 2);
    service.pipeline.shutdown(BUDGET).await.expect("a shutdown");
    let request = BookingEvent::ReservationRequested {
        booking_id: BookingId::new(),
        seat_id: seat(50),
        user_id: UserId::new(),
    };
    let refused = service.pipeline.intake(&request);
    assert!(
        matches!(refused, Err(PipelineError::Closed)),
        "a request after shutdown began must be refused with \
         PipelineError::Closed (close_intake), got {refused:?}"
    );
    assert_eq!(
        service.outbox_ids().len(),
        2,
        "a refused request must not reach the outbox"
    );
}

#[tokio::test(start_paused = true)]
async fn a_round_still_running_at_the_deadline_is_handed_back() {
    let mut service = Service::new(23, patient_config());
    let bookings = service.book(0, 9);
    // The first handler call fails; its retry waits up to an hour.
    service.pipeline.faults_mut().transient = 1;
    let closed = tokio::time::timeout(
        Duration::from_secs(60),
        service.pipeline.shutdown(BUDGET),
    )
    .await
    .expect(
        "the shutdown must end soon after its budget: run the rounds \
                 under tokio::time::timeout_at(deadline, ..)",
    )
    .expect("a shutdown whose drain runs out of time is no error");
    assert_eq!(
        closed.handed_back.len(),
        1,
        "the round waiting for its retry must be dropped at the deadline and \
         its partition listed in handed_back, got {:?}",
        closed.handed_back
    );
    let late = closed.handed_back[0];
    let ends = service.ends();
    assert!(
        closed.committed[late.index()] < ends[late.index()],
        "partition {late} was handed back: its records in flight must not be \
         committed, or the next start would never handle them"
    );
    for partition in (0..PARTITIONS).map(Partition).filter(|p| *p > late) {
        assert_eq!(
            closed.committed[partition.index()],
            ends[partition.index()],
            "the partitions after the late one must still be tried: partition \
             {partition} ends at its end"
        );
    }

    let mut service = service.restart();
    service.consume_all().await;
    for (n, booking_id) in bookings.iter().enumerate() {
        assert!(
            service.is_held(*booking_id),
            "booking {n} was handed back at the shutdown and must be handled \
             after the restart"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_returns_the_first_error_it_meets() {
    let mut service = Service::new(24, config());
    service.book(0, 4);
    service.disk.fail_after(0);
    let result = service.pipeline.shutdown(BUDGET).await;
    assert!(
        matches!(result, Err(PipelineError::Relay(_))),
        "the disk fails from the first write, and the relay writes first: \
         the shutdown must stop there and return the relay's error, not go \
         on; got {result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_round_that_fails_during_shutdown_is_an_error() {
    let mut service = Service::new(26, config());
    service.book(0, 4);
    service.pipeline.relay_all().expect("the relay publishes");
    service
        .pipeline
        .route()
        .expect("the router moves the batches");
    // Relay and router have nothing left to write: the first write of the
    // shutdown is a consumer's commit.
    service.disk.fail_after(0);
    let result = service.pipeline.shutdown(BUDGET).await;
    assert!(
        matches!(result, Err(PipelineError::Commit(_))),
        "a round whose commit fails must make the shutdown fail with that \
         error (`round?`), not report a clean close; got {result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn everything_committed_at_shutdown_survives_a_power_cut() {
    let mut service = Service::new(25, common::never_fsync());
    let bookings = service.book(0, 20);
    let closed = service.pipeline.shutdown(BUDGET).await.expect("a shutdown");
    let mut service = service.power_cut();
    assert_eq!(
        service.committed(),
        closed.committed,
        "committed offsets are synced as they are stored"
    );
    for (partition, (end, committed)) in
        service.ends().iter().zip(&closed.committed).enumerate()
    {
        assert!(
            end >= committed,
            "after the power cut partition {partition} ends at {end}, below \
             its committed offset {committed}: the topic must be synced \
             before anything is committed past it"
        );
    }
    service.consume_all().await;
    for (n, booking_id) in bookings.iter().enumerate() {
        assert!(
            service.is_held(*booking_id),
            "booking {n} after the power cut"
        );
    }
}
