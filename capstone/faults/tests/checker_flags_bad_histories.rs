//! The checker must not pass everything: each hand-made history below breaks
//! one invariant, and the checker must name it. The good history they all
//! start from must pass, and so must real schedules.

use capstone_faults::checker::{Rule, check};
use capstone_faults::history::{BatchSeen, Delivery, Effect, EventInfo, History, Kind, Op};
use capstone_faults::schedule;

fn event(event: u32, booking: u32, kind: Kind) -> Op {
    Op::Event(EventInfo {
        event,
        booking,
        kind,
    })
}

fn request(seat: &str) -> Kind {
    Kind::Request {
        seat: seat.to_owned(),
    }
}

fn batch(offset: u64, producer: u32, first_sequence: u64, events: &[u32]) -> BatchSeen {
    BatchSeen {
        offset,
        producer,
        first_sequence,
        events: events.to_vec(),
    }
}

fn read(batches: Vec<BatchSeen>) -> Op {
    Op::LogRead {
        partition: 0,
        batches,
    }
}

fn deliver(session: u32, offset: u64, event: u32) -> Op {
    Op::Deliver {
        partition: 0,
        session,
        offset,
        event,
        result: Delivery::Handled,
    }
}

fn resume(session: u32, offset: u64) -> Op {
    Op::Resume {
        partition: 0,
        session,
        offset,
    }
}

fn commit(session: u32, offset: u64) -> Op {
    Op::Commit {
        partition: 0,
        session,
        offset,
    }
}

fn applied(event: u32) -> Op {
    Op::Applied {
        event,
        effect: Effect::Applied,
    }
}

/// A booking requested through the outbox (e1, relay p1) and paid through
/// the gateway (e2, producer p2), both in partition 0, consumed and
/// committed by one session.
fn good() -> Vec<Op> {
    vec![
        event(1, 1, request("A1")),
        Op::RowCommitted {
            partition: 0,
            event: 1,
        },
        Op::RowMarked {
            partition: 0,
            event: 1,
        },
        event(2, 1, Kind::Payment),
        Op::GatewayAccepted {
            partition: 0,
            event: 2,
        },
        Op::Buffer {
            before: 0,
            after: 100,
            capacity: 300,
            refused: false,
        },
        Op::Send {
            producer: 2,
            partition: 0,
            first_sequence: 0,
            events: vec![2],
        },
        Op::Ack {
            producer: 2,
            partition: 0,
            first_sequence: 0,
            offset: 1,
            durable: true,
        },
        read(vec![batch(0, 1, 0, &[1]), batch(1, 2, 0, &[2])]),
        resume(1, 0),
        deliver(1, 0, 1),
        applied(1),
        deliver(1, 1, 2),
        applied(2),
        commit(1, 2),
        Op::FaultsStop,
        read(vec![batch(0, 1, 0, &[1]), batch(1, 2, 0, &[2])]),
        Op::DeadLetterTopic { entries: vec![] },
        Op::End,
    ]
}

/// The rules the checker finds broken in `ops`.
fn rules(ops: Vec<Op>) -> Vec<Rule> {
    let mut rules: Vec<Rule> = check(&History { ops })
        .into_iter()
        .map(|violation| violation.rule)
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

fn assert_flags(ops: Vec<Op>, rule: Rule, what: &str) {
    let found = rules(ops);
    assert!(
        found.contains(&rule),
        "{what}: the checker must report '{}', it reported {found:?}",
        rule.name()
    );
}

/// Like `assert_flags`, and the violation's text must contain `words`.
fn assert_says(ops: Vec<Op>, rule: Rule, words: &str) {
    let violations = check(&History { ops });
    assert!(
        violations
            .iter()
            .any(|v| v.rule == rule && v.what.contains(words)),
        "the checker must report '{}' saying '{words}', it reported {violations:?}",
        rule.name()
    );
}

/// `good()` with the op at `at` replaced by `ops`.
fn replace(at: usize, ops: Vec<Op>) -> Vec<Op> {
    let mut history = good();
    history.splice(at..=at, ops);
    history
}

const FIRST_READ: usize = 8;
const LAST_READ: usize = 16;

#[test]
fn the_good_history_passes() {
    let violations = check(&History { ops: good() });
    assert!(
        violations.is_empty(),
        "a history that keeps every invariant must pass, got {violations:?}"
    );
}

#[test]
fn real_schedules_pass() {
    for seed in 1..=5 {
        let outcome = schedule::run(seed, None);
        assert!(
            outcome.violations.is_empty(),
            "schedule {seed} of the unbroken pipeline must pass: {:?}",
            outcome.violations
        );
    }
}

#[test]
fn a_lost_acknowledged_write_is_flagged() {
    // The gateway's batch was acked durable at 0/1; the last read lacks it.
    let history = replace(LAST_READ, vec![read(vec![batch(0, 1, 0, &[1])])]);
    assert_flags(
        history,
        Rule::LostWrite,
        "an acked batch missing from a later read",
    );
}

#[test]
fn a_lost_marked_row_is_flagged() {
    let history = replace(FIRST_READ, vec![read(vec![batch(0, 2, 0, &[2])])]);
    assert_flags(
        history,
        Rule::LostWrite,
        "a row marked sent that the log does not hold",
    );
}

#[test]
fn two_records_at_one_offset_are_flagged() {
    // After a "recovery" offset 1 holds another batch than before.
    let history = replace(
        LAST_READ,
        vec![read(vec![batch(0, 1, 0, &[1]), batch(1, 3, 0, &[2])])],
    );
    assert_flags(
        history,
        Rule::InconsistentOffset,
        "offset 1 read with two different batches",
    );
}

#[test]
fn a_delivery_of_another_record_than_the_log_holds_is_flagged() {
    let history = replace(12, vec![deliver(1, 1, 1)]);
    assert_flags(
        history,
        Rule::InconsistentOffset,
        "e1 delivered at the offset of e2",
    );
}

#[test]
fn a_batch_stored_twice_is_flagged() {
    let twice = vec![
        batch(0, 1, 0, &[1]),
        batch(1, 2, 0, &[2]),
        batch(2, 2, 0, &[2]),
    ];
    let history = replace(LAST_READ, vec![read(twice)]);
    assert_flags(history, Rule::DuplicateBatch, "p2 seq 0 at two offsets");
}

#[test]
fn a_retry_acked_at_another_offset_is_flagged() {
    let mut history = good();
    history.insert(
        8,
        Op::Ack {
            producer: 2,
            partition: 0,
            first_sequence: 0,
            offset: 5,
            durable: false,
        },
    );
    assert_flags(
        history,
        Rule::DuplicateBatch,
        "one batch acked at 1 and then at 5",
    );
}

#[test]
fn a_producer_reordered_in_the_log_is_flagged() {
    // p2's batch with sequence 1 stored before its batch with sequence 0.
    let mut history = good();
    let backwards = vec![batch(0, 2, 1, &[1]), batch(1, 2, 0, &[2])];
    history.splice(LAST_READ..=LAST_READ, [read(backwards)]);
    assert_flags(history, Rule::Order, "p2's seq 0 after its seq 1");
}

#[test]
fn a_booking_whose_events_arrive_out_of_order_is_flagged() {
    // An expiry recorded after the request, published before it.
    let mut history = good();
    history.splice(
        2..2,
        [
            event(3, 1, Kind::Expiry),
            Op::RowCommitted {
                partition: 0,
                event: 3,
            },
        ],
    );
    let reordered = vec![batch(0, 1, 0, &[3, 1]), batch(1, 2, 0, &[2])];
    let at = history.len() - 4;
    history.splice(at..=at, [read(reordered)]);
    assert_flags(history, Rule::Order, "b1's expiry before its request");
}

#[test]
fn offsets_that_skip_are_flagged() {
    let history = replace(
        LAST_READ,
        vec![read(vec![batch(0, 1, 0, &[1]), batch(2, 2, 0, &[2])])],
    );
    assert_flags(history, Rule::Order, "offsets 0, 2");
}

#[test]
fn a_commit_that_goes_back_is_flagged() {
    let mut history = good();
    history.splice(15..15, [resume(2, 2), commit(2, 1)]);
    assert_flags(history, Rule::Commit, "committed 2, then 1");
}

#[test]
fn a_commit_past_the_end_is_flagged() {
    let history = replace(14, vec![commit(1, 3)]);
    assert_flags(history, Rule::Commit, "committed 3 of a 2-record partition");
}

#[test]
fn a_commit_before_the_effect_is_flagged() {
    // Commit 2 right after resuming, before any delivery.
    let mut history = good();
    history.remove(14);
    history.insert(10, commit(1, 2));
    assert_flags(
        history,
        Rule::Commit,
        "commit before the records were processed",
    );
}

#[test]
fn a_restart_that_does_not_resume_at_the_commit_is_flagged() {
    let mut history = good();
    history.splice(15..15, [resume(2, 0)]);
    assert_flags(history, Rule::Commit, "resumed at 0 after a commit at 2");
}

#[test]
fn an_effect_taken_twice_is_flagged() {
    let mut history = good();
    history.splice(15..15, [resume(2, 2), deliver(2, 0, 1), applied(1)]);
    assert_says(history, Rule::Effect, "e1 took effect 2 times");
}

#[test]
fn a_seat_sold_twice_is_flagged() {
    // b2 requests A1 (another row, another offset) and gets it too.
    let mut history = good();
    history.splice(
        2..2,
        [
            event(3, 2, request("A1")),
            Op::RowCommitted {
                partition: 0,
                event: 3,
            },
        ],
    );
    let three = vec![batch(0, 1, 0, &[1, 3]), batch(1, 2, 0, &[2])];
    let first_read = FIRST_READ + 2;
    history.splice(first_read..=first_read, [read(three.clone())]);
    history.splice(
        first_read + 6..first_read + 6,
        [deliver(1, 1, 3), applied(3)],
    );
    // Offsets moved: e2 is now at 2.
    for op in &mut history {
        if let Op::Deliver {
            offset, event: 2, ..
        } = op
        {
            *offset = 2;
        }
        if let Op::Commit { offset, .. } = op {
            *offset = 3;
        }
        if let Op::Ack { offset, .. } = op {
            *offset = 1;
        }
    }
    let last = history.len() - 3;
    history.splice(last..=last, [read(three)]);
    assert_says(
        history,
        Rule::Effect,
        "seat A1 was sold to b2 while b1 still held it",
    );
}

#[test]
fn an_event_processed_and_dead_lettered_is_flagged() {
    let history = replace(
        17,
        vec![Op::DeadLetterTopic {
            entries: vec![(0, 0)],
        }],
    );
    assert_flags(history, Rule::Outcome, "e1 applied and dead-lettered");
}

#[test]
fn an_event_never_processed_is_flagged() {
    let mut history = good();
    history.remove(13);
    assert_flags(
        history,
        Rule::Outcome,
        "e2 delivered but its effect never recorded",
    );
}

#[test]
fn unbounded_retries_are_flagged() {
    let mut history = good();
    let retries = (0..9).map(|_| Op::Deliver {
        partition: 0,
        session: 1,
        offset: 0,
        event: 1,
        result: Delivery::Transient,
    });
    history.splice(10..10, retries);
    assert_flags(
        history,
        Rule::Outcome,
        "nine tries of one record in one session",
    );
}

#[test]
fn a_buffer_over_its_bound_is_flagged() {
    let history = replace(
        5,
        vec![Op::Buffer {
            before: 250,
            after: 350,
            capacity: 300,
            refused: false,
        }],
    );
    assert_flags(
        history,
        Rule::Backpressure,
        "350 bytes in a 300-byte buffer",
    );
}

#[test]
fn a_refused_send_that_enqueued_is_flagged() {
    let history = replace(
        5,
        vec![Op::Buffer {
            before: 100,
            after: 200,
            capacity: 300,
            refused: true,
        }],
    );
    assert_flags(history, Rule::Backpressure, "a refusal that took bytes");
}

#[test]
fn a_committed_row_never_published_is_flagged() {
    let mut history = good();
    history.splice(
        2..2,
        [
            event(3, 2, request("B1")),
            Op::RowCommitted {
                partition: 0,
                event: 3,
            },
        ],
    );
    assert_flags(history, Rule::Outbox, "e3's row never reaches the log");
}

#[test]
fn an_event_published_without_a_row_is_flagged() {
    let mut history = good();
    // e1 is in the log, but its row was never committed.
    history.remove(1);
    history.remove(1);
    assert_flags(history, Rule::Outbox, "e1 in the log without a row");
}

#[test]
fn a_consumer_that_never_catches_up_is_flagged() {
    let history = replace(14, vec![commit(1, 1)]);
    assert_flags(
        history,
        Rule::Liveness,
        "committed 1 of 2 after the faults stopped",
    );
}

#[test]
fn a_history_that_stops_early_is_flagged() {
    let mut history = good();
    history.pop();
    assert_flags(
        history,
        Rule::Liveness,
        "no End: the schedule did not finish",
    );
}

#[test]
fn an_unrecoverable_log_is_flagged() {
    let mut history = good();
    history.insert(
        16,
        Op::LogUnrecoverable {
            reason: "damaged in the middle".to_owned(),
        },
    );
    assert_flags(history, Rule::Unrecoverable, "the log refused to open");
}

#[test]
fn a_real_history_with_an_effect_removed_or_doubled_is_flagged() {
    let outcome = schedule::run(3, None);
    let ops = outcome.history.ops;
    let first_effect = ops
        .iter()
        .position(|op| matches!(op, Op::Applied { .. }))
        .expect("schedule 3 takes effects");
    let mut removed = ops.clone();
    removed.remove(first_effect);
    assert_flags(removed, Rule::Outcome, "a real schedule missing one effect");
    let mut doubled = ops.clone();
    doubled.insert(first_effect, ops[first_effect].clone());
    assert_flags(
        doubled,
        Rule::Effect,
        "a real schedule with one effect twice",
    );
}
