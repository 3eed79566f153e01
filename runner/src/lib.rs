//! The Unstoppable Events runner: the one entry point of the workshop.
//!
//! A learner types `cargo workshop` (an alias in `.cargo/config.toml`) on any
//! platform; nothing needs a Unix shell. Each module is one concern:
//!
//! | module | what |
//! |---|---|
//! | [`manifest`] | `workshop.toml`, the single list of steps |
//! | [`generate`] | exercises and book pages generated from the solutions |
//! | [`testrun`] | running `cargo test` and reading its output |
//! | [`progress`] | the cache of results, and each step's state |
//! | [`learner`] | which step a command is about; re-exports the learner's commands |
//! | [`progress_view`] | `cargo workshop` alone: every step's state, what next |
//! | [`check`] | `check`: run the tests, record them, work out a [`check::CheckReport`] |
//! | [`report`] | printing a check report |
//! | [`hint`] | `hint` |
//! | [`reset`] | `reset` |
//! | [`compare`] | `diff` and `solution` |
//! | [`edits`] | the one rule for what counts as a learner's change |
//! | [`backup`] | copies of a learner's files before anything replaces them |
//! | [`watch`] | re-checking on save |
//! | [`doctor`] | is this machine ready |
//! | [`maintain`] | `generate` and `verify`, for maintainers and CI |

pub mod backup;
pub mod check;
pub mod compare;
pub mod doctor;
pub mod edits;
pub mod faults;
pub mod generate;
pub mod hint;
pub mod learner;
pub mod maintain;
pub mod manifest;
pub mod progress;
pub mod progress_view;
pub mod report;
pub mod reset;
pub mod testrun;
pub mod ui;
pub mod watch;
