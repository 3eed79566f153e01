//! Kafka's key hash: the 32-bit MurmurHash2 variant in
//! `org.apache.kafka.common.utils. Utils.murmur2`, which the Java producer,
//! librdkafka and most other Kafka clients use to pick a partition for a keyed
//! record.
//!
//! Why not `std::collections::hash_map::DefaultHasher` or `RandomState`? A
//! partition is chosen by one process and relied on by every other one: the
//! next producer, the same producer after a restart, a producer written in
//! Java. `RandomState` is seeded randomly per process on purpose (it defends
//! `HashMap` against HashDoS), and `DefaultHasher`'s algorithm may change in
//! any Rust release. murmur2 is a fixed, published function, so anyone can
//! compute the same partition from the same key.

// ANCHOR: constants
/// The seed Kafka starts from. Another seed gives another, equally good hash
/// that no other Kafka client computes.
const SEED: u32 = 0x9747_b28c;

/// MurmurHash2's multiplier: an odd constant with well-mixed bits.
const M: u32 = 0x5bd1_e995;

/// The shift that folds the high byte of a block back into its low bits.
const R: u32 = 24;
// ANCHOR_END: constants

// ANCHOR: murmur2
/// Kafka's murmur2 hash of `data`, as the signed 32-bit number Java computes:
/// the seed mixed with the length, then blocks of 4 little-endian bytes, then
/// the 1 to 3 bytes of the tail, then the final mix.
///
/// Java has no unsigned `int`: its `*` wraps on overflow and `>>>` shifts in
/// zeros. The Rust counterparts on a `u32` are `wrapping_mul` and `>>`. Only
/// the result is turned into an `i32`, bit for bit, so the test vectors from
/// Kafka's own tests (`"21"` gives -973932308) can be compared as they are
/// written there.
pub fn murmur2(data: &[u8]) -> i32 {
    todo!("hash `data` with Kafka's murmur2 (chapter 03)")
}
// ANCHOR_END: murmur2
