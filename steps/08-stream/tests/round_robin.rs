//! Exercise "round_robin": partitions taking turns, `Consumer::next_ready` in
//! src/consumer.rs.

mod common;

use std::collections::BTreeMap;

use common::{
    append_events, append_garbage, log, position_of, record, unless_unwritten,
};
use step08_stream::{AssignmentError, Consumer, Offset, Partition};

/// Everything `next_ready` hands out until it returns `None` (at most `limit`
/// items, so that a consumer that hands out records forever fails instead of
/// hanging).
fn drain(consumer: &mut Consumer, limit: usize) -> Vec<(u32, u64)> {
    let mut got = Vec::new();
    while let Some(item) = consumer.next_ready() {
        got.push(position_of(&item));
        assert!(
            got.len() <= limit,
            "the log holds {limit} records, but the consumer handed out more: {got:?}"
        );
    }
    got
}

/// The partitions of `items` as one digit each, such as "0101", for messages.
fn partitions(items: &[(u32, u64)]) -> String {
    items
        .iter()
        .map(|(partition, _)| partition.to_string())
        .collect()
}

#[test]
fn each_partitions_records_arrive_in_offset_order() {
    let log = log(3);
    let counts = [7, 20, 3];
    let events: Vec<_> = counts
        .iter()
        .enumerate()
        .map(|(partition, count)| append_events(&log, partition as u32, *count))
        .collect();
    let assignments = (0..3).map(|p| (Partition(p), Offset(0))).collect();
    let mut consumer = Consumer::with_batch_size(log, assignments, 4)
        .expect("a valid assignment");

    let mut by_partition: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    let mut got_events = vec![Vec::new(); 3];
    while let Some(item) = consumer.next_ready() {
        let got = record(item);
        by_partition
            .entry(got.partition.0)
            .or_default()
            .push(got.offset.0);
        got_events[got.partition.0 as usize].push(got.event);
        assert!(
            by_partition.values().map(Vec::len).sum::<usize>() <= 30,
            "the log holds 30 records, but the consumer handed out more: {by_partition:?}"
        );
    }
    for (partition, count) in counts.iter().enumerate() {
        let want: Vec<u64> = (0..*count as u64).collect();
        assert_eq!(
            by_partition
                .get(&(partition as u32))
                .cloned()
                .unwrap_or_default(),
            want,
            "partition {partition}'s records must each come once, in offset order"
        );
        assert_eq!(
            got_events[partition], events[partition],
            "partition {partition}'s records must carry the events stored there"
        );
    }
}

#[test]
fn partitions_take_turns_when_both_have_data() {
    let log = log(2);
    append_events(&log, 0, 100);
    append_events(&log, 1, 100);
    let assignments =
        vec![(Partition(0), Offset(0)), (Partition(1), Offset(0))];
    let mut consumer =
        Consumer::new(log, assignments).expect("a valid assignment");

    let first: Vec<_> = std::iter::from_fn(|| consumer.next_ready())
        .take(40)
        .map(|item| position_of(&item))
        .collect();
    let mut ahead = 0i64;
    for (partition, _) in &first {
        ahead += if *partition == 0 { 1 } else { -1 };
        assert!(
            ahead.abs() <= 1,
            "with records in both partitions, each must get a turn in every two records: among the first 20, \
             each partition must have 10. The consumer handed out partitions {}: one partition is starving the other",
            partitions(&first)
        );
    }
}

#[test]
fn an_empty_partition_does_not_give_its_turn_to_the_next_one_twice() {
    let log = log(3);
    append_events(&log, 0, 20);
    append_events(&log, 2, 20);
    let assignments = (0..3).map(|p| (Partition(p), Offset(0))).collect();
    let mut consumer =
        Consumer::new(log, assignments).expect("a valid assignment");

    let first: Vec<_> = std::iter::from_fn(|| consumer.next_ready())
        .take(12)
        .map(|item| position_of(&item))
        .collect();
    assert_eq!(
        partitions(&first),
        "020202020202",
        "partition 1 is empty, so partitions 0 and 2 must alternate: after partition 2 gives a record, \
         the turn goes to the partition after 2 (that is 0), not to the one after the partition whose turn it was"
    );
}

#[test]
fn a_partition_that_runs_dry_does_not_stop_the_others() {
    let log = log(2);
    append_events(&log, 0, 2);
    append_events(&log, 1, 10);
    let assignments =
        vec![(Partition(0), Offset(0)), (Partition(1), Offset(0))];
    let mut consumer =
        Consumer::new(log, assignments).expect("a valid assignment");

    let got = drain(&mut consumer, 12);
    assert_eq!(
        got.len(),
        12,
        "partition 0 holds 2 records and partition 1 holds 10: all 12 must come out before next_ready \
         returns None, but got {}",
        partitions(&got)
    );
}

#[test]
fn a_decode_error_in_one_partition_does_not_hold_up_the_others() {
    let log = log(2);
    append_garbage(&log, 0);
    append_events(&log, 0, 1);
    append_events(&log, 1, 2);
    let assignments =
        vec![(Partition(0), Offset(0)), (Partition(1), Offset(0))];
    let mut consumer =
        Consumer::new(log, assignments).expect("a valid assignment");

    let got = drain(&mut consumer, 4);
    assert_eq!(
        got,
        vec![(0, 0), (1, 0), (0, 1), (1, 1)],
        "the bad record at partition 0, offset 0 comes out as an error item in its turn, and everything goes on"
    );
}

#[test]
fn each_partition_starts_at_its_assigned_offset() {
    let log = log(2);
    append_events(&log, 0, 10);
    append_events(&log, 1, 3);
    let assignments =
        vec![(Partition(0), Offset(8)), (Partition(1), Offset(1))];
    let mut consumer =
        Consumer::new(log, assignments).expect("a valid assignment");

    let got = drain(&mut consumer, 4);
    assert_eq!(
        got,
        vec![(0, 8), (1, 1), (0, 9), (1, 2)],
        "partition 0 was assigned from offset 8 and partition 1 from offset 1"
    );
}

#[test]
fn records_appended_after_catching_up_are_picked_up() {
    let log = log(2);
    let assignments =
        vec![(Partition(0), Offset(0)), (Partition(1), Offset(0))];
    let mut consumer =
        Consumer::new(log.clone(), assignments).expect("a valid assignment");
    assert_eq!(
        consumer.next_ready(),
        None,
        "an empty log has nothing to hand out"
    );

    append_events(&log, 1, 1);
    let got = consumer.next_ready().map(|item| position_of(&item));
    assert_eq!(
        got,
        Some((1, 0)),
        "a record appended to partition 1 after the consumer was caught up must come out next"
    );
    assert_eq!(consumer.next_ready(), None);
}

#[test]
fn positions_say_where_each_partition_continues() {
    let log = log(2);
    append_events(&log, 0, 5);
    append_events(&log, 1, 5);
    let assignments =
        vec![(Partition(0), Offset(2)), (Partition(1), Offset(0))];
    let mut consumer =
        Consumer::new(log, assignments).expect("a valid assignment");
    assert_eq!(
        consumer.positions(),
        vec![(Partition(0), Offset(2)), (Partition(1), Offset(0))],
        "before reading, each partition's position is its start offset"
    );

    for _ in 0..3 {
        record(consumer.next_ready().expect("7 records to read"));
    }
    assert_eq!(
        consumer.positions(),
        vec![(Partition(0), Offset(4)), (Partition(1), Offset(1))],
        "after three records (partition 0 offsets 2 and 3, partition 1 offset 0), each position is one past \
         the last record handed out from that partition"
    );
}

#[test]
fn a_consumer_without_partitions_has_nothing_ready() {
    let log = log(2);
    append_events(&log, 0, 3);
    let mut consumer = Consumer::new(log, Vec::new()).expect(
        "an empty assignment is valid: the consumer simply has nothing to read",
    );
    let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        consumer.next_ready()
    }));
    match next {
        Ok(None) => {}
        Ok(Some(item)) => panic!(
            "a consumer with no partitions handed out {item:?}, but no partition is assigned to it"
        ),
        Err(panic) => unless_unwritten(
            panic,
            "next_ready panicked on a consumer with no partitions (see the panic above): a turn \
             computed with `% count` divides by zero when count is 0. With no reader, nothing \
             is ready: return None",
        ),
    }
}

#[test]
fn a_consumer_refuses_an_assignment_it_cannot_serve() {
    let log = log(2);
    append_events(&log, 0, 3);

    let unknown = Consumer::new(log.clone(), vec![(Partition(2), Offset(0))]);
    assert!(
        matches!(
            unknown,
            Err(AssignmentError::UnknownPartition {
                partition: Partition(2),
                ..
            })
        ),
        "partition 2 does not exist in a log of 2 partitions, got {unknown:?}"
    );

    let twice = Consumer::new(
        log.clone(),
        vec![(Partition(0), Offset(0)), (Partition(0), Offset(1))],
    );
    assert!(
        matches!(
            twice,
            Err(AssignmentError::DuplicatePartition {
                partition: Partition(0)
            })
        ),
        "a partition assigned twice would hand out its records twice, got {twice:?}"
    );

    let past_end = Consumer::new(log.clone(), vec![(Partition(0), Offset(4))]);
    assert!(
        matches!(
            past_end,
            Err(AssignmentError::StartPastEnd {
                start: Offset(4),
                high_watermark: Offset(3),
                ..
            })
        ),
        "partition 0 holds offsets 0 to 2, and offset 3 is the next append: starting at 4 would skip offset 3, got {past_end:?}"
    );

    let at_end = Consumer::new(
        log,
        vec![(Partition(0), Offset(3)), (Partition(1), Offset(0))],
    );
    assert!(
        at_end.is_ok(),
        "starting at the high watermark means \"only new records\", which is fine, got {at_end:?}"
    );
}
