//! The commands a learner types, and the one question they share: which step is
//! this about?
//!
//! Each command lives in its own module: [`crate::progress_view`] (no command),
//! [`crate::check`] and [`crate::report`] (`check`), [`crate::hint`],
//! [`crate::reset`], [`crate::compare`] (`diff` and `solution`). They are
//! re-exported here, so `learner::check` is the `check` command.

use anyhow::{Result, bail};

pub use crate::check::{CheckOptions, check};
pub use crate::compare::{diff, solution};
pub use crate::hint::hint;
pub use crate::progress_view::show_progress;
pub use crate::reset::reset;

use crate::manifest::{Step, Workshop};
use crate::progress::{self, Progress};

/// The step to work on: the first one that is not done.
pub fn current_step<'a>(workshop: &'a Workshop, progress: &Progress) -> Result<Option<&'a Step>> {
    for step in workshop.steps() {
        if !progress::state(workshop, progress, step)?.is_done() {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

/// The step a command is about: the one named, or the current one.
pub fn chosen_step<'a>(workshop: &'a Workshop, query: Option<&str>) -> Result<&'a Step> {
    match query {
        Some(query) => workshop.step(query),
        None => {
            let progress = Progress::load(workshop);
            match current_step(workshop, &progress)? {
                Some(step) => Ok(step),
                None => {
                    bail!("every step is done; name one, for example `cargo workshop check 01`")
                }
            }
        }
    }
}
