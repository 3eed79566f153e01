// A `Deadline` holds a `tokio::time::Sleep`, which must not move once it has been
// polled, so `Deadline` is `!Unpin`: `Pin::new` refuses it. Pin it first, with
// `std::pin::pin!(deadline)` on the stack or `Box::pin(deadline)` on the heap.

use std::future::{Future, pending};
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use step07_futures::Deadline;

fn poll_in_place(cx: &mut Context<'_>) {
    let mut deadline = Deadline::new(pending::<()>(), Duration::from_millis(100));
    let _ = Pin::new(&mut deadline).poll(cx);
}

fn main() {}
