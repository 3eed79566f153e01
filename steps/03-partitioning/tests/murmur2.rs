//! Exercise "murmur2": `murmur2` in src/murmur2.rs.
//!
//! Every expected value comes from Kafka itself: the test vectors in the Java
//! client's `UtilsTest` and in librdkafka's `rdmurmur2.c`, or (for the bytes
//! above
//! 127) from running Kafka's `Utils.murmur2` in Java. A value that differs
//!   means
//! this hash sends a key to another partition than every other Kafka client
//! would.

use step03_partitioning::murmur2;

/// Checks every `(key, expected)` pair and fails once, listing each key that
/// hashed differently, so one run shows every case that is still wrong.
fn check(cases: &[(&[u8], i32)], what_to_look_at: &str) {
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|&(key, want)| {
            let got = murmur2(key);
            (got != want).then(|| {
                format!(
                    "  murmur2({:?}) (length {}): want {want} (0x{:08x}), got {got} (0x{:08x})",
                    String::from_utf8_lossy(key),
                    key.len(),
                    want as u32,
                    got as u32,
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} keys hash differently from Kafka:\n{}\n{what_to_look_at}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_empty_key_hashes_like_kafka() {
    // librdkafka: 0x106e08d9.
    check(
        &[(b"", 275_646_681)],
        "With no bytes there is no block and no tail: only the start value `SEED ^ 0` \
         and the final mix (h ^= h >> 13; h *= M; h ^= h >> 15) are left. Multiply only \
         when there was a tail, and shift a u32 in the final mix, not an i32.",
    );
}

#[test]
fn keys_of_whole_four_byte_blocks_hash_like_kafka() {
    check(
        &[
            // Kafka's UtilsTest.
            (b"a-little-bit-long-string", -985_981_536),
            // librdkafka: 0x9fc97b14.
            (b"1234", -1_614_185_708),
            // 48 bytes, twelve blocks. Kafka's UtilsTest.
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
        ],
        "These keys have no tail. Read each block of 4 bytes little-endian (the first \
         byte is the lowest: u32::from_le_bytes), mix it with k *= M; k ^= k >> R; \
         k *= M; then h *= M; h ^= k. Use wrapping_mul, and shift a u32, not an i32: \
         Java's >>> shifts in zeros. If the empty key fails too, look at the tail \
         multiply first: it must not happen without a tail.",
    );
}

#[test]
fn keys_with_leftover_bytes_hash_like_kafka() {
    check(
        &[
            // One byte left over. librdkafka: 0x5a4b5ca1, 0xd067cf64,
            // 0x8f552b0c.
            (b"4", 1_514_888_353),
            (b"kafka", -798_503_068),
            (b"giberish123456789", -1_890_243_828),
            // Two bytes. Kafka's UtilsTest.
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-longer-string", -1_486_304_829),
            // Three bytes. Kafka's UtilsTest; librdkafka: 0xe7c009ca.
            (b"abc", 479_470_107),
            (b"234", -406_844_982),
        ],
        "The tail is the 1 to 3 bytes after the last whole block. XOR them into h at \
         the same positions as in a block (tail[0] lowest, tail[1] << 8, tail[2] << 16), \
         then h *= M once, and only if there was a tail. If the keys of whole blocks \
         pass and these fail, look at the tail.",
    );
}

#[test]
fn bytes_above_127_hash_as_unsigned_bytes() {
    // Values from Kafka's Utils.murmur2 run in Java, which masks every byte
    // with `& 0xff`: a key is bytes, not signed numbers.
    check(
        &[
            (&[0xff], -311_467_685),
            (&[0x80, 0xff, 0x7f, 0x00, 0xc3, 0xa9], -637_474_196),
            (&[0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa], -2_144_328_318),
        ],
        "Keys are any bytes, not only text. Turn each byte into a u32 with u32::from(byte): \
         going through i8 would fill the upper bits with ones for bytes above 127.",
    );
}

#[test]
fn the_hash_is_the_same_on_every_call() {
    let key = b"booking-42";
    let first = murmur2(key);
    for _ in 0..3 {
        assert_eq!(
            murmur2(key),
            first,
            "murmur2 must depend on the key only: no random seed, no state kept between calls"
        );
    }
}
