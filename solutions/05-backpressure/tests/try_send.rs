//! Exercise `try_send`: `try_send` and `take` in src/buffer.rs.

mod common;

use common::{full_buffer, name, names, outcome, record};
use solution05_backpressure::{BufferError, ProducerBuffer};

#[test]
fn records_fit_while_there_is_room_and_their_bytes_are_counted() {
    let buffer = ProducerBuffer::new(100);
    assert_eq!(buffer.buffered_bytes(), 0, "a new buffer holds no bytes");

    let first = buffer.try_send(record("A", 30));
    assert_eq!(
        outcome(&first),
        "Ok",
        "an empty buffer of 100 bytes must accept 30 bytes"
    );
    assert_eq!(
        buffer.buffered_bytes(),
        30,
        "buffered_bytes() after one record of 30 bytes"
    );

    let second = buffer.try_send(record("B", 70));
    assert_eq!(
        outcome(&second),
        "Ok",
        "30 + 70 bytes is exactly the capacity of 100 and must fit"
    );
    assert_eq!(
        buffer.buffered_bytes(),
        100,
        "buffered_bytes() after 30 + 70 bytes"
    );
    assert_eq!(
        buffer.buffered_records(),
        2,
        "two records are in the buffer"
    );
}

#[test]
fn a_full_buffer_hands_the_record_back_and_enqueues_nothing() {
    let buffer = full_buffer(100);

    let result = buffer.try_send(record("late", 4));
    let Err(BufferError::Full(returned)) = result else {
        panic!(
            "a buffer with no free byte must refuse even a 4-byte record with \
             Err(BufferError::Full(record)), got {}",
            outcome(&result)
        );
    };
    assert_eq!(
        returned,
        record("late", 4),
        "a full buffer must hand the record back unchanged, not drop it"
    );
    assert_eq!(
        buffer.buffered_bytes(),
        100,
        "a refused record must not count in buffered_bytes()"
    );
    let mut left = Vec::new();
    while let Some(record) = buffer.take() {
        left.push(record);
    }
    assert_eq!(
        names(&left),
        ["old-1", "old-2"],
        "a refused record must not be in the buffer: only the two earlier records should come out"
    );
}

#[test]
fn the_bytes_stay_reserved_while_the_record_is_in_the_buffer() {
    // If `try_send` lets go of the bytes it reserved as soon as it returns, the
    // buffer never fills up and has no bound at all.
    let buffer = ProducerBuffer::new(100);
    for i in 0..10 {
        let result = buffer.try_send(record(&format!("r{i}"), 10));
        assert_eq!(
            outcome(&result),
            "Ok",
            "record {i} of 10 bytes must fit in 100 bytes"
        );
    }
    let result = buffer.try_send(record("r10", 10));
    assert_eq!(
        outcome(&result),
        "Err(Full)",
        "ten records of 10 bytes fill a buffer of 100 bytes: the eleventh must be refused. \
         Were the reserved bytes given back when `try_send` returned?"
    );
}

#[test]
fn take_returns_the_oldest_record_first() {
    let buffer = ProducerBuffer::new(100);
    for name in ["A", "B", "C"] {
        buffer
            .try_send(record(name, 10))
            .expect("30 bytes fit in 100");
    }
    let taken: Vec<_> = std::iter::from_fn(|| buffer.take()).collect();
    assert_eq!(
        names(&taken),
        ["A", "B", "C"],
        "the sender must get records in the order they were sent (first in, first out)"
    );
}

#[test]
fn take_on_an_empty_buffer_returns_none() {
    let buffer = ProducerBuffer::new(100);
    assert_eq!(buffer.take(), None, "an empty buffer has nothing to take");
}

#[test]
fn take_gives_the_records_bytes_back() {
    let buffer = full_buffer(100);
    let taken = buffer.take().expect("a full buffer has a record to take");
    assert_eq!(name(&taken), "old-1", "take() returns the oldest record");
    assert_eq!(
        buffer.buffered_bytes(),
        50,
        "after taking a 50-byte record from 100 buffered bytes, 50 are left"
    );

    let result = buffer.try_send(record("new", 50));
    assert_eq!(
        outcome(&result),
        "Ok",
        "take() freed 50 bytes, so a 50-byte record must fit again. \
         Did take() give the record's bytes back to the budget?"
    );
    assert_eq!(buffer.buffered_bytes(), 100, "50 old bytes and 50 new ones");
    assert_eq!(
        outcome(&buffer.try_send(record("x", 1))),
        "Err(Full)",
        "the buffer holds 100 bytes again, so even 1 more byte must be refused: taking a \
         50-byte record must give back exactly 50 bytes. Were they given back twice?"
    );
}

#[test]
fn a_record_exactly_as_large_as_the_buffer_fits_when_it_is_empty() {
    let buffer = ProducerBuffer::new(100);
    let result = buffer.try_send(record("whole", 100));
    assert_eq!(
        outcome(&result),
        "Ok",
        "a record of exactly the capacity is not too large: it fits in an empty buffer (did you refuse it before trying to reserve its bytes?)"
    );
}

#[test]
fn a_record_larger_than_the_whole_buffer_is_refused_as_too_large() {
    let buffer = ProducerBuffer::new(100);
    let result = buffer.try_send(record("huge", 101));
    let Err(BufferError::TooLarge {
        record: returned,
        capacity,
    }) = result
    else {
        panic!(
            "a 101-byte record can never fit in 100 bytes, even in an empty buffer: \
             want Err(BufferError::TooLarge {{ .. }}), got {}",
            outcome(&result)
        );
    };
    assert_eq!(
        returned,
        record("huge", 101),
        "TooLarge must hand the record back unchanged"
    );
    assert_eq!(capacity, 100, "TooLarge must name the buffer's capacity");
    assert_eq!(
        buffer.buffered_bytes(),
        0,
        "a refused record must not count"
    );
}

#[test]
fn a_closed_buffer_hands_records_back_and_keeps_what_it_holds() {
    let buffer = ProducerBuffer::new(100);
    buffer
        .try_send(record("before", 10))
        .expect("10 bytes fit in 100");
    buffer.close();

    let result = buffer.try_send(record("after", 10));
    let Err(BufferError::Closed(returned)) = result else {
        panic!(
            "after close(), try_send must refuse with Err(BufferError::Closed(record)), even \
             with room to spare; got {}",
            outcome(&result)
        );
    };
    assert_eq!(
        returned,
        record("after", 10),
        "Closed must hand the record back unchanged"
    );
    assert_eq!(
        buffer.take().as_ref().map(name).as_deref(),
        Some("before"),
        "records buffered before close() must still reach the sender"
    );
}
