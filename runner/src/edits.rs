//! The one rule for "what counts as a learner's change", used by every command
//! that looks at `steps/`: the progress view, `check`, `reset`, `reset --tests`,
//! and `generate`, which must not overwrite work without `--force`.
//!
//! The rule: an exercise is exactly what generation makes from its solution
//! ([`crate::generate::generate_step`]). Every difference from that is the
//! learner's: a file changed, a file added (a learner's own test file or module
//! counts), a file removed. Files that are nobody's work do not count: build
//! output (`target/`, trybuild's `wip/`), hidden files, and proptest's
//! `*.proptest-regressions` (the learner's failures, written by the tests
//! themselves); [`crate::generate::walk`] leaves those out.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::generate::{self, Drift, Files, Variant};
use crate::manifest::{Step, Workshop};

/// How a file of an exercise differs from what the workshop generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The file exists in both, with different text.
    Modified,
    /// The learner's own file: generation does not make it.
    Added,
    /// Generation makes this file, but it is gone.
    Removed,
}

/// One file a learner changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Relative to the workshop root: `steps/01-events/src/state.rs`.
    pub path: PathBuf,
    pub kind: ChangeKind,
}

impl Change {
    /// Whether the file is one of the step's tests (under `tests/`), which decide
    /// when a step is done and so must be the workshop's own.
    pub fn is_test(&self, step: &Step) -> bool {
        self.path.starts_with(step.exercise_dir().join("tests"))
    }
}

/// Every change a learner made to `step`'s exercise, in path order. Empty means
/// the exercise is exactly as the workshop made it.
pub fn learner_changes(workshop: &Workshop, step: &Step) -> Result<Vec<Change>> {
    let expected = generated(workshop, step)?;
    changes_against(workshop, step, &expected)
}

/// What generation makes for `step`'s exercise, relative to its directory.
pub fn generated(workshop: &Workshop, step: &Step) -> Result<Files> {
    generate::generate_step(workshop, step, Variant::Exercise)
}

/// [`learner_changes`] against files already generated (`reset` needs them both).
pub fn changes_against(workshop: &Workshop, step: &Step, expected: &Files) -> Result<Vec<Change>> {
    let drift = generate::compare(&workshop.root, &step.exercise_dir(), expected, true)?;
    let mut changes: Vec<Change> = drift
        .into_iter()
        .map(|d| match d {
            Drift::Changed(path) => Change {
                path,
                kind: ChangeKind::Modified,
            },
            Drift::Extra(path) => Change {
                path,
                kind: ChangeKind::Added,
            },
            Drift::Missing(path) => Change {
                path,
                kind: ChangeKind::Removed,
            },
        })
        .collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// The path of a change relative to the step's directory (`tests/apply.rs`).
pub fn within_step<'a>(step: &Step, change: &'a Change) -> &'a Path {
    change
        .path
        .strip_prefix(step.exercise_dir())
        .unwrap_or(&change.path)
}
