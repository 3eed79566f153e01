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
//! | [`learner`] | progress view, `check`, `hint`, `reset`, `diff`, `solution` |
//! | [`watch`] | re-checking on save |
//! | [`doctor`] | is this machine ready |
//! | [`maintain`] | `generate` and `verify`, for maintainers and CI |

pub mod doctor;
pub mod generate;
pub mod learner;
pub mod maintain;
pub mod manifest;
pub mod progress;
pub mod testrun;
pub mod ui;
pub mod watch;
