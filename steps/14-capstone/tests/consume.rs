//! Exercise 2: a round of a partition's consumer runs step 12's worker from
//! the committed offset and commits after the effect.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{PARTITIONS, Service, config, on_paused_clock, patient_config};
use step14_capstone::{Offset, Partition, PipelineError};

/// What the watchdog says when a round never returns.
const HANG: &str = "the round did not return, on a paused clock where it \
     takes no time at all: does consume run the worker once and return, \
     without a loop of its own?";

/// Books `count` seats and puts them into the topic.
fn routed(seed: u64, count: usize) -> Service {
    let mut service = Service::new(seed, config());
    service.book(0, count);
    service.deliver_outbox();
    service
}

#[test]
fn a_round_handles_every_record_then_commits_the_partition_end() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(11, config());
        let bookings = service.book(0, 9);
        service.deliver_outbox();
        for partition in (0..PARTITIONS).map(Partition) {
            let end = service.pipeline.log_end(partition).expect("a partition");
            let round = service
                .pipeline
                .consume(partition)
                .await
                .expect("a round on a healthy pipeline");
            assert_eq!(
                (round.partition, round.start),
                (partition, Offset(0)),
                "the first round of partition {partition} starts at offset 0"
            );
            assert_eq!(
                round.processed as u64, end.0,
                "partition {partition} holds {end} records; the round must \
                 report each one the worker processed"
            );
            assert_eq!(
                (round.committed, service.pipeline.committed(partition)),
                (end, end),
                "after a round, partition {partition} must be committed at its \
                 end, {end}: the report's committed offset is the next one to \
                 read, commit it as it is (not one less, not one more)"
            );
        }
        for (n, booking_id) in bookings.iter().enumerate() {
            assert!(
                service.is_held(*booking_id),
                "booking {n} must be held in the consumer's database after the \
                 rounds"
            );
        }
    });
}

#[test]
fn the_next_round_starts_at_the_committed_offset() {
    on_paused_clock(HANG, || async {
        let mut service = routed(12, 6);
        service.consume_all().await;
        let committed = service.committed();
        service.book(6, 6);
        service.deliver_outbox();
        for partition in (0..PARTITIONS).map(Partition) {
            let before = committed[partition.index()];
            let end = service.pipeline.log_end(partition).expect("a partition");
            assert!(
                before <= end,
                "partition {partition} was committed at {before}, past its \
                 end {end}: the report's committed offset is already the next \
                 offset to read; commit it as it is, not one more"
            );
            let round =
                service.pipeline.consume(partition).await.expect("a round");
            assert_eq!(
                round.start, before,
                "the second round of partition {partition} must start where \
                 the first committed, {before}, not at 0"
            );
            assert_eq!(
                round.processed as u64,
                end.0 - before.0,
                "the second round of partition {partition} must process only \
                 the records after the committed offset"
            );
        }
    });
}

#[test]
fn a_round_stopped_before_its_end_commits_nothing() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(13, patient_config());
        service.book(0, 6);
        service.deliver_outbox();
        let busy = (0..PARTITIONS)
            .map(Partition)
            .find(|p| service.pipeline.log_end(*p).expect("a partition").0 > 0)
            .expect("six bookings fill some partition");
        // The first handler call fails; its retry waits up to an hour.
        service.pipeline.faults_mut().transient = 1;
        let round = tokio::time::timeout(
            Duration::from_secs(5),
            service.pipeline.consume(busy),
        )
        .await;
        assert!(
            round.is_err(),
            "the round must still be waiting for its retry after 5 s: it runs \
             step 12's run_partition with the pipeline's worker configuration"
        );
        assert_eq!(
            service.pipeline.committed(busy),
            Offset(0),
            "a round stopped while a record waits for its retry must have \
             committed nothing: the commit comes after the worker returns, \
             never before it runs"
        );
        let round = service.pipeline.consume(busy).await.expect("a new round");
        assert_eq!(
            round.start,
            Offset(0),
            "the round after a stopped one starts again at the committed offset"
        );
    });
}

#[test]
fn a_worker_that_fails_is_an_error_for_its_partition() {
    on_paused_clock(HANG, || async {
        let mut service = routed(14, 3);
        let unknown = Partition(PARTITIONS + 4);
        let result = service.pipeline.consume(unknown).await;
        assert!(
            matches!(
                result,
                Err(PipelineError::Worker { partition, .. })
                    if partition == unknown
            ),
            "a worker that fails (here: a partition the topic does not have) \
             must come back as PipelineError::Worker naming the partition, not \
             as an empty round; got {result:?}"
        );
    });
}

#[test]
fn retries_and_dead_letters_are_counted_and_committed_past() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(15, config());
        service.book(0, 6);
        service.pipeline.faults_mut().poison_pills = 1;
        service.deliver_outbox();
        service.pipeline.faults_mut().transient = 2;
        let mut retries = 0;
        let mut dead_lettered = 0;
        let mut processed = 0;
        for partition in (0..PARTITIONS).map(Partition) {
            let round =
                service.pipeline.consume(partition).await.expect("a round");
            retries += round.retries;
            dead_lettered += round.dead_lettered;
            processed += round.processed;
            let end = service.pipeline.log_end(partition).expect("a partition");
            let committed = service.pipeline.committed(partition);
            assert!(
                committed <= end,
                "partition {partition} was committed at {committed}, past its \
                 end {end}: the report's committed offset is already the next \
                 offset to read; commit it as it is, not one more"
            );
            assert_eq!(
                committed, end,
                "a dead-lettered record counts as done: partition {partition} \
                 must be committed at its end"
            );
        }
        assert_eq!(
            retries, 2,
            "two failed handler calls mean two retries: the attempts of each \
             record in the worker's report, minus the first"
        );
        assert_eq!(
            dead_lettered, 1,
            "the one poison pill must be counted as dead-lettered"
        );
        assert_eq!(
            processed, 6,
            "Round.processed counts handled records only \
             (report.processed.len()); the dead-lettered pill is counted in \
             dead_lettered"
        );
        let metrics = service.pipeline.metrics();
        assert_eq!(
            metrics.handled.load(Ordering::Relaxed),
            6,
            "the handler must be called for each of the 6 events: run \
             run_partition with self.handler"
        );
        assert_eq!(
            metrics.dead_lettered.load(Ordering::Relaxed),
            1,
            "the round must add the records it dead-lettered to \
             metrics.dead_lettered (Metrics::add): the dashboard shows that \
             counter, and only the round knows how many there were"
        );
    });
}

#[test]
fn every_failed_call_of_the_same_record_is_a_retry() {
    on_paused_clock(HANG, || async {
        let mut service = Service::new(16, config());
        service.book(0, 2);
        // Both events into partition 0, whatever their keys say: the first
        // fails, the second goes through while the first waits for its retry,
        // and the first fails once more before it goes through.
        let rows = service.pipeline.outbox().rows().expect("the outbox reads");
        for (row, _sent) in &rows {
            service
                .pipeline
                .deliver(Partition(0), &row.event)
                .expect("the topic takes the event");
        }
        service.pipeline.faults_mut().transient = 2;
        let round = service
            .pipeline
            .consume(Partition(0))
            .await
            .expect("a round");
        assert_eq!(round.processed, 2, "both records are handled in the end");
        assert_eq!(
            round.retries, 2,
            "the first record failed twice and was handled on its third \
             call: two retries. Round.retries counts handler calls beyond the \
             first of each record (report.attempts), not the records that \
             were retried"
        );
    });
}
