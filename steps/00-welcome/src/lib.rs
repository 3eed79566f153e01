//! Step 00: the exercise loop.
//!
//! Every step of the workshop works the same way: a test fails, you read what
//! it says, you change the code it points at, and you run the check again. This
//! step has one small function so that you can try the loop before the real
//! work starts. The chapter is `book/src/00-welcome.md`.

// The stub below does not use its arguments yet. Delete this line when you are done.
#![allow(unused_variables)]

// ANCHOR: seats_left
/// How many seats of a show are still free.
///
/// `sold` can be larger than `capacity` when a venue was overbooked by a bug
/// elsewhere; the answer is then zero, never a wrapped-around huge number.
pub fn seats_left(capacity: u32, sold: u32) -> u32 {
    todo!("return the seats still free (chapter 00)")
}
// ANCHOR_END: seats_left
