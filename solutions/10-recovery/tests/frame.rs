//! Exercise "frame": `encode_frame` and `decode_frame` in src/frame.rs.

use bytes::Bytes;
use proptest::prelude::*;
use solution10_recovery::{
    Defect, Frame, MAX_BODY_LEN, MIN_BODY_LEN, Offset, Record, decode_frame,
    encode_frame,
};

fn encoded(offset: u64, record: &Record) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_frame(Offset(offset), record, &mut bytes)
        .expect("a small record fits in a frame");
    bytes
}

fn decoded(bytes: &[u8]) -> Frame {
    decode_frame(&Bytes::copy_from_slice(bytes))
}

#[test]
fn the_checksum_is_crc32c() {
    assert_eq!(
        crc32c::crc32c(b"123456789"),
        0xE306_9283,
        "the crc32c crate computes CRC-32C (Castagnoli), Kafka's checksum"
    );
}

#[test]
fn a_frame_is_length_checksum_offset_key_length_key_value() {
    let bytes = encoded(5, &Record::new("k", "value"));
    let body = [
        &5u64.to_le_bytes()[..],
        &1u32.to_le_bytes()[..],
        b"k",
        b"value",
    ]
    .concat();
    let mut want = Vec::new();
    want.extend_from_slice(&(body.len() as u32).to_le_bytes());
    want.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    want.extend_from_slice(&body);
    assert_eq!(
        bytes, want,
        "the frame must be: length of the body (u32, little-endian), CRC-32C \
         of the body (u32), then the body: offset (u64), key length (u32), \
         key, value. The length counts the body only, not the 8 header bytes"
    );
}

#[test]
fn encode_appends_to_what_is_already_there() {
    let mut bytes = b"earlier".to_vec();
    encode_frame(Offset(0), &Record::new("k", "v"), &mut bytes)
        .expect("a small record fits");
    assert!(
        bytes.starts_with(b"earlier"),
        "encode_frame appends to `out`; it must not clear it"
    );
    assert_eq!(&bytes[7..], &encoded(0, &Record::new("k", "v"))[..]);
}

#[test]
fn a_whole_frame_decodes_to_its_record_offset_and_length() {
    for (offset, record) in [
        (0, Record::new("booking-1", "reserved")),
        (7, Record::new("", "no key")),
        (u64::MAX, Record::new("no value", "")),
        (3, Record::new("", "")),
        (9, Record::new(vec![0u8, 255, 10], vec![13u8, 10, 0, 0])),
    ] {
        let bytes = encoded(offset, &record);
        assert_eq!(
            decoded(&bytes),
            Frame::Whole {
                offset: Offset(offset),
                record: record.clone(),
                len: bytes.len(),
            },
            "decoding the frame of {record:?} at offset {offset} must give it \
             back, with `len` the frame's whole size, header included"
        );
    }
}

#[test]
fn decoding_reads_one_frame_and_ignores_what_follows() {
    let first = encoded(0, &Record::new("a", "first"));
    let mut both = first.clone();
    both.extend_from_slice(&encoded(1, &Record::new("b", "second")));
    assert_eq!(
        decoded(&both),
        Frame::Whole {
            offset: Offset(0),
            record: Record::new("a", "first"),
            len: first.len(),
        },
        "with two frames in a row, decode gives the first; its `len` is where \
         the second starts. Slice the body by the length, not to the end"
    );
}

#[test]
fn every_cut_frame_is_incomplete() {
    let bytes = encoded(1, &Record::new("key", "a value"));
    for cut in 0..bytes.len() {
        assert_eq!(
            decoded(&bytes[..cut]),
            Frame::Incomplete,
            "the first {cut} of {} bytes of a frame are what a crash leaves in \
             the middle of a write: that is Incomplete, not corrupt (and not a \
             panic: check the length before you slice)",
            bytes.len()
        );
    }
}

#[test]
fn a_changed_byte_in_the_body_or_checksum_fails_the_checksum() {
    let bytes = encoded(2, &Record::new("key", "a value"));
    for at in 4..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        assert!(
            matches!(
                decoded(&damaged),
                Frame::Corrupt(Defect::ChecksumMismatch { .. })
            ),
            "byte {at} of the frame was changed, so the CRC-32C of the body no \
             longer matches the header: that is Corrupt(ChecksumMismatch), \
             never a record; got {:?}",
            decoded(&damaged)
        );
    }
}

#[test]
fn a_length_out_of_range_is_corrupt_even_when_bytes_are_missing() {
    for length in [
        0,
        1,
        (MIN_BODY_LEN - 1) as u32,
        MAX_BODY_LEN as u32 + 1,
        u32::MAX,
    ] {
        let mut bytes = length.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(
            decoded(&bytes),
            Frame::Corrupt(Defect::ImpossibleLength { length }),
            "a length of {length} is outside {MIN_BODY_LEN}..={MAX_BODY_LEN}: \
             no frame this log writes has it, so it is damage. Judge the length \
             before asking whether the bytes are all there"
        );
    }
}

#[test]
fn a_key_length_past_the_body_is_corrupt() {
    let body =
        [&0u64.to_le_bytes()[..], &100u32.to_le_bytes()[..], b"ab"].concat();
    let mut bytes = (body.len() as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    assert_eq!(
        decoded(&bytes),
        Frame::Corrupt(Defect::KeyPastEnd {
            key_len: 100,
            body_len: body.len(),
        }),
        "a key length of 100 in a body of {} bytes cannot be sliced: it is \
         Corrupt(KeyPastEnd), not a panic",
        body.len()
    );
}

#[test]
fn a_record_too_large_for_a_frame_is_refused() {
    let record = Record::new("k", vec![0u8; MAX_BODY_LEN]);
    let mut out = Vec::new();
    assert!(
        encode_frame(Offset(0), &record, &mut out).is_err(),
        "a body over MAX_BODY_LEN bytes would be read back as damage: refuse it"
    );
    assert!(out.is_empty(), "a refused record must write nothing");
}

proptest! {
    #![proptest_config(workshop_testkit::proptest_config(64))]

    #[test]
    fn any_record_comes_back_as_it_went_in(
        offset in any::<u64>(),
        key in proptest::collection::vec(any::<u8>(), 0..40),
        value in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let record = Record::new(key, value);
        let bytes = encoded(offset, &record);
        prop_assert_eq!(
            decoded(&bytes),
            Frame::Whole { offset: Offset(offset), record, len: bytes.len() }
        );
    }
}
