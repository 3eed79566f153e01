//! The consumer as a `futures::Stream`: what makes
//! `while let Some(item) = consumer.next().await` work.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::FusedStream;

use crate::consumer::Consumer;
use crate::record::{ConsumeError, ConsumedRecord};

// ANCHOR: poll_next
impl Stream for Consumer {
    type Item = Result<ConsumedRecord, ConsumeError>;

    /// `Ready(Some(item))` when a partition has a record; `Pending` when all
    /// are caught up, after leaving the task's waker with every partition and
    /// with the stop signal; `Ready(None)` once the consumer was asked to stop,
    /// and only then.
    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        // `Consumer` holds no self-references, so it is `Unpin` and the pin can
        // be taken off: `get_mut` gives a plain `&mut Consumer`.
        let consumer = self.get_mut();
        todo!("a record, or wait for one, or end (chapter 08)")
    }
}
// ANCHOR_END: poll_next

impl FusedStream for Consumer {
    /// A stopped consumer's stream has ended for good: `futures::select!` and
    /// friends use this to stop polling it.
    fn is_terminated(&self) -> bool {
        self.stop.is_stopped()
    }
}
