//! Exercise "crash": `Pipeline::handle` and `Pipeline::reached` in
//! src/pipeline.rs, and what a crash does with each commit policy.

use std::error::Error;

use solution09_offsets::{
    BookingEvent, BookingId, BookingState, CommitError, CommitPolicy,
    CrashPoint, Log, Offset, Partition, PipelineError, Record, Rejected,
    RunOutcome, SeatId, Service, Stage, StageError, TrackError, UserId,
    WireError, encode, run_until_crash,
};

const P: Partition = Partition(0);

/// A partition holding three booking events:
///
/// | offset | event |
/// |---|---|
/// | 0 | `ReservationRequested` for booking `first`, seat A1 |
/// | 1 | `ReservationRequested` for booking `second`, seat B2 |
/// | 2 | `PaymentReceived` for booking `second` |
struct Fixture {
    log: Log,
    first: BookingId,
    second: BookingId,
}

fn fixture() -> Fixture {
    let log = Log::new(1).expect("a log with one partition");
    let first = BookingId::new();
    let second = BookingId::new();
    let events = [
        BookingEvent::ReservationRequested {
            booking_id: first,
            seat_id: SeatId::parse("A1").expect("A1 is a seat"),
            user_id: UserId::new(),
        },
        BookingEvent::ReservationRequested {
            booking_id: second,
            seat_id: SeatId::parse("B2").expect("B2 is a seat"),
            user_id: UserId::new(),
        },
        BookingEvent::PaymentReceived { booking_id: second },
    ];
    for event in &events {
        log.append(P, Record::new("booking", encode(event)))
            .expect("partition 0 exists");
    }
    Fixture { log, first, second }
}

/// One run of the consumer, failing the test with the pipeline's error.
fn run(
    fixture: &Fixture,
    policy: CommitPolicy,
    crash: Option<CrashPoint>,
    service: &mut Service,
) -> RunOutcome {
    run_until_crash(&fixture.log, P, policy, crash, service).unwrap_or_else(
        |e| {
            panic!(
                "the pipeline failed ({policy:?}, crash at {crash:?}): {}",
                chain(&e)
            )
        },
    )
}

/// An error and every cause behind it, outermost first, joined by ": ".
fn chain(error: &(dyn Error + 'static)) -> String {
    workshop_testkit::errors::chain(error).join(": ")
}

/// Crashes at `offset`/`stage`, then restarts and runs until caught up.
fn crash_and_restart(
    fixture: &Fixture,
    policy: CommitPolicy,
    offset: u64,
    stage: Stage,
) -> Service {
    let mut service = Service::default();
    let at = CrashPoint {
        offset: Offset(offset),
        stage,
    };
    assert_eq!(
        run(fixture, policy, Some(at), &mut service),
        RunOutcome::Crashed { at },
        "the planned crash at offset {offset}, stage {stage} must hit"
    );
    let after_restart = run(fixture, policy, None, &mut service);
    assert_eq!(
        after_restart,
        RunOutcome::CaughtUp {
            committed: Offset(3)
        },
        "after the restart the consumer must handle the rest and commit 3, the log end"
    );
    service
}

fn is_confirmed(state: &BookingState) -> bool {
    matches!(state, BookingState::Confirmed { .. })
}

#[test]
fn without_a_crash_every_record_is_handled_once_and_the_log_end_is_committed() {
    for policy in [CommitPolicy::BeforeEffect, CommitPolicy::AfterEffect] {
        let fixture = fixture();
        let mut service = Service::default();
        assert_eq!(
            run(&fixture, policy, None, &mut service),
            RunOutcome::CaughtUp {
                committed: Offset(3)
            },
            "{policy:?}: after handling offsets 0, 1 and 2, the committed offset is 3, the next \
             one to read"
        );
        assert_eq!(service.committed.committed(P), Some(Offset(3)));
        for offset in 0..3 {
            assert_eq!(
                service.bookings.attempts_at(Offset(offset)),
                1,
                "{policy:?}: record {offset} must be handled exactly once"
            );
        }
        assert!(is_confirmed(&service.bookings.state(fixture.second)));

        run(&fixture, policy, None, &mut service);
        assert_eq!(
            service.bookings.attempts().len(),
            3,
            "{policy:?}: a restart after a clean run must handle nothing again; if record 2 came \
             back, the committed offset was the last handled offset instead of the next one"
        );
    }
}

#[test]
fn committing_before_the_effect_loses_the_record_in_a_crash() {
    let fixture = fixture();
    let mut service = Service::default();
    let at = CrashPoint {
        offset: Offset(1),
        stage: Stage::Decoded,
    };
    run(&fixture, CommitPolicy::BeforeEffect, Some(at), &mut service);
    assert_eq!(
        service.committed.committed(P),
        Some(Offset(2)),
        "BeforeEffect commits when a record is decoded: record 1 is committed before the crash"
    );

    run(&fixture, CommitPolicy::BeforeEffect, None, &mut service);
    assert_eq!(
        service.bookings.attempts_at(Offset(1)),
        0,
        "record 1 was committed and then the crash hit before its effect: after the restart \
         nobody handles it again, it is lost"
    );
    assert_eq!(
        service.bookings.state(fixture.second),
        BookingState::Empty,
        "the reservation of the second booking is lost"
    );
    assert_eq!(
        service
            .bookings
            .attempts()
            .last()
            .map(|a| a.outcome.clone()),
        Some(Err(Rejected::NotRequested {
            booking_id: fixture.second
        })),
        "and so its payment, at offset 2, is refused: a paid booking was lost"
    );
}

#[test]
fn committing_after_the_effect_delivers_the_record_again_after_a_crash() {
    let fixture = fixture();
    let mut service = Service::default();
    let at = CrashPoint {
        offset: Offset(1),
        stage: Stage::Persisted,
    };
    run(&fixture, CommitPolicy::AfterEffect, Some(at), &mut service);
    assert_eq!(
        service.committed.committed(P),
        Some(Offset(1)),
        "AfterEffect commits when a record is acked: record 0 is committed, record 1 is not"
    );

    run(&fixture, CommitPolicy::AfterEffect, None, &mut service);
    assert_eq!(
        service.bookings.attempts_at(Offset(1)),
        2,
        "record 1 was persisted but not committed before the crash: the restart must deliver \
         it again (at-least-once)"
    );
    let outcomes: Vec<_> = service
        .bookings
        .attempts()
        .iter()
        .filter(|a| a.offset == Offset(1))
        .map(|a| a.outcome.clone())
        .collect();
    assert_eq!(
        outcomes,
        vec![
            Ok(()),
            Err(Rejected::AlreadyRequested {
                booking_id: fixture.second
            })
        ],
        "the second delivery is a duplicate, which the state machine of step 01 refuses"
    );
    assert!(
        is_confirmed(&service.bookings.state(fixture.second)),
        "nothing is lost: the second booking is paid and confirmed"
    );
    assert!(matches!(
        service.bookings.state(fixture.first),
        BookingState::Held { .. }
    ));
}

#[test]
fn a_restart_resumes_exactly_at_the_committed_offset() {
    let fixture = fixture();
    let service = crash_and_restart(
        &fixture,
        CommitPolicy::AfterEffect,
        2,
        Stage::Received,
    );
    assert_eq!(service.committed.committed(P), Some(Offset(3)));
    for offset in 0..3 {
        assert_eq!(
            service.bookings.attempts_at(Offset(offset)),
            1,
            "the crash hit record 2 before its effect; records 0 and 1 were committed, so the \
             restart starts at 2: every record is handled once (record {offset} was not)"
        );
    }
}

// ANCHOR: table
#[test]
fn every_crash_point_loses_or_repeats_the_record_as_the_chapter_table_says() {
    // How many times the effect of record 1 happens when the crash hits it at
    // each stage: 0 = lost, 1 = once, 2 = delivered again after the restart.
    let table = [
        (CommitPolicy::BeforeEffect, [1, 0, 1, 1, 1]),
        (CommitPolicy::AfterEffect, [1, 1, 2, 2, 1]),
    ];
    let mut wrong = Vec::new();
    for (policy, wants) in table {
        for (stage, want) in Stage::ALL.into_iter().zip(wants) {
            let fixture = fixture();
            let service = crash_and_restart(&fixture, policy, 1, stage);
            let got = service.bookings.attempts_at(Offset(1));
            if got != want {
                wrong.push(format!(
                    "{policy:?}, crash once record 1 is {stage}: want its effect {want} time(s), got {got}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the effect must happen at Persisted, and the commit at the policy's stage (Decoded or \
         Acked), before the crash planned at the same stage:\n{}",
        wrong.join("\n")
    );
}
// ANCHOR_END: table

#[test]
fn a_record_that_does_not_decode_stops_the_run_and_is_not_committed_past() {
    for policy in [CommitPolicy::BeforeEffect, CommitPolicy::AfterEffect] {
        let fixture = fixture();
        // The same log with bytes that are not a booking event at offset 1.
        let log = Log::new(1).expect("a log with one partition");
        let good = fixture
            .log
            .read(P, Offset(0), 3)
            .expect("the fixture's partition 0 exists");
        log.append(P, good[0].record.clone())
            .expect("partition 0 exists");
        log.append(P, Record::new("booking", &b"\xff\xff not an event"[..]))
            .expect("partition 0 exists");
        log.append(P, good[2].record.clone())
            .expect("partition 0 exists");

        let mut service = Service::default();
        match run_until_crash(&log, P, policy, None, &mut service) {
            Err(PipelineError::Decode { offset, .. }) => assert_eq!(
                offset,
                Offset(1),
                "{policy:?}: the Decode error must name the offset of the bad record"
            ),
            Ok(outcome) => panic!(
                "{policy:?}: the record at offset 1 does not decode, but the run ended with \
                 {outcome:?}: a record that does not decode was skipped silently. Stop with \
                 Err(PipelineError::Decode {{ offset, source }}), so that it is seen and set \
                 aside (step 12), not lost"
            ),
            Err(other) => panic!(
                "{policy:?}: the record at offset 1 does not decode: expected \
                 PipelineError::Decode, got {}",
                chain(&other)
            ),
        }
        assert_eq!(
            service.committed.committed(P),
            Some(Offset(1)),
            "{policy:?}: record 0 was handled and record 1 was not: the committed offset must \
             stay at 1, not move past the bad record"
        );
        assert_eq!(
            service.bookings.attempts_at(Offset(2)),
            0,
            "{policy:?}: the run stops at the bad record, so record 2 is not handled yet"
        );
    }
}

#[test]
fn a_pipeline_error_does_not_repeat_its_cause_in_its_own_message() {
    let refused = Log::new(1)
        .expect("a log with one partition")
        .read(Partition(5), Offset(0), 1)
        .expect_err("partition 5 does not exist in a log of one partition");
    let errors = [
        PipelineError::Log(refused),
        PipelineError::Decode {
            offset: Offset(1),
            source: WireError::MissingEvent,
        },
        PipelineError::Stage(StageError::Repeated {
            stage: Stage::Decoded,
        }),
        PipelineError::Track(TrackError::NotInFlight { offset: Offset(4) }),
        PipelineError::Commit(CommitError::PastEnd {
            partition: P,
            offset: Offset(9),
            log_end: Offset(3),
        }),
    ];
    for error in errors {
        // A message that also printed its cause would show it twice in a report
        // of the whole chain; the cause must be reachable through `source()`.
        workshop_testkit::errors::assert_cause_not_repeated(&error, 2);
    }
}
