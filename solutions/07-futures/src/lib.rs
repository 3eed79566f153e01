//! Step 07: futures by hand. What `.await` turns into, written out.
//!
//! - `wait.rs`: [`WaitForOffset`], a future that is ready once a partition of
//!   the log holds the record at an offset. It registers its waker with the log
//!   and returns `Poll::Pending` until an append makes it ready.
//! - `deadline.rs`: [`Deadline`], a future that wraps any other future and
//!   gives up after a maximum wait. It owns two futures and polls both, which
//!   takes pin projection (`pin-project`).
//! - `fetch.rs`: [`fetch`], an `async fn` that awaits a [`WaitForOffset`], next
//!   to [`Fetch`], the state machine the compiler makes of it, written by hand.
//!   Given: read it, do not write it.
//!
//! Step 08 turns the consumer into a stream on top of the log's waking; this
//! step is the one future underneath it. The chapter is
//! `book/src/07-futures.md`.

// exercise: solution
// exercise: stub
// // The stubs below do not use their arguments yet. Delete this line when you are done.
// #![allow(unused_variables, dead_code)]
// exercise: end

mod deadline;
mod fetch;
mod wait;

pub use deadline::{Deadline, DeadlineElapsed};
pub use fetch::{Fetch, fetch};
pub use wait::WaitForOffset;
