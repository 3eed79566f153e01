//! Exercise "reader": one partition's reader, `PartitionReader::next_item` in
//! src/reader.rs.

mod common;

use std::error::Error;

use common::{append_events, append_garbage, chain, log, position_of, record};
use proptest::prelude::*;
use solution08_stream::{
    AssignmentError, ConsumeError, Offset, Partition, PartitionReader,
    WireError,
};

#[test]
fn hands_out_a_partitions_records_in_offset_order() {
    let log = log(1);
    let events = append_events(&log, 0, 10);
    // A batch of 4 makes the reader fetch three times for ten records.
    let mut reader = PartitionReader::new(Partition(0), Offset(0), 4);

    for (offset, event) in events.into_iter().enumerate() {
        let item = reader.next_item(&log).unwrap_or_else(|| {
            panic!("the partition holds 10 records, but next_item returned None after {offset}")
        });
        let got = record(item);
        assert_eq!(
            got.offset,
            Offset(offset as u64),
            "records must come in offset order, each once: 0, 1, 2, ..."
        );
        assert_eq!(
            got.partition,
            Partition(0),
            "a record must say which partition it is from"
        );
        assert_eq!(
            got.event, event,
            "the record at offset {offset} is not the event stored there"
        );
    }
    assert_eq!(
        reader.next_item(&log),
        None,
        "after the last record, next_item must return None: the reader is caught up"
    );
}

#[test]
fn starts_at_the_offset_it_was_given() {
    let log = log(1);
    let events = append_events(&log, 0, 10);
    let mut reader = PartitionReader::new(Partition(0), Offset(3), 4);

    let first =
        record(reader.next_item(&log).expect("7 records from offset 3 on"));
    assert_eq!(
        first.offset,
        Offset(3),
        "a reader started at offset 3 must hand out the record at offset 3 first, not the partition's first record"
    );
    assert_eq!(first.event, events[3]);
}

#[test]
fn reads_only_its_own_partition() {
    let log = log(2);
    append_events(&log, 0, 3);
    let events = append_events(&log, 1, 5);
    let mut reader = PartitionReader::new(Partition(1), Offset(0), 64);

    let mut got = Vec::new();
    while let Some(item) = reader.next_item(&log) {
        got.push(record(item));
        assert!(
            got.len() <= 5,
            "partition 1 holds 5 records, but the reader handed out more"
        );
    }
    assert!(
        got.iter().all(|record| record.partition == Partition(1)),
        "a reader of partition 1 handed out records of another partition: {got:?}"
    );
    let got_events: Vec<_> =
        got.into_iter().map(|record| record.event).collect();
    assert_eq!(
        got_events, events,
        "a reader of partition 1 must hand out partition 1's records"
    );
}

#[test]
fn is_caught_up_then_picks_up_records_appended_later() {
    let log = log(1);
    let mut reader = PartitionReader::new(Partition(0), Offset(0), 64);
    assert_eq!(
        reader.next_item(&log),
        None,
        "an empty partition has nothing to hand out"
    );

    let first = append_events(&log, 0, 1);
    let got = record(
        reader
            .next_item(&log)
            .expect("a record was appended after the reader was caught up: it must see it, so it has to fetch again"),
    );
    assert_eq!((got.offset, &got.event), (Offset(0), &first[0]));
    assert_eq!(
        reader.next_item(&log),
        None,
        "caught up again after the one new record"
    );

    append_events(&log, 0, 2);
    let offsets: Vec<_> = std::iter::from_fn(|| reader.next_item(&log))
        .take(5)
        .map(|item| record(item).offset)
        .collect();
    assert_eq!(
        offsets,
        vec![Offset(1), Offset(2)],
        "after two more appends the reader must hand out offsets 1 and 2: fetch from where it is, not from the start"
    );
}

#[test]
fn position_counts_records_handed_out_not_records_fetched() {
    let log = log(1);
    append_events(&log, 0, 10);
    let mut reader = PartitionReader::new(Partition(0), Offset(0), 64);
    assert_eq!(reader.position(), Offset(0), "nothing handed out yet");

    record(reader.next_item(&log).expect("10 records to read"));
    assert_eq!(
        reader.position(),
        Offset(1),
        "after handing out the record at offset 0 the position is 1, even though the reader fetched all 10: \
         a consumer that resumed from the end of the batch would skip 9 records"
    );
    for _ in 0..20 {
        if reader.next_item(&log).is_none() {
            break;
        }
    }
    assert_eq!(
        reader.position(),
        Offset(10),
        "after all 10 records the position is 10"
    );
}

#[test]
fn a_record_that_fails_to_decode_is_an_error_with_its_partition_and_offset() {
    let log = log(2);
    append_events(&log, 1, 2);
    let bad = append_garbage(&log, 1);
    append_events(&log, 1, 2);
    let mut reader = PartitionReader::new(Partition(1), Offset(0), 64);

    let items: Vec<_> = std::iter::from_fn(|| reader.next_item(&log))
        .take(10)
        .collect();
    let positions: Vec<_> = items.iter().map(position_of).collect();
    assert_eq!(
        positions,
        vec![(1, 0), (1, 1), (1, 2), (1, 3), (1, 4)],
        "every record must come out once, including the one that does not decode (as an error): \
         a bad record is not skipped silently"
    );
    match &items[2] {
        Err(ConsumeError::Decode {
            partition, offset, ..
        }) => assert_eq!((*partition, *offset), (Partition(1), bad)),
        other => panic!(
            "the record at offset 2 is not a booking event: expected ConsumeError::Decode, got {other:?}"
        ),
    }
}

#[test]
fn after_a_decode_error_the_reader_moves_on_to_the_next_record() {
    let log = log(1);
    append_events(&log, 0, 2);
    append_garbage(&log, 0);
    let after = append_events(&log, 0, 1);
    // A batch of 3 ends with the bad record: the next fetch starts right after
    // it.
    let mut reader = PartitionReader::new(Partition(0), Offset(0), 3);

    reader.next_item(&log);
    reader.next_item(&log);
    let error = reader
        .next_item(&log)
        .expect("the bad record must come out as an error item");
    assert!(
        error.is_err(),
        "the record at offset 2 does not decode, but got {error:?}"
    );
    assert_eq!(
        reader.position(),
        Offset(3),
        "an error item is handed out like a record: the position moves past it"
    );

    let next = reader.next_item(&log).expect(
        "after a decode error the reader must go on with the next record, not end: one bad record must not stop a partition",
    );
    match next {
        Ok(next) => {
            assert_eq!((next.offset, &next.event), (Offset(3), &after[0]));
        }
        Err(error) => panic!(
            "after the decode error at offset 2 the reader must hand out the record at offset 3, \
             but got an error again ({}): it is reading the same bad record over and over",
            chain(&error)
        ),
    }
}

#[test]
fn a_read_the_log_refuses_is_an_error_item_not_caught_up() {
    // A log with one partition, and a reader of partition 5, which it does not
    // have: every read of the log fails.
    let log = log(1);
    let mut reader = PartitionReader::new(Partition(5), Offset(0), 64);
    match reader.next_item(&log) {
        Some(Err(ConsumeError::Log { partition, .. })) => assert_eq!(
            partition,
            Partition(5),
            "the Log error must name the partition whose read failed"
        ),
        None => panic!(
            "the log refused the read, but next_item returned None, which means \"caught up, \
             nothing new\": a read error turned into caught up hides a broken partition for \
             ever. Return Some(Err(ConsumeError::Log {{ partition, source }}))"
        ),
        Some(other) => panic!(
            "the log refused the read: expected Some(Err(ConsumeError::Log {{ .. }})), got \
             Some({other:?})"
        ),
    }
    assert_eq!(
        reader.position(),
        Offset(0),
        "nothing was read, so the position must not move"
    );
}

#[test]
fn an_error_does_not_repeat_its_cause_in_its_own_message() {
    let log = log(1);
    let refused = log
        .read(Partition(5), Offset(0), 1)
        .expect_err("partition 5 does not exist in a log of one partition");
    let errors: Vec<Box<dyn Error>> = vec![
        Box::new(ConsumeError::Decode {
            partition: Partition(0),
            offset: Offset(2),
            source: WireError::MissingEvent,
        }),
        Box::new(ConsumeError::Log {
            partition: Partition(5),
            source: refused.clone(),
        }),
        Box::new(AssignmentError::UnknownPartition {
            partition: Partition(5),
            source: refused,
        }),
    ];
    for error in errors {
        // A message that also printed its cause would show it twice in a report
        // of the whole chain; the cause must be reachable through `source()`.
        workshop_testkit::errors::assert_cause_not_repeated(error.as_ref(), 2);
    }
}

// Few cases keep the check fast after every save; wrong buffering shows up in
// the first handful of interleavings.

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    /// Appends and reads in any interleaving, with any batch size: every record
    /// comes out once, in offset order, and the position follows.
    #[test]
    fn any_interleaving_of_appends_and_reads_hands_out_every_record_once_in_order(
        batch_size in 1usize..6,
        start in 0u64..3,
        steps in proptest::collection::vec((0usize..5, 0usize..8), 1..12),
    ) {
        let log = log(1);
        let mut stored = append_events(&log, 0, 3);
        let mut reader = PartitionReader::new(Partition(0), Offset(start), batch_size);
        let mut want = start;
        for (appends, reads) in steps {
            stored.extend(append_events(&log, 0, appends));
            for _ in 0..reads {
                match reader.next_item(&log) {
                    Some(item) => {
                        let got = record(item);
                        prop_assert_eq!(got.offset, Offset(want), "records must come in offset order, each once");
                        prop_assert_eq!(&got.event, &stored[want as usize]);
                        want += 1;
                    }
                    None => prop_assert_eq!(
                        want, stored.len() as u64,
                        "next_item returned None while the partition still had records from offset {} on", want
                    ),
                }
                prop_assert_eq!(reader.position(), Offset(want), "the position is one past the last record handed out");
            }
        }
    }
}
