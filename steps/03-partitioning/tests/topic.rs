//! Exercise "topic": `Topic::new`, `Topic::partition_for` and
//! `Topic::partitions` in src/topic.rs.

use step03_partitioning::{Partition, Topic, TopicError, partition_for};

fn topic(name: &str, partition_count: u32) -> Topic {
    match Topic::new(name, partition_count) {
        Ok(topic) => topic,
        Err(error) => panic!(
            "Topic::new({name:?}, {partition_count}) must succeed: a name and at least one partition is all a topic needs, got Err({error:?})"
        ),
    }
}

#[test]
fn a_topic_keeps_its_name_and_partition_count() {
    let bookings = topic("bookings", 12);
    assert_eq!(
        bookings.name(),
        "bookings",
        "the topic must keep the name it was created with"
    );
    assert_eq!(
        bookings.partition_count(),
        12,
        "the topic must keep the partition count it was created with"
    );
}

#[test]
fn a_topic_with_zero_partitions_is_refused() {
    assert_eq!(
        Topic::new("bookings", 0),
        Err(TopicError::NoPartitions {
            name: "bookings".to_owned()
        }),
        "a topic with zero partitions could hold no record: Topic::new must refuse it with TopicError::NoPartitions"
    );
}

#[test]
fn a_topic_without_a_name_is_refused() {
    assert_eq!(
        Topic::new("", 3),
        Err(TopicError::EmptyName),
        "Topic::new(\"\", 3) must return Err(TopicError::EmptyName): nobody can ask for a topic without a name"
    );
}

#[test]
fn partitions_lists_every_partition_once_in_order() {
    let got: Vec<Partition> = topic("bookings", 4).partitions().collect();
    assert_eq!(
        got,
        vec![Partition(0), Partition(1), Partition(2), Partition(3)],
        "a topic with 4 partitions has partitions 0, 1, 2 and 3: numbered from 0, the last is partition_count - 1"
    );
    let single: Vec<Partition> = topic("audit", 1).partitions().collect();
    assert_eq!(
        single,
        vec![Partition(0)],
        "a topic with 1 partition has exactly partition 0"
    );
}

#[test]
fn a_topic_sends_each_key_where_partition_for_does() {
    let bookings = topic("bookings", 12);
    // The same keys and answers as Kafka's Java producer gives for 12
    // partitions.
    for (key, want) in [("foobar", 6), ("kafka", 4), ("1", 3), ("", 9)] {
        assert_eq!(
            bookings.partition_for(key.as_bytes()),
            Partition(want),
            "a 12-partition topic must send key {key:?} to partition {want}, as partition_for(key, 12) and Kafka do"
        );
    }
}

#[test]
fn the_topic_name_does_not_change_where_a_key_goes() {
    // Kafka hashes the key only. Two topics with the same partition count send
    // a key to the same partition number, which is what lets a consumer join
    // two topics partition by partition ("co-partitioning").
    let bookings = topic("bookings", 8);
    let payments = topic("payments", 8);
    for key in ["21", "abc", "booking-42"] {
        assert_eq!(
            bookings.partition_for(key.as_bytes()),
            payments.partition_for(key.as_bytes()),
            "key {key:?} must go to the same partition number in two topics with 8 partitions: hash the key, not the topic name"
        );
    }
}

#[test]
fn a_one_partition_topic_puts_every_key_in_partition_zero() {
    let audit = topic("audit", 1);
    for i in 0..100 {
        let key = format!("booking-{i}");
        assert_eq!(
            audit.partition_for(key.as_bytes()),
            Partition(0),
            "a topic with one partition has nowhere else to put key {key:?}"
        );
    }
}

#[test]
fn partition_for_agrees_with_the_free_function_for_many_keys() {
    let bookings = topic("bookings", 7);
    for i in 0..1_000 {
        let key = format!("booking-{i}");
        assert_eq!(
            Ok(bookings.partition_for(key.as_bytes())),
            partition_for(key.as_bytes(), 7),
            "Topic::partition_for must be partition_for(key, partition_count): key {key:?} went elsewhere"
        );
    }
}
