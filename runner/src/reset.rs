//! `reset STEP`: puts an exercise back as the workshop made it, after a backup.

use std::path::PathBuf;

use anstream::println;
use anyhow::Result;

use crate::backup::backup_files;
use crate::generate::{self, Variant};
use crate::manifest::{Step, Workshop};
use crate::ui::{PATH, confirm, paint};

/// Puts the exercise back as generated. Everything it replaces is backed up
/// first, and it asks before throwing work away.
pub fn reset(workshop: &Workshop, step: &Step, only_tests: bool, yes: bool) -> Result<()> {
    let mut expected = generate::generate_step(workshop, step, Variant::Exercise)?;
    if only_tests {
        expected.retain(|path, _| path.starts_with("tests"));
    }
    let drift = generate::compare(&workshop.root, &step.exercise_dir(), &expected, false)?;
    if drift.is_empty() {
        println!(
            "Step {:02} is already as the workshop made it; nothing to reset.",
            step.number
        );
        return Ok(());
    }
    let changed: Vec<PathBuf> = drift
        .iter()
        .map(|d| match d {
            generate::Drift::Missing(p)
            | generate::Drift::Extra(p)
            | generate::Drift::Changed(p) => p.clone(),
        })
        .collect();
    println!("This puts back the workshop's version of:");
    for path in &changed {
        println!("  {}", paint(PATH, path.display()));
    }
    if !yes && !confirm("Replace these files? Your versions are backed up first. [y/N] ")? {
        println!("Nothing changed.");
        return Ok(());
    }
    let backup = backup_files(workshop, &changed)?;
    let dir = workshop.path(step.exercise_dir());
    generate::write_files(&dir, &expected)?;
    if let Some(backup) = backup {
        println!("Your versions are in {}.", paint(PATH, backup.display()));
    }
    println!("Step {:02} is reset.", step.number);
    Ok(())
}
