//! Exercise 3: the graceful shutdown stops intake, finishes what was
//! accepted or hands it back, commits, flushes and reports.
//!
//! Each test runs on tokio's paused clock under a watchdog: a shutdown that
//! never returns fails after a few seconds with a message, not at the
//! check's time limit.

mod common;

use std::time::Duration;

use common::{
    PARTITIONS, Service, book_in_every_partition, config, on_paused_clock,
    patient_config, seat,
};
use solution14_capstone::{
    BookingEvent, BookingId, Partition, PipelineError, Record, UserId,
};

const BUDGET: Duration = Duration::from_secs(5);

/// What the watchdog says when a shutdown never returns.
const HANG: &str = "the shutdown did not return, on a paused clock where it \
     takes no time at all: does route stop once a read returns no batch, and \
     does it commit last.offset.next() (tests/route.rs says more)? Does every \
     round run under timeout_at(deadline, ..)?";

#[test]
fn shutdown_finishes_everything_that_was_accepted() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(21, config());
        // Five events routed before the shutdown, then more requests than
        // one relay pass publishes (relay_batch, 64).
        let early = service.book(0, 5);
        service.pipeline.relay_all().expect("the relay publishes");
        service
            .pipeline
            .route()
            .expect("the router moves the batches");
        let bookings = service.book(5, 70);
        service.pay(bookings[0]);
        let closed = service
            .pipeline
            .shutdown(BUDGET)
            .await
            .expect("a shutdown on a healthy pipeline");
        assert_eq!(
            closed.relayed, 71,
            "71 events waited in the outbox, more than one relay pass \
             publishes (relay_batch, 64): the shutdown must publish them all \
             with relay_all, not relay_once"
        );
        let routed = if closed.routed == 76 {
            "Closed.routed is what this shutdown's route returned, not the \
             metrics counter, which also counts the 5 events routed before"
        } else {
            "the shutdown must move what it relayed into the topic (route, \
             after relay_all) before it drains, and report what route returned"
        };
        assert_eq!(closed.routed, 71, "{routed}");
        assert!(
            closed.handed_back.is_empty(),
            "every round finishes well within the budget; nothing is handed \
             back"
        );
        assert_eq!(
            closed.committed,
            service.ends(),
            "after a shutdown every partition must be committed at its end"
        );
        assert_eq!(
            closed.committed,
            service.committed(),
            "Closed.committed must be each partition's committed offset read \
             after the rounds (self.committed(p)), in partition order"
        );
        let accepted = early.iter().chain(bookings.iter().skip(1));
        for (n, booking_id) in accepted.enumerate() {
            assert!(
                service.is_held(*booking_id),
                "booking {n} was accepted before the shutdown and must be in \
                 the consumer's database after it"
            );
        }
        let unsent = service.pipeline.outbox().unsent(100).expect("the outbox");
        assert!(
            unsent.is_empty(),
            "the outbox must be empty after a shutdown"
        );
    });
}

#[test]
fn intake_is_refused_once_shutdown_has_begun() {
    on_paused_clock(HANG, || async {
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
    });
}

#[test]
fn a_round_still_running_at_the_deadline_is_handed_back() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(23, patient_config());
        let bookings = book_in_every_partition(&mut service, 2);
        // The first handler call, in partition 0, fails; its retry waits up
        // to an hour. Partitions 1 and 2 have nothing to wait for.
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
            closed.routed,
            bookings.len(),
            "the shutdown must move what it relayed into the topic: \
             relay_all, then route, before the drain"
        );
        assert!(
            !closed.handed_back.is_empty(),
            "the round waiting for its retry must be dropped at the deadline \
             and its partition listed in handed_back, got none"
        );
        assert_eq!(
            closed.handed_back,
            vec![Partition(0)],
            "only partition 0's round waits (for a retry an hour away), so \
             only it may be handed back. A passed deadline skips no \
             partition: run every round under timeout_at(deadline, ..), which \
             still polls it once, so a round with nothing to wait for \
             finishes and commits"
        );
        let late = Partition(0);
        let ends = service.ends();
        assert!(
            closed.committed[late.index()] < ends[late.index()],
            "partition {late} was handed back: its records in flight must not \
             be committed, or the next start would never handle them"
        );
        for partition in (1..PARTITIONS).map(Partition) {
            assert_eq!(
                closed.committed[partition.index()],
                ends[partition.index()],
                "the partitions after the late one must still get their round \
                 (a passed deadline skips no partition): partition \
                 {partition} must be committed at its end"
            );
        }

        let mut service = service.restart();
        service.consume_all().await;
        for (n, (booking_id, _)) in bookings.iter().enumerate() {
            assert!(
                service.is_held(*booking_id),
                "booking {n} was handed back at the shutdown and must be \
                 handled after the restart"
            );
        }
    });
}

#[test]
fn the_budget_is_for_all_the_rounds_together() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(27, patient_config());
        let bookings = book_in_every_partition(&mut service, 2);
        // Every other handler call fails, and each partition holds two
        // bookings or more: every round has a record waiting for a retry an
        // hour away.
        service.pipeline.faults_mut().transient = 1000;
        let started = tokio::time::Instant::now();
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
        let took = started.elapsed();
        assert_eq!(
            closed.routed,
            bookings.len(),
            "the shutdown must move what it relayed into the topic: \
             relay_all, then route, before the drain"
        );
        assert!(
            took < BUDGET * 2,
            "the shutdown took {took:?} with a budget of {BUDGET:?} for \
             three rounds that all wait: the budget is for all the rounds \
             together, one deadline (Instant::now() + drain_for) and each \
             round under timeout_at(deadline, ..), not drain_for for each"
        );
        assert_eq!(
            closed.handed_back,
            (0..PARTITIONS).map(Partition).collect::<Vec<_>>(),
            "every round waits for a retry an hour away, so every partition \
             must be handed back: a late partition does not end the drain, \
             the rounds after it still run, under the same deadline"
        );
    });
}

#[test]
fn shutdown_returns_the_first_error_it_meets() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(24, config());
        service.book(0, 4);
        service.disk.fail_after(0);
        let result = service.pipeline.shutdown(BUDGET).await;
        assert!(
            matches!(result, Err(PipelineError::Relay(_))),
            "the disk fails from the first write, and the relay writes \
             first: the shutdown must stop there and return the relay's \
             error, not go on; got {result:?}"
        );
        assert!(
            !service.pipeline.is_open(),
            "a shutdown that failed must still leave intake closed: close it \
             first, before anything that can fail"
        );
    });
}

#[test]
fn a_route_that_fails_stops_the_shutdown() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(28, config());
        let bookings = service.book(0, 4);
        // The bookings are in the topic already, ready for a round; the
        // outbox log's first record is not a batch, so the shutdown's route
        // fails.
        service.deliver_outbox();
        service
            .pipeline
            .outbox_log()
            .durable()
            .append(Partition(0), Record::new("x", &b"\xff not a batch"[..]))
            .expect("a raw append to the outbox log");
        let result = service.pipeline.shutdown(BUDGET).await;
        assert!(
            matches!(result, Err(PipelineError::NotABatch { .. })),
            "the shutdown's route fails on a record that is not a batch: the \
             shutdown must stop there and return route's error (`route()?`), \
             not go on to the rounds; got {result:?}"
        );
        for (n, booking_id) in bookings.iter().enumerate() {
            assert!(
                !service.is_held(*booking_id),
                "route failed, and an error stops the shutdown at once: no \
                 round may run after it, but booking {n} was handled"
            );
        }
    });
}

#[test]
fn a_round_that_fails_during_shutdown_is_an_error() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(26, config());
        let bookings = book_in_every_partition(&mut service, 1);
        service.pipeline.relay_all().expect("the relay publishes");
        service
            .pipeline
            .route()
            .expect("the router moves the batches");
        // Relay and router have nothing left to write: the first write of
        // the shutdown is partition 0's commit.
        service.disk.fail_after(0);
        let result = service.pipeline.shutdown(BUDGET).await;
        assert!(
            matches!(result, Err(PipelineError::Commit(_))),
            "a round whose commit fails must make the shutdown fail with that \
             error (`round?`), not report a clean close; got {result:?}"
        );
        for (booking_id, partition) in &bookings {
            if *partition == Partition(0) {
                continue;
            }
            assert!(
                !service.is_held(*booking_id),
                "partition 0's round failed, and an error stops the shutdown \
                 at once: no round may run after it, but a booking of \
                 partition {partition} was handled"
            );
        }
    });
}

#[test]
fn everything_committed_at_shutdown_survives_a_power_cut() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(25, common::never_fsync());
        let bookings = service.book(0, 20);
        let closed =
            service.pipeline.shutdown(BUDGET).await.expect("a shutdown");
        assert_eq!(
            closed.routed, 20,
            "the shutdown must move what it relayed into the topic: \
             relay_all, then route, before the drain"
        );
        let mut service = service.power_cut();
        assert_eq!(
            service.committed(),
            closed.committed,
            "after the power cut the committed offsets differ from what \
             shutdown reported: commit with Pipeline::commit and read \
             Closed.committed after the rounds"
        );
        for (partition, (end, committed)) in
            service.ends().iter().zip(&closed.committed).enumerate()
        {
            assert!(
                end >= committed,
                "after the power cut partition {partition} ends at {end}, \
                 below its committed offset {committed}: the topic must be \
                 synced before anything is committed past it"
            );
        }
        service.consume_all().await;
        for (n, booking_id) in bookings.iter().enumerate() {
            assert!(
                service.is_held(*booking_id),
                "booking {n} was accepted before the shutdown and must be \
                 handled after the power cut and one more round"
            );
        }
    });
}
