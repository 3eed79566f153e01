//! Exercise "policy": `classify`, `RetryPolicy::ceiling`, `delay` and
//! `after_failure` in src/policy.rs.

mod common;

use std::time::Duration;

use common::{policy, rng, transient};
use solution12_retries::{
    BookingId, EventId, HandleError, HandlerError, Next, RetryPolicy, classify,
};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// The error SQLite gives when another connection holds the write lock.
fn busy() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        None,
    )
}

// ANCHOR: classify_tests
#[test]
fn a_locked_database_is_transient() {
    let got = classify(&HandleError::Locked { source: busy() });
    assert!(
        matches!(got, HandlerError::Transient { .. }),
        "a database locked by another connection may be free a moment later: \
         it must be Transient, got {got:?}"
    );
}

#[test]
fn every_database_failure_is_transient_because_the_event_is_not_at_fault() {
    let errors = [
        HandleError::ReadOnly { source: busy() },
        HandleError::Corrupt {
            what: "a booking state \"lost\"".to_owned(),
        },
        HandleError::Database { source: busy() },
    ];
    for error in errors {
        let got = classify(&error);
        assert!(
            matches!(got, HandlerError::Transient { .. }),
            "{error:?} is about the database, not the event: the same event \
             may succeed after a fix, so it is Transient (retried a few \
             times, then dead-lettered and replayed after the fix); got {got:?}"
        );
    }
}

#[test]
fn an_unknown_booking_is_not_requested_yet_with_its_booking() {
    let booking_id = BookingId::new();
    let got = classify(&HandleError::UnknownBooking {
        event: "PaymentReceived",
        event_id: EventId::new(),
        booking_id,
    });
    assert_eq!(
        got,
        HandlerError::NotRequestedYet { booking_id },
        "a payment for a booking the database does not know may have \
         overtaken its request: NotRequestedYet, with the booking to park it \
         under"
    );
}
// ANCHOR_END: classify_tests

// ANCHOR: ceiling_tests
#[test]
fn the_ceiling_doubles_from_base_and_stops_at_cap() {
    let policy = policy(10);
    let got: Vec<Duration> =
        (1..=6).map(|retry| policy.ceiling(retry)).collect();
    assert_eq!(
        got,
        vec![ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)],
        "with base 100 ms and cap 1 s, retries 1 to 6 may wait at most 100, \
         200, 400, 800 ms, then 1 s: the first retry's ceiling is base itself"
    );
}

#[test]
fn a_huge_retry_number_is_capped_not_overflowed() {
    let policy = RetryPolicy {
        max_attempts: u32::MAX,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(30),
    };
    for retry in [33, 64, 1_000, u32::MAX] {
        assert_eq!(
            policy.ceiling(retry),
            Duration::from_secs(30),
            "retry {retry}: 2^(retry-1) overflows; the ceiling must be the cap, \
             not a panic or a wrapped small number"
        );
    }
}
// ANCHOR_END: ceiling_tests

// ANCHOR: jitter_tests
#[test]
fn every_delay_lies_between_zero_and_the_ceiling() {
    let policy = policy(10);
    let mut rng = rng(7);
    for retry in 1..=8 {
        let ceiling = policy.ceiling(retry);
        for _ in 0..500 {
            let delay = policy.delay(retry, &mut rng);
            assert!(
                delay <= ceiling,
                "retry {retry}: a delay of {delay:?} is above the ceiling \
                 {ceiling:?}; full jitter draws from zero to the ceiling"
            );
        }
    }
}

#[test]
fn the_delays_spread_over_the_whole_range_not_just_near_the_ceiling() {
    let policy = policy(10);
    let mut rng = rng(11);
    let retry = 4;
    let ceiling = policy.ceiling(retry);
    let delays: Vec<Duration> =
        (0..1_000).map(|_| policy.delay(retry, &mut rng)).collect();
    let low = delays.iter().filter(|d| **d < ceiling / 10).count();
    let high = delays.iter().filter(|d| **d > ceiling * 9 / 10).count();
    // 1,000 uniform draws put about 100 in each tenth; this seed's draws are
    // fixed, so the test gives the same answer on every run.
    assert!(
        low >= 50 && high >= 50,
        "of 1,000 delays for a ceiling of {ceiling:?}, {low} are below a tenth \
         of it and {high} above nine tenths: full jitter is uniform from zero \
         to the ceiling, not the ceiling itself, nor half of it plus a little"
    );
}

#[test]
fn the_same_seed_gives_the_same_delays() {
    let policy = policy(10);
    let draw = |seed| -> Vec<Duration> {
        let mut rng = rng(seed);
        (1..=5).map(|retry| policy.delay(retry, &mut rng)).collect()
    };
    assert_eq!(
        draw(3),
        draw(3),
        "the delays must come from the random source passed in, so that a \
         seeded test can be run again and fail the same way"
    );
}
// ANCHOR_END: jitter_tests

// ANCHOR: after_failure_tests
#[test]
fn a_permanent_failure_is_dead_lettered_at_once() {
    let policy = policy(5);
    let error = HandlerError::Permanent {
        reason: "not a booking event".to_owned(),
    };
    assert_eq!(
        policy.after_failure(&error, 1, &mut rng(1)),
        Next::DeadLetter,
        "a permanent failure fails the same way on every retry: retrying it \
         only blocks the events behind it"
    );
}

#[test]
fn a_transient_failure_is_retried_until_max_attempts_then_dead_lettered() {
    let policy = policy(4);
    let mut rng = rng(2);
    for attempts in 1..4 {
        let next = policy.after_failure(&transient("busy"), attempts, &mut rng);
        let Next::RetryAfter(delay) = next else {
            panic!(
                "after {attempts} failed attempt(s) of 4 allowed, a transient \
                 failure must be retried, got {next:?}"
            );
        };
        assert!(
            delay <= policy.ceiling(attempts),
            "after {attempts} failed attempt(s) the next one is retry \
             {attempts}, so its delay is at most {:?}; got {delay:?}",
            policy.ceiling(attempts)
        );
    }
    assert_eq!(
        policy.after_failure(&transient("busy"), 4, &mut rng),
        Next::DeadLetter,
        "max_attempts counts every attempt, the first one included: after 4 \
         failures of 4 allowed, give up"
    );
}

#[test]
fn max_attempts_of_one_never_retries() {
    assert_eq!(
        policy(1).after_failure(&transient("busy"), 1, &mut rng(3)),
        Next::DeadLetter,
        "max_attempts = 1 means the first attempt is the only one"
    );
}

#[test]
fn a_booking_not_requested_yet_is_parked() {
    let error = HandlerError::NotRequestedYet {
        booking_id: BookingId::new(),
    };
    assert_eq!(
        policy(5).after_failure(&error, 1, &mut rng(4)),
        Next::Park,
        "an event whose request has not arrived yet waits for it in the park; \
         retrying it on a timer does not make the request arrive"
    );
}
// ANCHOR_END: after_failure_tests
