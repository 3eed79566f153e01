//! Exercise "sequence": `ProducerTable::check` and `ProducerTable::record` in
//! src/sequence.rs.

mod common;

use common::requested;
use step11_idempotency::{
    Admission, BatchInLog, Offset, Partition, ProducerBatch, ProducerId,
    ProducerTable, REMEMBERED_BATCHES, Sequence, SequenceError,
};

const P: Partition = Partition(0);
const PRODUCER: ProducerId = ProducerId(7);

/// A batch of `events` events from `producer`, starting at `first`.
fn batch(producer: ProducerId, first: u64, events: usize) -> ProducerBatch {
    ProducerBatch {
        producer_id: producer,
        first_sequence: Sequence(first),
        events: (0..events).map(|_| requested("A1").1).collect(),
    }
}

/// What the log remembers after writing `batch` at `offset`.
fn written(batch: &ProducerBatch, offset: u64) -> BatchInLog {
    BatchInLog {
        first_sequence: batch.first_sequence,
        last_sequence: batch
            .last_sequence()
            .expect("the tests' batches are not empty"),
        offset: Offset(offset),
    }
}

/// Checks `batch` and, if it is to be appended, records it at `offset`, as the
/// log does.
fn append(table: &mut ProducerTable, batch: &ProducerBatch, offset: u64) {
    assert_eq!(
        table.check(P, batch),
        Ok(Admission::Append),
        "sequences {}.. must be accepted here",
        batch.first_sequence
    );
    table.record(batch.producer_id, P, written(batch, offset));
}

#[test]
fn a_new_producer_starts_at_sequence_0() {
    let table = ProducerTable::new();
    assert_eq!(
        table.check(P, &batch(PRODUCER, 0, 2)),
        Ok(Admission::Append),
        "the first batch of a producer the log does not know starts at sequence 0"
    );
    assert_eq!(
        table.check(P, &batch(PRODUCER, 3, 1)),
        Err(SequenceError::Gap {
            producer_id: PRODUCER,
            partition: P,
            expected: Sequence(0),
            got: Sequence(3),
        }),
        "a first batch that starts at 3 means sequences 0 to 2 never arrived: a Gap"
    );
}

#[test]
fn the_next_batch_starts_right_after_the_last_sequence() {
    let mut table = ProducerTable::new();
    append(&mut table, &batch(PRODUCER, 0, 3), 0);
    assert_eq!(table.last_sequence(PRODUCER, P), Some(Sequence(2)));
    assert_eq!(
        table.check(P, &batch(PRODUCER, 3, 1)),
        Ok(Admission::Append),
        "after sequences 0 to 2 the next batch starts at 3 (last + 1)"
    );
    assert_eq!(
        table.check(P, &batch(PRODUCER, 4, 1)),
        Err(SequenceError::Gap {
            producer_id: PRODUCER,
            partition: P,
            expected: Sequence(3),
            got: Sequence(4),
        }),
        "a batch that starts at 4 skips sequence 3: only last + 1 is accepted, not anything \
         larger"
    );
}

#[test]
fn check_changes_nothing() {
    let table = ProducerTable::new();
    let first = batch(PRODUCER, 0, 1);
    assert_eq!(table.check(P, &first), Ok(Admission::Append));
    assert_eq!(
        table.check(P, &first),
        Ok(Admission::Append),
        "check only decides; the log calls record after the append succeeded, so a failed \
         append is not remembered"
    );
    assert_eq!(table.last_sequence(PRODUCER, P), None);
}

#[test]
fn a_retried_batch_gets_its_original_offset_and_is_not_appended() {
    let mut table = ProducerTable::new();
    let first = batch(PRODUCER, 0, 2);
    let second = batch(PRODUCER, 2, 2);
    append(&mut table, &first, 10);
    append(&mut table, &second, 11);
    assert_eq!(
        table.check(P, &first),
        Ok(Admission::Duplicate(written(&first, 10))),
        "the producer did not get the answer for sequences 0-1 and sent them again: the log \
         must answer with where they went (offset 10) and append nothing"
    );
    assert_eq!(
        table.check(P, &second),
        Ok(Admission::Duplicate(written(&second, 11))),
        "a retry of the latest batch is a duplicate too, at its own offset (11)"
    );
}

#[test]
fn a_retry_that_matches_no_remembered_batch_is_refused() {
    let mut table = ProducerTable::new();
    append(&mut table, &batch(PRODUCER, 0, 3), 0);
    assert_eq!(
        table.check(P, &batch(PRODUCER, 0, 2)),
        Err(SequenceError::Stale {
            producer_id: PRODUCER,
            partition: P,
            first: Sequence(0),
            last: Sequence(1),
            expected: Sequence(3),
        }),
        "sequences 0-1 were written, but as part of the batch 0-2: this is not a retry of a \
         batch the log knows, so it is refused, neither appended nor answered"
    );
}

#[test]
fn the_log_remembers_the_last_five_batches() {
    assert_eq!(REMEMBERED_BATCHES, 5, "Kafka keeps 5 batches per producer");
    let mut table = ProducerTable::new();
    let batches: Vec<_> = (0..6).map(|n| batch(PRODUCER, n, 1)).collect();
    for (offset, each) in (0..).zip(&batches) {
        append(&mut table, each, offset);
    }
    assert_eq!(
        table.remembered(PRODUCER, P).len(),
        REMEMBERED_BATCHES,
        "after six batches only the last five are remembered"
    );
    assert!(
        matches!(
            table.check(P, &batches[0]),
            Err(SequenceError::Stale { .. })
        ),
        "the oldest batch was forgotten: a retry of it is Stale"
    );
    assert_eq!(
        table.check(P, &batches[1]),
        Ok(Admission::Duplicate(written(&batches[1], 1))),
        "the second batch is still remembered"
    );
    assert_eq!(
        table.remembered(PRODUCER, P).first().map(|b| b.offset),
        Some(Offset(1)),
        "the oldest remembered batch is the one written second: forget the oldest, keep the \
         newest"
    );
}

#[test]
fn sequences_count_per_producer_and_per_partition() {
    let mut table = ProducerTable::new();
    append(&mut table, &batch(PRODUCER, 0, 4), 0);
    let other = ProducerId(8);
    assert_eq!(
        table.check(P, &batch(other, 0, 1)),
        Ok(Admission::Append),
        "another producer has its own sequence, starting at 0"
    );
    assert_eq!(
        table.check(Partition(1), &batch(PRODUCER, 0, 1)),
        Ok(Admission::Append),
        "in another partition the same producer starts at 0 again"
    );
}

#[test]
fn an_empty_batch_is_refused() {
    let table = ProducerTable::new();
    assert_eq!(
        table.check(P, &batch(PRODUCER, 0, 0)),
        Err(SequenceError::Empty {
            producer_id: PRODUCER,
            partition: P,
        })
    );
}

#[test]
fn the_gap_error_says_what_the_producer_must_do() {
    let error = SequenceError::Gap {
        producer_id: PRODUCER,
        partition: P,
        expected: Sequence(3),
        got: Sequence(5),
    };
    let message = error.to_string();
    assert!(
        message.contains("expects 3") && message.contains("resending from 3"),
        "{message}"
    );
}
