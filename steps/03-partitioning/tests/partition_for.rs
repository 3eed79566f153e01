//! Exercise "partition_for": `to_positive` and `partition_for` in
//! src/partition.rs.

use std::any::Any;
use std::panic;

use proptest::prelude::*;
use step03_partitioning::{
    Partition, PartitionError, partition_for, to_positive,
};

/// The text of a caught panic, to repeat it in a test's own message.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[test]
fn to_positive_keeps_a_non_negative_hash_as_it_is() {
    for hash in [0, 5, 479_470_107, i32::MAX] {
        assert_eq!(
            to_positive(hash),
            hash as u32,
            "to_positive({hash}) must not change a hash that is already non-negative"
        );
    }
}

#[test]
fn to_positive_clears_the_sign_bit_instead_of_taking_the_absolute_value() {
    // (hash, hash & 0x7fffffff, what abs would give)
    for (hash, want, abs) in [
        (-1, 2_147_483_647, 1),
        (-973_932_308, 1_173_551_340, 973_932_308),
        (-2_147_483_647, 1, 2_147_483_647),
    ] {
        assert_eq!(
            to_positive(hash),
            want,
            "to_positive({hash}) must be {want} (hash & 0x7fffffff, as Kafka's toPositive), \
             not the absolute value {abs}: Kafka clients would send the key to another partition"
        );
    }
}

#[test]
fn to_positive_of_the_smallest_i32_is_zero() {
    match panic::catch_unwind(|| to_positive(i32::MIN)) {
        Ok(got) => assert_eq!(
            got, 0,
            "to_positive(i32::MIN) must be 0: only the sign bit is set, and the mask clears it \
             (unsigned_abs() would give 2147483648, which is no positive i32)"
        ),
        Err(payload) => panic!(
            "to_positive(i32::MIN) panicked ({}) but must return 0. With abs: i32::MIN.abs() \
             overflows, because +2147483648 does not fit in an i32; clear the sign bit with a \
             mask instead",
            panic_message(&*payload)
        ),
    }
}

/// Partitions computed with Kafka's own `Utils.toPositive(Utils.murmur2(key)) %
/// n` in Java. Several are chosen so that `abs` instead of the mask, or the raw
/// bits as a `u32` without the mask, give a different answer.
const KAFKA_PARTITIONS: [(&str, u32, u32); 14] = [
    ("21", 1, 0),
    ("21", 7, 3),
    ("21", 8, 4),
    ("foobar", 8, 6),
    ("foobar", 12, 6),
    ("kafka", 3, 1),
    ("kafka", 12, 4),
    ("1", 8, 7),
    ("1", 12, 3),
    ("abc", 7, 4),
    ("a-little-bit-longer-string", 12, 11),
    ("", 12, 9),
    ("booking-42", 8, 1),
    ("booking-42", 100, 81),
];

#[test]
fn keys_go_to_the_same_partitions_as_with_kafkas_java_producer() {
    let wrong: Vec<String> = KAFKA_PARTITIONS
        .iter()
        .filter_map(|&(key, count, want)| {
            let got = partition_for(key.as_bytes(), count);
            (got != Ok(Partition(want))).then(|| {
                format!(
                    "  partition_for({key:?}, {count}): want Ok(Partition({want})), got {got:?}"
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} keys go to another partition than Kafka's producer would send them to:\n{}\n\
         The partition is to_positive(murmur2(key)) % partition_count. If the murmur2 tests \
         pass, look at to_positive (a mask, not abs) and at the order: mask first, then %.",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn zero_partitions_is_an_error_not_a_panic() {
    let got = panic::catch_unwind(|| partition_for(b"booking-42", 0));
    match got {
        Ok(result) => assert_eq!(
            result,
            Err(PartitionError::NoPartitions),
            "partition_for(key, 0) must return Err(PartitionError::NoPartitions): there is no partition to choose"
        ),
        Err(payload) => panic!(
            "partition_for(key, 0) panicked ({}) but must return \
             Err(PartitionError::NoPartitions): check the count before the remainder, \
             because `% 0` panics",
            panic_message(&*payload)
        ),
    }
}

#[test]
fn ten_thousand_keys_spread_evenly_over_eight_partitions() {
    // 10,000 keys over 8 partitions: 1,250 each on average. If the hash behaves
    // like a random function, a partition's count has a standard deviation of
    // sqrt(10000 * 1/8 * 7/8) = 33, so 1,250 +- 125 is a margin of almost four
    // standard deviations. The keys are fixed, so the test gives the same
    // answer on every run; a weak hash of similar keys (the sum of the bytes,
    // the first four bytes only) falls far outside it.
    const KEYS: usize = 10_000;
    const PARTITIONS: u32 = 8;
    const EXPECTED: usize = KEYS / PARTITIONS as usize;
    const TOLERANCE: usize = EXPECTED / 10;

    let mut counts = vec![0usize; PARTITIONS as usize];
    for i in 0..KEYS {
        let key = format!("booking-{i}");
        match partition_for(key.as_bytes(), PARTITIONS) {
            Ok(partition) if partition.0 < PARTITIONS => {
                counts[partition.0 as usize] += 1
            }
            other => panic!(
                "partition_for({key:?}, {PARTITIONS}) must be a partition below {PARTITIONS}, got {other:?}"
            ),
        }
    }
    println!("keys per partition: {counts:?}");
    for (partition, &count) in counts.iter().enumerate() {
        assert!(
            count.abs_diff(EXPECTED) <= TOLERANCE,
            "partition {partition} got {count} of {KEYS} keys, want {EXPECTED} +- {TOLERANCE}; \
             all counts: {counts:?}. An uneven spread makes one partition (and its consumer) \
             a bottleneck"
        );
    }
}

// Few cases keep the check fast after every save, and no regression files are
// written into the exercise's directory.

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(128))]

    #[test]
    fn every_key_goes_to_a_partition_that_exists(
        key in proptest::collection::vec(any::<u8>(), 0..64),
        // Small counts, where a wrong remainder shows up, and any count at all.
        count in prop_oneof![1u32..=16, 1u32..=u32::MAX],
    ) {
        let got = partition_for(&key, count);
        prop_assert!(
            matches!(got, Ok(Partition(p)) if p < count),
            "partition_for({key:?}, {count}) must be Ok(Partition(p)) with p < {count}, got {got:?}"
        );
    }

    #[test]
    fn the_same_key_always_goes_to_the_same_partition(
        key in proptest::collection::vec(any::<u8>(), 0..64),
        count in 1u32..=64,
    ) {
        let first = partition_for(&key, count);
        let second = partition_for(&key, count);
        prop_assert_eq!(
            first,
            second,
            "the partition must depend only on the key and the count, or a booking's events scatter"
        );
    }
}
