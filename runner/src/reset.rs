//! `reset STEP`: puts an exercise back as the workshop made it, after a backup.

use std::path::PathBuf;

use anstream::println;
use anyhow::{Context, Result};

use crate::backup::backup_files;
use crate::edits::{self, ChangeKind};
use crate::generate::{self, Files};
use crate::manifest::{Step, Workshop};
use crate::ui::{DIM, PATH, confirm, paint};

/// Undoes every change [`edits::learner_changes`] finds (only those under
/// `tests/` with `only_tests`): changed files get the workshop's text back,
/// removed ones come back, and files the learner added are removed. Everything
/// replaced or removed is backed up first, and it asks before throwing work away.
pub fn reset(workshop: &Workshop, step: &Step, only_tests: bool, yes: bool) -> Result<()> {
    let expected = edits::generated(workshop, step)?;
    let changes: Vec<_> = edits::changes_against(workshop, step, &expected)?
        .into_iter()
        .filter(|c| !only_tests || c.is_test(step))
        .collect();
    if changes.is_empty() {
        let what = if only_tests { "Its tests are" } else { "It is" };
        println!(
            "Step {:02}: {what} already as the workshop made them; nothing to reset.",
            step.number
        );
        return Ok(());
    }
    println!(
        "This puts step {:02} back as the workshop made it:",
        step.number
    );
    for change in &changes {
        let what = match change.kind {
            ChangeKind::Modified => "your version is replaced",
            ChangeKind::Added => "your file, removed",
            ChangeKind::Removed => "missing, put back",
        };
        println!(
            "  {} {}",
            paint(PATH, change.path.display()),
            paint(DIM, format!("({what})"))
        );
    }
    if !yes && !confirm("Go ahead? Your versions are backed up first. [y/N] ")? {
        println!("Nothing changed.");
        return Ok(());
    }
    let mine: Vec<PathBuf> = changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Removed)
        .map(|c| c.path.clone())
        .collect();
    let backup = backup_files(workshop, &mine)?;
    let mut restored = Files::new();
    for change in &changes {
        let relative = edits::within_step(step, change);
        match change.kind {
            ChangeKind::Added => std::fs::remove_file(workshop.path(&change.path))
                .with_context(|| format!("cannot remove {}", change.path.display()))?,
            ChangeKind::Modified | ChangeKind::Removed => {
                if let Some(text) = expected.get(relative) {
                    restored.insert(relative.to_path_buf(), text.clone());
                }
            }
        }
    }
    generate::write_files(&workshop.path(step.exercise_dir()), &restored)?;
    if let Some(backup) = backup {
        println!(
            "Your versions are in {}; `cargo workshop restore {}` puts them back.",
            paint(PATH, backup.display()),
            crate::backup::name_of(&backup)
        );
    }
    if only_tests {
        println!(
            "The tests of step {:02} are reset; your code is as you left it.",
            step.number
        );
    } else {
        println!("Step {:02} is reset.", step.number);
    }
    Ok(())
}
