//! `cargo workshop` with no command: every step with its state, and what to do next.

use anstream::println;
use anyhow::Result;

use crate::manifest::{Step, Workshop};
use crate::progress::{self, Progress, StepState};
use crate::ui::{DIM, FAIL, PASS, PATH, TITLE, WARN, paint};

/// Prints every step with its state and where to go next.
pub fn show_progress(workshop: &Workshop) -> Result<()> {
    let progress = Progress::load(workshop);
    println!("{}\n", paint(TITLE, "Unstoppable Events: your progress"));
    let mut next = None;
    // The titles in one column, as wide as the longest.
    let title_width = workshop
        .steps()
        .iter()
        .map(|step| step.title.chars().count())
        .max()
        .unwrap_or(0);
    for step in workshop.steps() {
        let state = progress::state(workshop, &progress, step)?;
        let (mark, text) = match &state {
            StepState::NotStarted => (" ", paint(DIM, "not started")),
            StepState::Edited => ("~", paint(WARN, "edited, not checked since")),
            StepState::Checked(r) if !r.compiled => ("✗", paint(FAIL, "does not compile")),
            StepState::Checked(r) if r.tests_changed => (
                "!",
                paint(
                    WARN,
                    format!("{} of {} tests pass, with edited tests", r.passed, r.total),
                ),
            ),
            StepState::Checked(r) if !r.all_ran => (
                "✗",
                paint(
                    FAIL,
                    format!(
                        "{} of {} tests pass; some crashed, hung or did not run",
                        r.passed, r.total
                    ),
                ),
            ),
            s if s.is_done() => ("✓", paint(PASS, "done")),
            StepState::Checked(r) => (
                "…",
                paint(
                    WARN,
                    format!("in progress, {} of {} tests pass", r.passed, r.total),
                ),
            ),
        };
        if next.is_none() && !state.is_done() {
            next = Some(step);
        }
        println!(
            " {mark} {:02} {:<width$} {text}",
            step.number,
            step.title,
            width = title_width
        );
    }
    println!();
    match next {
        Some(step) => print_where_to_go(step, &progress),
        None => println!(
            "{}",
            paint(PASS, crate::learner::all_done_message(workshop))
        ),
    }
    Ok(())
}

fn print_where_to_go(step: &Step, progress: &Progress) {
    let exercise = progress::focus(step, progress.steps.get(&step.id()));
    println!(
        "{} step {:02}, {}",
        paint(TITLE, "Next:"),
        step.number,
        step.title
    );
    println!("  read   {}", paint(PATH, step.chapter().display()));
    println!(
        "  edit   {}",
        paint(PATH, step.exercise_dir().join(&exercise.file).display())
    );
    println!(
        "  check  cargo workshop check {:02}   (or `cargo workshop watch`)",
        step.number
    );
}
