//! Why `std`'s hasher cannot choose partitions: run this twice and compare.
//!
//! ```sh
//! cargo run -q -p step03-partitioning --example random_state
//! ```

use std::hash::{BuildHasher, RandomState};

use step03_partitioning::partition_for;

const PARTITIONS: u32 = 8;

// ANCHOR: random_state
fn main() {
    let keys = [
        "booking-1",
        "booking-2",
        "booking-3",
        "booking-4",
        "booking-5",
    ];

    // The hasher of every `HashMap`: seeded with random keys when the process
    // starts, so that nobody can craft keys that all land in one bucket.
    let random = RandomState::new();
    let by_random_state: Vec<u64> = keys
        .iter()
        .map(|key| random.hash_one(key.as_bytes()) % u64::from(PARTITIONS))
        .collect();
    println!("RandomState: {by_random_state:?}");

    // Kafka's murmur2: a fixed function, the same in every process and language.
    let mut by_murmur2 = Vec::new();
    for key in keys {
        match partition_for(key.as_bytes(), PARTITIONS) {
            Ok(partition) => by_murmur2.push(partition.0),
            Err(error) => eprintln!("{key}: {error}"),
        }
    }
    println!("murmur2:     {by_murmur2:?}");
}
// ANCHOR_END: random_state
