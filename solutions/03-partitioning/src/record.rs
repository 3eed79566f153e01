//! A record: what a producer sends and the log stores.

use bytes::Bytes;

// ANCHOR: record
/// One keyed message on its way through the platform: the key decides the
/// partition, the value is opaque bytes (an encoded event, step 02).
///
/// `Bytes` rather than `Vec<u8>`: cloning a record to retry it or to hand it to
/// a reader shares the buffer instead of copying it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub key: Bytes,
    pub value: Bytes,
}
// ANCHOR_END: record

impl Record {
    pub fn new(key: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The bytes this record occupies in a batch or a buffer: key plus value.
    /// Real producers add per-record overhead (Kafka's varint headers); the
    /// workshop leaves it out so the arithmetic in tests stays obvious.
    pub fn size(&self) -> usize {
        self.key.len() + self.value.len()
    }
}
