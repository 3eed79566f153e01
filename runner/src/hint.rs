//! `hint [STEP]`: one more hint each time, for the exercise in the way.

use anstream::{eprintln, println};
use anyhow::Result;

use crate::manifest::{Step, Workshop};
use crate::progress::{self, Progress};
use crate::ui::{DIM, PATH, TITLE, WARN, paint};

/// Shows one more hint for the first exercise that does not pass yet, or every
/// hint of the step with `all`.
pub fn hint(workshop: &Workshop, step: &Step, all: bool) -> Result<()> {
    let mut progress = Progress::load(workshop);
    if !all && progress::state(workshop, &progress, step)?.is_done() {
        println!(
            "Step {:02} passes all its tests: no hint needed. `cargo workshop hint {:02} --all` shows them anyway.",
            step.number, step.number
        );
        return Ok(());
    }
    if all {
        for exercise in &step.exercises {
            println!(
                "{} exercise `{}` ({})\n",
                paint(TITLE, "Hints for"),
                exercise.name,
                paint(PATH, step.exercise_dir().join(&exercise.file).display())
            );
            for (i, text) in exercise.hints.iter().enumerate() {
                println!("{}. {}\n", i + 1, text.trim());
            }
        }
        return Ok(());
    }
    let exercise = progress::focus(step, progress.steps.get(&step.id()));
    let key = format!("{}/{}", step.id(), exercise.name);
    let shown_before = progress.hints_shown.get(&key).copied().unwrap_or(0);
    let count = (shown_before + 1).min(exercise.hints.len());
    println!(
        "{} exercise `{}` of step {:02} ({})\n",
        paint(TITLE, "Hints for"),
        exercise.name,
        step.number,
        paint(PATH, step.exercise_dir().join(&exercise.file).display())
    );
    for (i, text) in exercise.hints.iter().take(count).enumerate() {
        println!("{}. {}\n", i + 1, text.trim());
    }
    if count < exercise.hints.len() {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "Run the same command again for hint {} of {}.",
                    count + 1,
                    exercise.hints.len()
                )
            )
        );
    } else {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "That was the last hint. The chapter is {}; the reference is `cargo workshop solution {:02}`.",
                    step.chapter().display(),
                    step.number
                )
            )
        );
    }
    progress.hints_shown.insert(key, count.max(shown_before));
    if let Err(e) = progress.save(workshop) {
        eprintln!("{} {e:#}", paint(WARN, "warning:"));
    }
    Ok(())
}
