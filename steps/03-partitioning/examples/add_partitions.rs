//! What adding partitions to a topic does to its keys: run it and read how many
//! move.
//!
//! ```sh
//! cargo run -q -p step03-partitioning --example add_partitions
//! ```

use step03_partitioning::{Topic, TopicError};

// ANCHOR: add_partitions
fn main() -> Result<(), TopicError> {
    let keys: Vec<String> =
        (0..10_000).map(|i| format!("booking-{i}")).collect();
    let before = Topic::new("bookings", 8)?;
    for count in [9, 12, 16] {
        let after = Topic::new("bookings", count)?;
        let moved = keys
            .iter()
            .filter(|key| {
                before.partition_for(key.as_bytes())
                    != after.partition_for(key.as_bytes())
            })
            .count();
        println!(
            "8 -> {count:2} partitions: {moved:5} of {} keys change partition ({:.0}%)",
            keys.len(),
            100.0 * moved as f64 / keys.len() as f64
        );
    }
    Ok(())
}
// ANCHOR_END: add_partitions
