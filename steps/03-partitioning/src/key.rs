//! The partition key of a booking event: which bytes decide where it goes, and
//! so which events stay in order with each other.

use bytes::Bytes;
use solution01_events::BookingEvent;

// ANCHOR: partition_key
/// The key a booking event is sent with: its booking id, as the UUID's
/// lowercase hyphenated text, `"0f8e7d6c-5b4a-4938-8716-a5b4c3d2e1f0"`.
///
/// The booking, not the seat: every event carries the booking id, so the key
/// needs no lookup, and all events of one booking land in one partition, in the
/// order they were sent. `PaymentReceived` carries no seat, so a seat key would
/// need a database read before every send.
///
/// Text, not the 16 raw bytes: step 02 writes ids as this same text on the
/// wire, so any program that reads an event can compute its key, and tools that
/// print keys (`kcat -K`, `kafka-console-consumer --property print.key=true`)
/// show something a person can search for. It costs 20 bytes more per record.
/// Whichever form you pick, every producer of the topic must pick the same one:
/// the same booking written once as text and once as raw bytes hashes to two
/// partitions. (`BookingId`'s `Display`, from step 01, writes exactly this
/// text.)
pub fn partition_key(event: &BookingEvent) -> Bytes {
    todo!("return the booking id as UUID text (chapter 03)")
}
// ANCHOR_END: partition_key
