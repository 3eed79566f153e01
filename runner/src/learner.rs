//! The commands a learner types, and the one question they share: which step is
//! this about?
//!
//! Each command lives in its own module: [`crate::progress_view`] (no command),
//! [`crate::check`] and [`crate::report`] (`check`), [`crate::hint`],
//! [`crate::reset`], [`crate::compare`] (`diff` and `solution`). They are
//! re-exported here, so `learner::check` is the `check` command.

use std::path::Path;

use anyhow::{Result, bail};

pub use crate::check::{CheckOptions, check, check_all};
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

/// The step whose directory holds `dir` (`steps/03-partitioning/src` is in step
/// 03), if any: a learner working inside a step means that step.
pub fn step_at<'a>(workshop: &'a Workshop, dir: &Path) -> Option<&'a Step> {
    let dir = dir.canonicalize().ok()?;
    let root = workshop.root.canonicalize().ok()?;
    let relative = dir.strip_prefix(root).ok()?;
    workshop
        .steps()
        .iter()
        .find(|step| relative.starts_with(step.exercise_dir()))
}

/// The step a learner's command is about: the one named; else the one whose
/// directory they are in; else the first that is not done. `None` when they
/// named none and every step is done: time for [`all_done_message`].
pub fn step_for_command<'a>(
    workshop: &'a Workshop,
    query: Option<&str>,
    cwd: &Path,
) -> Result<Option<&'a Step>> {
    if let Some(query) = query {
        return workshop.step(query).map(Some);
    }
    if let Some(step) = step_at(workshop, cwd) {
        return Ok(Some(step));
    }
    current_step(workshop, &Progress::load(workshop))
}

/// What to say when every step passes, instead of an error: `check`, `hint`,
/// the progress view and `watch` all say it.
pub fn all_done_message(workshop: &Workshop) -> String {
    let last = workshop.steps().last().map_or(0, |s| s.number);
    format!(
        "Well done: every step of the workshop passes! Nothing is left to check. \
         `cargo workshop diff NN` compares your code with the reference (try `cargo workshop diff {last:02}`), \
         and `cargo workshop check --all` checks every step again."
    )
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
