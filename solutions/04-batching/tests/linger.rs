//! Exercise "linger": `PartitionBuffers::take_expired` and `next_deadline` in
//! src/buffers.rs, the time limit.
//!
//! These tests pass the time to the buffers themselves, so they need no
//! runtime: `t0 + ms(5)` is "five milliseconds after t0", exactly.

mod common;

use std::time::Duration;

use common::{LINGER, batch_names, config, ms, record};
use solution04_batching::{Partition, PartitionBuffers};
use tokio::time::Instant;

const P0: Partition = Partition(0);
const P1: Partition = Partition(1);

fn batch(partition: u32, records: &[&str]) -> (u32, Vec<String>) {
    (partition, records.iter().map(|r| r.to_string()).collect())
}

#[test]
fn nothing_expires_before_the_linger_has_passed() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    buffers.push(P0, record("a1", 10), t0);
    let just_before = t0 + LINGER - Duration::from_nanos(1);
    assert_eq!(
        batch_names(&buffers.take_expired(just_before)),
        Vec::<(u32, Vec<String>)>::new(),
        "a batch opened at t0 with a linger of 5 ms must not be taken 1 ns before t0 + 5 ms"
    );
}

#[test]
fn a_batch_expires_exactly_when_its_linger_has_passed() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    buffers.push(P0, record("a1", 10), t0);
    assert_eq!(
        batch_names(&buffers.take_expired(t0 + LINGER)),
        vec![batch(0, &["a1"])],
        "at t0 + linger the batch has waited its full linger: take_expired must return it \
         (the deadline itself counts, use `<=`, as Kafka does)"
    );
    assert_eq!(
        batch_names(&buffers.take_expired(t0 + ms(6))),
        Vec::<(u32, Vec<String>)>::new(),
        "take_expired must remove the batches it returns, or the next call sends them again"
    );
    assert!(buffers.is_empty(), "no batch should be left open");
}

#[test]
fn the_linger_counts_from_the_first_record_not_the_latest() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    buffers.push(P0, record("a1", 10), t0);
    buffers.push(P0, record("a2", 10), t0 + ms(3));
    assert_eq!(
        batch_names(&buffers.take_expired(t0 + ms(5))),
        vec![batch(0, &["a1", "a2"])],
        "a1 has waited 5 ms at t0 + 5 ms: the batch must go, even though a2 arrived only 2 ms ago. \
         Otherwise a steady trickle of records would hold a batch back forever"
    );
}

#[test]
fn only_the_batches_whose_linger_has_passed_are_taken() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    buffers.push(P0, record("a1", 10), t0);
    buffers.push(P1, record("b1", 10), t0 + ms(3));
    assert_eq!(
        batch_names(&buffers.take_expired(t0 + ms(5))),
        vec![batch(0, &["a1"])],
        "at t0 + 5 ms only partition 0's batch (opened at t0) has waited 5 ms; \
         partition 1's (opened at t0 + 3 ms) must stay open"
    );
    assert_eq!(
        batch_names(&buffers.take_expired(t0 + ms(8))),
        vec![batch(1, &["b1"])],
        "partition 1's batch must be taken at t0 + 3 ms + 5 ms"
    );
}

#[test]
fn every_expired_batch_is_taken_not_only_the_first() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    buffers.push(P0, record("a1", 10), t0);
    buffers.push(P1, record("b1", 10), t0 + ms(1));
    assert_eq!(
        batch_names(&buffers.take_expired(t0 + ms(6))),
        vec![batch(0, &["a1"]), batch(1, &["b1"])],
        "at t0 + 6 ms both batches have lingered 5 ms or more: take_expired \
         must return both, not only the first one it finds"
    );
    assert!(buffers.is_empty(), "no batch should be left open");
}

#[test]
fn next_deadline_is_none_when_no_batch_is_open() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    assert_eq!(
        buffers.next_deadline(),
        None,
        "with no batch open there is nothing to wait for"
    );
    buffers.push(P0, record("a1", 10), t0);
    buffers.take_expired(t0 + LINGER);
    assert_eq!(
        buffers.next_deadline(),
        None,
        "once the only batch was taken, there is nothing to wait for again"
    );
}

#[test]
fn next_deadline_is_the_earliest_opening_plus_the_linger() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    buffers.push(P1, record("b1", 10), t0 + ms(1));
    buffers.push(P0, record("a1", 10), t0 + ms(2));
    buffers.push(P1, record("b2", 10), t0 + ms(4));
    assert_eq!(
        buffers.next_deadline(),
        Some(t0 + ms(1) + LINGER),
        "partition 1's batch opened first (t0 + 1 ms), so the next deadline is t0 + 1 ms + 5 ms: \
         the earliest opening plus the linger, whatever the partition numbers and later records"
    );
}

#[test]
fn a_record_after_an_expired_batch_opens_a_batch_with_its_own_deadline() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, LINGER));
    buffers.push(P0, record("a1", 10), t0);
    buffers.take_expired(t0 + ms(5));
    buffers.push(P0, record("a2", 10), t0 + ms(6));
    assert_eq!(
        buffers.next_deadline(),
        Some(t0 + ms(11)),
        "a2 opened a new batch at t0 + 6 ms, so its deadline is t0 + 11 ms"
    );
}

#[test]
fn a_zero_linger_makes_a_batch_due_at_once() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, Duration::ZERO));
    buffers.push(P0, record("a1", 10), t0);
    assert_eq!(
        buffers.next_deadline(),
        Some(t0),
        "with linger 0 (Kafka's default before 4.0) a batch is due the moment it opens"
    );
    assert_eq!(
        batch_names(&buffers.take_expired(t0)),
        vec![batch(0, &["a1"])],
        "with linger 0, take_expired at the very time the batch opened must return it"
    );
}

#[test]
fn a_linger_too_long_to_add_never_expires_and_does_not_panic() {
    let t0 = Instant::now();
    let mut buffers = PartitionBuffers::new(config(1000, Duration::MAX));
    buffers.push(P0, record("a1", 10), t0);
    assert_eq!(
        buffers.next_deadline(),
        None,
        "a batch opened at t0 with linger Duration::MAX has no deadline that an Instant can hold: \
         use `checked_add`, because `t0 + Duration::MAX` panics"
    );
    assert!(
        buffers.take_expired(t0 + ms(3_600_000)).is_empty(),
        "with linger Duration::MAX a batch is only ever sent when it is full"
    );
}
