//! Exercise "watermark": `CommitTracker` in src/tracker.rs: `received`,
//! `finished` and `lag`.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::sample::Index;
use step09_offsets::{CommitTracker, Offset, TrackError};

/// A tracker that started at `start` and has received `count` records after it.
fn tracker_with_received(start: u64, count: u64) -> CommitTracker {
    let mut tracker = CommitTracker::new(Offset(start));
    for offset in start..start + count {
        tracker.received(Offset(offset)).unwrap_or_else(|e| {
            panic!("receiving offset {offset} in order must work: {e}")
        });
    }
    tracker
}

fn finish(tracker: &mut CommitTracker, offset: u64) -> Option<Offset> {
    tracker.finished(Offset(offset)).unwrap_or_else(|e| {
        panic!("offset {offset} is in flight, so finishing it must work: {e}")
    })
}

#[test]
fn a_new_tracker_commits_where_it_started() {
    let tracker = CommitTracker::new(Offset(5));
    assert_eq!(tracker.committed(), Offset(5));
    assert_eq!(tracker.in_flight(), Vec::<Offset>::new());
}

#[test]
fn receiving_a_record_puts_it_in_flight_and_commits_nothing() {
    let tracker = tracker_with_received(5, 3);
    assert_eq!(
        tracker.in_flight(),
        vec![Offset(5), Offset(6), Offset(7)],
        "three received, unfinished records must be in flight"
    );
    assert_eq!(
        tracker.committed(),
        Offset(5),
        "receiving a record is not finishing it: the committed offset must not move"
    );
}

#[test]
fn finishing_a_record_commits_the_offset_after_it() {
    let mut tracker = tracker_with_received(0, 1);
    assert_eq!(
        finish(&mut tracker, 0),
        Some(Offset(1)),
        "after record 0 is finished, the committed offset is 1, the NEXT record to read; \
         committing 0 would make a restart handle record 0 again"
    );
    assert_eq!(tracker.committed(), Offset(1));
    assert_eq!(tracker.in_flight(), Vec::<Offset>::new());
}

#[test]
fn a_record_that_finishes_early_waits_for_the_ones_below_it() {
    let mut tracker = tracker_with_received(0, 3);
    assert_eq!(
        finish(&mut tracker, 2),
        None,
        "record 2 finished, but 0 and 1 are still in flight: committing 3 now would lose them \
         in a crash"
    );
    assert_eq!(tracker.committed(), Offset(0));
    assert_eq!(
        finish(&mut tracker, 0),
        Some(Offset(1)),
        "record 0 finished and 1 is still in flight: the watermark moves to 1, not past it"
    );
    assert_eq!(
        finish(&mut tracker, 1),
        Some(Offset(3)),
        "with 0, 1 and 2 finished, the watermark jumps over 2, which finished earlier, to 3"
    );
}

#[test]
fn when_the_lowest_record_finishes_last_the_watermark_jumps_to_the_end() {
    let mut tracker = tracker_with_received(10, 5);
    for offset in [14, 13, 12, 11] {
        assert_eq!(
            finish(&mut tracker, offset),
            None,
            "record {offset} finished, but 10 is still in flight: nothing may be committed yet"
        );
    }
    assert_eq!(
        finish(&mut tracker, 10),
        Some(Offset(15)),
        "records 10 to 14 are all finished: the committed offset must be 15, one past the \
         highest received, not 11"
    );
}

#[test]
fn a_record_cannot_finish_twice() {
    let mut tracker = tracker_with_received(0, 3);
    finish(&mut tracker, 0);
    finish(&mut tracker, 1);
    assert_eq!(
        tracker.finished(Offset(0)),
        Err(TrackError::NotInFlight { offset: Offset(0) }),
        "record 0 already finished: finishing it again must be refused"
    );
    assert_eq!(
        tracker.committed(),
        Offset(2),
        "a late, second finish of record 0 must not move the committed offset back"
    );
}

#[test]
fn a_record_that_was_never_received_cannot_finish() {
    let mut tracker = tracker_with_received(0, 2);
    assert_eq!(
        tracker.finished(Offset(5)),
        Err(TrackError::NotInFlight { offset: Offset(5) }),
        "offset 5 was never received: counting it as finished would commit records nobody handled"
    );
    assert_eq!(tracker.committed(), Offset(0));
    assert_eq!(tracker.in_flight(), vec![Offset(0), Offset(1)]);
}

#[test]
fn records_are_received_in_offset_order_once_each() {
    let mut tracker = tracker_with_received(0, 2);
    assert_eq!(
        tracker.received(Offset(1)),
        Err(TrackError::OutOfOrder {
            offset: Offset(1),
            expected: Offset(2),
        }),
        "offset 1 was already received: tracking it twice must be refused"
    );
    assert_eq!(
        tracker.received(Offset(4)),
        Err(TrackError::OutOfOrder {
            offset: Offset(4),
            expected: Offset(2),
        }),
        "receiving 4 after 1 would skip records 2 and 3: it must be refused"
    );
    assert_eq!(tracker.in_flight(), vec![Offset(0), Offset(1)]);
}

#[test]
fn a_redelivered_record_below_the_committed_offset_does_not_pull_it_back() {
    // A consumer restarted at committed offset 3, then handed record 1 again
    // (a stale fetch from before the restart, say).
    let mut tracker = CommitTracker::new(Offset(3));
    assert_eq!(
        tracker.received(Offset(1)),
        Err(TrackError::OutOfOrder {
            offset: Offset(1),
            expected: Offset(3),
        }),
        "a tracker that starts at committed offset 3 must refuse offset 1"
    );
    assert_eq!(
        tracker.finished(Offset(1)),
        Err(TrackError::NotInFlight { offset: Offset(1) })
    );
    assert_eq!(
        tracker.committed(),
        Offset(3),
        "the committed offset must never go back"
    );
}

#[test]
fn lag_counts_every_record_not_committed_yet() {
    let mut tracker = CommitTracker::new(Offset(0));
    assert_eq!(
        tracker.lag(Offset(10)),
        10,
        "10 records in the log, none committed"
    );

    for offset in 0..5 {
        tracker.received(Offset(offset)).unwrap();
    }
    assert_eq!(
        tracker.lag(Offset(10)),
        10,
        "5 records received but none finished: the lag is still 10. Lag is measured from the \
         committed offset, not from the last record received; a crash now would read all 10 again"
    );

    finish(&mut tracker, 1);
    assert_eq!(
        tracker.lag(Offset(10)),
        10,
        "record 1 finished but 0 has not: nothing is committed, the lag is still 10"
    );

    finish(&mut tracker, 0);
    assert_eq!(
        tracker.lag(Offset(10)),
        8,
        "records 0 and 1 are committed: 8 of 10 records are left"
    );

    assert_eq!(
        tracker.lag(Offset(13)),
        11,
        "3 more records were appended: the lag grows with the log end"
    );
}

#[test]
fn lag_is_zero_when_everything_is_committed() {
    let mut tracker = tracker_with_received(0, 3);
    for offset in 0..3 {
        finish(&mut tracker, offset);
    }
    assert_eq!(tracker.lag(Offset(3)), 0, "all 3 records are committed");
}

#[test]
fn lag_does_not_underflow_when_the_log_end_is_stale() {
    let tracker = CommitTracker::new(Offset(10));
    assert_eq!(
        tracker.lag(Offset(8)),
        0,
        "a log end below the committed offset (read before the last appends) means no lag, not \
         a subtraction that overflows"
    );
}

/// The lowest offset received and not finished, or the next offset to receive
/// when every received record has finished: what the committed offset must be.
fn lowest_unfinished(
    received_up_to: u64,
    finished: &BTreeSet<u64>,
    start: u64,
) -> u64 {
    (start..received_up_to)
        .find(|offset| !finished.contains(offset))
        .unwrap_or(received_up_to)
}

// Few cases keep the check fast after every save; a wrong watermark shows up
// within a handful of random orders.

// ANCHOR: property
proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    /// Records are received and finished in a random interleaving, as
    /// concurrent handlers would. After every step the committed offset is the
    /// lowest unfinished offset, never decreases, and `finished` reports
    /// exactly when it moves.
    #[test]
    fn the_watermark_is_the_lowest_unfinished_offset_in_any_completion_order(
        start in 0u64..1_000,
        count in 1u64..40,
        steps in proptest::collection::vec((any::<bool>(), any::<Index>()), 0..120),
    ) {
        let log_end = Offset(start + count);
        let mut tracker = CommitTracker::new(Offset(start));
        let mut next = start;
        let mut in_flight: Vec<u64> = Vec::new();
        let mut finished = BTreeSet::new();
        let mut last_committed = start;

        // The random steps, then whatever is left: receive everything, and
        // finish what is in flight from the highest down, the hardest order.
        let mut drain: Vec<(bool, Option<Index>)> =
            steps.into_iter().map(|(receive, pick)| (receive, Some(pick))).collect();
        drain.extend((0..2 * count).map(|_| (true, None)));
        drain.extend((0..count).map(|_| (false, None)));

        for (receive, pick) in drain {
            if (receive || in_flight.is_empty()) && next < start + count {
                tracker.received(Offset(next)).expect("offsets are received in order, once");
                in_flight.push(next);
                next += 1;
                prop_assert_eq!(
                    tracker.committed(), Offset(last_committed),
                    "receiving offset {} moved the committed offset", next - 1
                );
                continue;
            }
            if in_flight.is_empty() {
                continue;
            }
            let at = match pick {
                Some(pick) => pick.index(in_flight.len()),
                None => (0..in_flight.len())
                    .max_by_key(|&i| in_flight[i])
                    .expect("in_flight is not empty here"),
            };
            let offset = in_flight.swap_remove(at);
            finished.insert(offset);
            let moved = tracker
                .finished(Offset(offset))
                .expect("an offset in flight can finish");

            let want = lowest_unfinished(next, &finished, start);
            prop_assert_eq!(
                tracker.committed(), Offset(want),
                "after finishing {} (received: {}..{}, finished: {:?}), the committed offset must \
                 be {}, the lowest offset not finished yet", offset, start, next, finished, want
            );
            prop_assert!(
                want >= last_committed,
                "the committed offset went back from {} to {}", last_committed, want
            );
            let expected_report = (want != last_committed).then_some(Offset(want));
            prop_assert_eq!(
                moved, expected_report,
                "finished({}) must return Some(new committed offset) exactly when it moved, None \
                 otherwise", offset
            );
            prop_assert_eq!(tracker.lag(log_end), log_end.0 - want);
            last_committed = want;
        }
        prop_assert_eq!(
            tracker.committed(), log_end,
            "once every record has finished, the committed offset is the log end"
        );
        prop_assert_eq!(tracker.lag(log_end), 0);
    }
}
// ANCHOR_END: property
