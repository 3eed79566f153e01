//! Step 05: a bounded producer buffer, and choosing how to fail under load.
//!
//! - `mode.rs`: what a send does when the buffer is full
//!   ([`BackpressureMode`]).
//! - `error.rs`: every way a send can fail, each one handing the record back
//!   ([`BufferError`]).
//! - `buffer.rs`: the buffer itself, a byte budget shared by producers and
//!   drained by the sender ([`ProducerBuffer`]).
//!
//! The chapter is `book/src/05-backpressure.md`.

// The stubs below do not use their arguments yet. Delete this line when you are done.
#![allow(unused_variables, dead_code, unused_imports)]

mod buffer;
mod error;
mod mode;

pub use buffer::ProducerBuffer;
pub use error::BufferError;
pub use mode::BackpressureMode;
// Re-exported so that users of this step need not depend on step 03 themselves.
pub use solution03_partitioning::Record;
