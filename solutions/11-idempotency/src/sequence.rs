//! The log's memory of each producer: the sequence number it expects next, and
//! where the last few batches went, so that a retry is answered instead of
//! written twice.

use std::collections::{HashMap, VecDeque};

use solution06_log::{Offset, Partition};

use crate::batch::{ProducerBatch, ProducerId, Sequence};

// ANCHOR: remembered
/// How many batches per producer and partition the log remembers, as Kafka
/// does: a producer has at most 5 requests in flight, so a retry is always of
/// one of its last 5 batches.
pub const REMEMBERED_BATCHES: usize = 5;
// ANCHOR_END: remembered

// ANCHOR: batch_in_log
/// A batch the log has written: its sequence numbers and the offset of its
/// record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchInLog {
    pub first_sequence: Sequence,
    pub last_sequence: Sequence,
    pub offset: Offset,
}

/// What the log does with a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The batch is the next one: write it.
    Append,
    /// The batch was written before: write nothing, answer with where it went.
    Duplicate(BatchInLog),
}
// ANCHOR_END: batch_in_log

// ANCHOR: sequence_error
/// Why the log refuses a batch. It writes nothing of a refused batch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    #[error(
        "producer {producer_id} sent a batch with no events to partition \
         {partition}: send a batch only when it holds an event"
    )]
    Empty {
        producer_id: ProducerId,
        partition: Partition,
    },
    #[error(
        "producer {producer_id} sent sequence {got} to partition {partition}, \
         but the log expects {expected}: the events in between never arrived. \
         Nothing was written; the producer must send its batches in order, \
         resending from {expected}"
    )]
    Gap {
        producer_id: ProducerId,
        partition: Partition,
        expected: Sequence,
        got: Sequence,
    },
    #[error(
        "producer {producer_id} sent sequences {first} to {last} to partition \
         {partition} again, but they are not one of the last batches the log \
         remembers (it expects {expected} next), so their offsets are no longer \
         known. Nothing was written; the producer must not retry that far back"
    )]
    Stale {
        producer_id: ProducerId,
        partition: Partition,
        first: Sequence,
        last: Sequence,
        expected: Sequence,
    },
}
// ANCHOR_END: sequence_error

// ANCHOR: producer_table
/// For each producer and partition, the last [`REMEMBERED_BATCHES`] batches
/// written, oldest first. The newest one's last sequence is the last sequence
/// written; a producer with no entry has written nothing yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerTable {
    batches: HashMap<(ProducerId, Partition), VecDeque<BatchInLog>>,
}
// ANCHOR_END: producer_table

impl ProducerTable {
    /// A table that knows no producer.
    pub fn new() -> ProducerTable {
        ProducerTable::default()
    }

    /// The last sequence number `producer_id` wrote to `partition`, if any.
    pub fn last_sequence(
        &self,
        producer_id: ProducerId,
        partition: Partition,
    ) -> Option<Sequence> {
        self.batches
            .get(&(producer_id, partition))
            .and_then(|batches| batches.back())
            .map(|batch| batch.last_sequence)
    }

    /// The batches of `producer_id` in `partition` that the table remembers,
    /// oldest first.
    pub fn remembered(
        &self,
        producer_id: ProducerId,
        partition: Partition,
    ) -> Vec<BatchInLog> {
        self.batches
            .get(&(producer_id, partition))
            .map(|batches| batches.iter().copied().collect())
            .unwrap_or_default()
    }

    // ANCHOR: check
    /// Decides what to do with `batch`, sent to `partition`: append it if its
    /// first sequence is the one after the last written (0 for a producer
    /// that wrote nothing), answer a retry of a remembered batch with that
    /// batch, and refuse everything else. Changes nothing: the caller appends
    /// and then calls [`ProducerTable::record`].
    pub fn check(
        &self,
        partition: Partition,
        batch: &ProducerBatch,
    ) -> Result<Admission, SequenceError> {
        // exercise: solution
        let producer_id = batch.producer_id;
        let first = batch.first_sequence;
        let Some(last) = batch.last_sequence() else {
            return Err(SequenceError::Empty {
                producer_id,
                partition,
            });
        };
        let expected = self
            .last_sequence(producer_id, partition)
            .map_or(Sequence(0), Sequence::next);
        if first == expected {
            return Ok(Admission::Append);
        }
        if first > expected {
            return Err(SequenceError::Gap {
                producer_id,
                partition,
                expected,
                got: first,
            });
        }
        // Below `expected`: a retry. Only a batch with exactly the sequences
        // of a remembered one is the same batch.
        let remembered = self.batches.get(&(producer_id, partition));
        let original = remembered.and_then(|batches| {
            batches.iter().find(|written| {
                written.first_sequence == first && written.last_sequence == last
            })
        });
        match original {
            Some(written) => Ok(Admission::Duplicate(*written)),
            None => Err(SequenceError::Stale {
                producer_id,
                partition,
                first,
                last,
                expected,
            }),
        }
        // exercise: stub
        // todo!(
        //     "accept only last + 1; a remembered batch is a Duplicate (chapter 11)"
        // )
        // exercise: end
    }
    // ANCHOR_END: check

    // ANCHOR: record
    /// Remembers that a batch of `producer_id` was written to `partition`,
    /// forgetting the oldest one when more than [`REMEMBERED_BATCHES`] are
    /// remembered.
    pub fn record(
        &mut self,
        producer_id: ProducerId,
        partition: Partition,
        batch: BatchInLog,
    ) {
        // exercise: solution
        let batches = self.batches.entry((producer_id, partition)).or_default();
        batches.push_back(batch);
        while batches.len() > REMEMBERED_BATCHES {
            batches.pop_front();
        }
        // exercise: stub
        // todo!(
        //     "remember this batch; keep only the last REMEMBERED_BATCHES (chapter 11)"
        // )
        // exercise: end
    }
    // ANCHOR_END: record
}
