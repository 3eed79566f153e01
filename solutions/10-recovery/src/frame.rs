//! One record on disk: a length, a checksum, and the record's bytes.

use bytes::{BufMut, Bytes};
use solution06_log::{Offset, Record};

// ANCHOR: layout
/// Bytes before a frame's body: its length (`u32`) and its checksum (`u32`).
pub const HEADER_LEN: usize = 8;

/// The shortest body: an offset (`u64`) and a key length (`u32`), with an
/// empty key and an empty value.
pub const MIN_BODY_LEN: usize = 12;

/// The longest body this log writes or believes. A length field above it is
/// damage, not a record: reading on would mean trusting a number that a single
/// flipped bit can make four gigabytes.
pub const MAX_BODY_LEN: usize = 16 * 1024 * 1024;

// ANCHOR: frame_table
// A frame, all integers little-endian:
//
// | bytes   | field      | what                                      |
// |---------|------------|-------------------------------------------|
// | 0..4    | length     | u32: bytes in the body (from byte 8 on)   |
// | 4..8    | checksum   | u32: CRC-32C of the body                  |
// | 8..16   | offset     | u64: the record's offset                  |
// | 16..20  | key length | u32: bytes in the key                     |
// | 20..    | key, value | the key, then the value up to the end     |
// ANCHOR_END: frame_table
// ANCHOR_END: layout

// ANCHOR: frame
/// What the bytes at one position of a segment file hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole record that passed its checksum, and the bytes its frame
    /// takes (header included): where the next frame starts.
    Whole {
        offset: Offset,
        record: Record,
        len: usize,
    },
    /// The bytes end before the frame does: the header is cut, or the body is
    /// shorter than the length says. A write cut short by a crash leaves this.
    Incomplete,
    /// The frame is all there, but it is wrong.
    Corrupt(Defect),
}

/// What is wrong with a frame that is all there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Defect {
    /// The checksum stored in the header is not the CRC-32C of the body.
    #[error(
        "checksum mismatch: the header says {stored:#010x}, the body's CRC-32C is {computed:#010x}"
    )]
    ChecksumMismatch { stored: u32, computed: u32 },
    /// The length is below [`MIN_BODY_LEN`] or above [`MAX_BODY_LEN`].
    #[error(
        "impossible length {length}: a body holds {MIN_BODY_LEN} to {MAX_BODY_LEN} bytes"
    )]
    ImpossibleLength { length: u32 },
    /// The key length runs past the end of the body.
    #[error(
        "the key length {key_len} runs past the end of a body of {body_len} bytes"
    )]
    KeyPastEnd { key_len: u32, body_len: usize },
}

/// Why a record cannot be framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a record of {size} bytes (key and value) is too large for one frame: the limit is {} bytes; split it or store it elsewhere and log a reference",
    MAX_BODY_LEN - MIN_BODY_LEN
)]
pub struct RecordTooLarge {
    pub size: usize,
}
// ANCHOR_END: frame

/// Reads the little-endian `u32` at `at`. The callers check the length first.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut le = [0; 4];
    le.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(le)
}

/// Reads the little-endian `u64` at `at`. The callers check the length first.
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut le = [0; 8];
    le.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(le)
}

// ANCHOR: encode_frame
/// Appends the frame of `record`, stored at `offset`, to `out` (what `out`
/// already holds stays in front of it). A record whose body would be longer
/// than [`MAX_BODY_LEN`] is refused, and nothing is written.
pub fn encode_frame(
    offset: Offset,
    record: &Record,
    out: &mut Vec<u8>,
) -> Result<(), RecordTooLarge> {
    // exercise: solution
    let body_len = MIN_BODY_LEN + record.key.len() + record.value.len();
    if body_len > MAX_BODY_LEN {
        return Err(RecordTooLarge {
            size: record.size(),
        });
    }
    // Both fit in a u32: MAX_BODY_LEN does.
    let length = body_len as u32;
    let key_len = record.key.len() as u32;
    out.reserve(HEADER_LEN + body_len);
    out.put_u32_le(length);
    // The checksum goes before the body but covers it: leave room, write the
    // body, then fill the room in.
    let checksum_at = out.len();
    out.put_u32_le(0);
    let body_at = out.len();
    out.put_u64_le(offset.0);
    out.put_u32_le(key_len);
    out.extend_from_slice(&record.key);
    out.extend_from_slice(&record.value);
    let checksum = crc32c::crc32c(&out[body_at..]);
    out[checksum_at..body_at].copy_from_slice(&checksum.to_le_bytes());
    Ok(())
    // exercise: stub
    // todo!("append length, CRC-32C of the body, then the body (chapter 10)")
    // exercise: end
}
// ANCHOR_END: encode_frame

// ANCHOR: decode_frame
/// Reads the frame at the start of `bytes` (what follows it is ignored).
/// Never panics, whatever the bytes: a log reads back what a crash or a bad
/// sector left.
///
/// The record's key and value share `bytes`' buffer: decoding copies no
/// payload.
pub fn decode_frame(bytes: &Bytes) -> Frame {
    // exercise: solution
    if bytes.len() < HEADER_LEN {
        return Frame::Incomplete;
    }
    let length = u32_at(bytes, 0);
    let body_len = length as usize;
    // Judge the length before using it: a damaged one must not send the
    // reader looking gigabytes ahead, or make it call a good file torn.
    if !(MIN_BODY_LEN..=MAX_BODY_LEN).contains(&body_len) {
        return Frame::Corrupt(Defect::ImpossibleLength { length });
    }
    let len = HEADER_LEN + body_len;
    if bytes.len() < len {
        return Frame::Incomplete;
    }
    let stored = u32_at(bytes, 4);
    let body = &bytes[HEADER_LEN..len];
    let computed = crc32c::crc32c(body);
    if stored != computed {
        return Frame::Corrupt(Defect::ChecksumMismatch { stored, computed });
    }
    // Only now, with the checksum passed, are the fields worth reading.
    let offset = Offset(u64_at(body, 0));
    let key_len = u32_at(body, 8);
    let key_end = MIN_BODY_LEN.saturating_add(key_len as usize);
    if key_end > body_len {
        return Frame::Corrupt(Defect::KeyPastEnd { key_len, body_len });
    }
    let key = bytes.slice(HEADER_LEN + MIN_BODY_LEN..HEADER_LEN + key_end);
    let value = bytes.slice(HEADER_LEN + key_end..len);
    Frame::Whole {
        offset,
        record: Record { key, value },
        len,
    }
    // exercise: stub
    // todo!("tell a whole frame from a cut or a damaged one (chapter 10)")
    // exercise: end
}
// ANCHOR_END: decode_frame
