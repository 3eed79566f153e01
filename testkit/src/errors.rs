//! Checks for the workshop's error-type convention: an error's message does not
//! repeat its cause; the cause is reached through `source()`.
//!
//! A report that prints the whole chain (`anyhow`'s `{:#}`, a log line with every
//! cause) shows each link once. When a message also embeds its source's text, the
//! reader sees the same sentence twice and has to work out which part is new.

use std::error::Error;

/// The messages of `error` and of each of its causes, outermost first.
pub fn chain(error: &(dyn Error + 'static)) -> Vec<String> {
    let mut messages = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(next) = cause {
        messages.push(next.to_string());
        cause = next.source();
    }
    messages
}

/// Asserts that no message in the chain of `error` contains the message of its
/// own source, and that the chain has at least `min_links` messages (so a cause
/// that was dropped instead of linked is caught too).
#[track_caller]
pub fn assert_cause_not_repeated(error: &(dyn Error + 'static), min_links: usize) {
    let messages = chain(error);
    for pair in messages.windows(2) {
        let (outer, inner) = (&pair[0], &pair[1]);
        assert!(
            !outer.contains(inner.as_str()),
            "the message {outer:?} repeats its cause {inner:?}, which `source()` \
             returns as well, so a report of the whole chain says it twice: leave \
             the cause out of the #[error(...)] message"
        );
    }
    assert!(
        messages.len() >= min_links,
        "the error {:?} should lead to its cause through `source()` \
         ({min_links} messages in the chain), got the chain {messages:?}: \
         mark the cause with #[source] or #[from]",
        messages[0]
    );
}
