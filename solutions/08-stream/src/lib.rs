//! Step 08: the consumer as a `futures::Stream`.
//!
//! - `record.rs`: what the consumer hands out ([`ConsumedRecord`]) and what can
//!   go wrong ([`ConsumeError`], [`AssignmentError`]) (given).
//! - `reader.rs`: one partition's reader, fetching batches and decoding
//!   ([`PartitionReader`]).
//! - `consumer.rs`: the [`Consumer`], its readers taking turns.
//! - `stream.rs`: `impl Stream for Consumer`, waiting without spinning.
//! - `stop.rs`: ending the stream from outside ([`StopHandle`]) (given).
//!
//! The chapter is `book/src/08-stream.md`.

// exercise: solution
// exercise: stub
// // The stubs below do not use their arguments yet. Delete this line when you are done.
// #![allow(unused_variables, unused_imports, dead_code)]
// exercise: end

mod consumer;
mod reader;
mod record;
mod stop;
mod stream;

pub use consumer::Consumer;
pub use reader::PartitionReader;
pub use record::{AssignmentError, ConsumeError, ConsumedRecord};
pub use stop::StopHandle;

// Re-exported so that users of the consumer (and its tests) name the same types
// it reads and hands out, with one dependency.
pub use solution02_protobuf::{
    BookingEvent, BookingId, SeatId, UserId, WireError, encode,
};
pub use solution06_log::{Log, LogError, Offset, Partition, Record};
