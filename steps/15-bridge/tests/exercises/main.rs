//! Step 15's tests, one binary: a module per exercise, so that a check after
//! a save links the NATS client into one test program, not three. The runner
//! counts the test `publish::x` as the test `x` of the exercise `publish`.

mod common;
mod consumer;
mod publish;
mod settle;
