//! The tests of step 16, in one binary: each test that links librdkafka
//! costs a link of its own on every check, so the three exercises share
//! this one. Each module is an exercise: `produce::...` checks
//! src/produce.rs, `consume::...` src/consume.rs, `settle::...`
//! src/settle.rs. Every test that needs a broker starts its own.

mod common;
mod consume;
mod produce;
mod settle;
