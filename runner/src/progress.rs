//! What the runner remembers between runs, and each step's state.
//!
//! The memory is a cache in `target/workshop/progress.toml`: the result of the last
//! check of each step and a fingerprint of the files it checked. Nothing in it is
//! precious. If it is deleted (`cargo clean`), a step is shown as "edited, not
//! checked" until its next check, and the work itself is untouched.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::edits;
use crate::generate;
use crate::manifest::{Step, Workshop};
use crate::testrun::{Status, TestRun};

/// The last check of one step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StepRecord {
    /// A hash of every file of the exercise when it was checked: a later edit
    /// makes the record stale.
    pub fingerprint: String,
    pub compiled: bool,
    pub passed: usize,
    pub total: usize,
    /// Passed and total tests per exercise name.
    #[serde(default)]
    pub exercises: BTreeMap<String, (usize, usize)>,
    pub tests_changed: bool,
    /// Every exercise's test binary ran to its end and reported every test: no
    /// crash, no time limit, no missing test file. Without it nothing is done.
    #[serde(default)]
    pub all_ran: bool,
    /// When the step did not compile: the exercise whose file holds the first
    /// error, so that `hint` helps with what is actually in the way.
    #[serde(default)]
    pub broken_exercise: Option<String>,
}

/// The whole cache.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub steps: BTreeMap<String, StepRecord>,
    /// How many hints of each exercise (`01-events/apply`) have been shown.
    #[serde(default)]
    pub hints_shown: BTreeMap<String, usize>,
}

/// Where a step stands, as the progress view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    /// The exercise is exactly as generated.
    NotStarted,
    /// Changed since the last check (or never checked).
    Edited,
    /// The last check of the current files.
    Checked(StepRecord),
}

impl StepState {
    pub fn is_done(&self) -> bool {
        matches!(self, StepState::Checked(r) if r.compiled && r.all_ran && !r.tests_changed && r.total > 0 && r.passed == r.total)
    }
}

fn cache_path(workshop: &Workshop) -> PathBuf {
    workshop.path("target/workshop/progress.toml")
}

impl Progress {
    /// Reads the cache; a missing or unreadable one is an empty cache, because it
    /// only ever holds what a check can recompute.
    pub fn load(workshop: &Workshop) -> Self {
        std::fs::read_to_string(cache_path(workshop))
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, workshop: &Workshop) -> Result<()> {
        let path = cache_path(workshop);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = toml::to_string(self).context("cannot write the progress cache")?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// A hash of every file under the exercise directory. Only compared with itself on
/// the same machine, so std's hasher (fixed keys for `DefaultHasher::new`) is fine.
pub fn fingerprint(workshop: &Workshop, step: &Step) -> Result<String> {
    let dir = workshop.path(step.exercise_dir());
    let mut files = Vec::new();
    if dir.is_dir() {
        generate::walk(&dir, Path::new(""), &mut files)?;
    }
    files.sort();
    let mut hasher = std::hash::DefaultHasher::new();
    for relative in files {
        relative.hash(&mut hasher);
        std::fs::read(dir.join(&relative))
            .with_context(|| format!("cannot read {}", dir.join(&relative).display()))?
            .hash(&mut hasher);
    }
    Ok(format!("{:016x}", hasher.finish()))
}

/// Whether the step's files are exactly as generated from the solution
/// ([`crate::edits`] has the rule).
pub fn is_pristine(workshop: &Workshop, step: &Step) -> Result<bool> {
    Ok(edits::learner_changes(workshop, step)?.is_empty())
}

/// The test files of a step that differ from the generated ones, including test
/// files the learner added: any of them keeps the step from counting as done.
pub fn changed_tests(workshop: &Workshop, step: &Step) -> Result<Vec<PathBuf>> {
    Ok(edits::learner_changes(workshop, step)?
        .into_iter()
        .filter(|c| c.is_test(step))
        .map(|c| c.path)
        .collect())
}

/// The state of a step for the progress view.
pub fn state(workshop: &Workshop, progress: &Progress, step: &Step) -> Result<StepState> {
    if is_pristine(workshop, step)? {
        return Ok(StepState::NotStarted);
    }
    let current = fingerprint(workshop, step)?;
    Ok(match progress.steps.get(&step.id()) {
        Some(record) if record.fingerprint == current => StepState::Checked(record.clone()),
        _ => StepState::Edited,
    })
}

/// Turns a test run into a record for the cache.
pub fn record(step: &Step, run: &TestRun, fingerprint: String, tests_changed: bool) -> StepRecord {
    let counted = |o: &&crate::testrun::TestOutcome| o.status != Status::Ignored;
    let exercises = step
        .exercises
        .iter()
        .map(|e| {
            let outcomes: Vec<_> = run.of_target(&e.test).filter(counted).collect();
            let passed = outcomes
                .iter()
                .filter(|o| o.status == Status::Passed)
                .count();
            // Tests that never reported (a crash, a hang) count as not passing.
            (
                e.name.clone(),
                (passed, outcomes.len() + run.unreported(&e.test)),
            )
        })
        .collect();
    let unreported: usize = run.targets.iter().map(|t| run.unreported(&t.name)).sum();
    let broken_exercise = if run.compiled {
        None
    } else {
        run.errors
            .first()
            .and_then(|error| exercise_with_error(step, error))
    };
    StepRecord {
        broken_exercise,
        fingerprint,
        compiled: run.compiled,
        passed: run.passed(),
        total: run.outcomes.iter().filter(counted).count() + unreported,
        all_ran: run.compiled
            && step
                .exercises
                .iter()
                .all(|e| run.problem(&e.test).is_none()),
        exercises,
        tests_changed,
    }
}

/// The exercise whose file a rustc error points at (`--> steps/01-events/src/x.rs:3:5`).
fn exercise_with_error(step: &Step, error: &str) -> Option<String> {
    let location = error
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("--> "))?;
    let path = location.split(':').next()?.replace('\\', "/");
    step.exercises
        .iter()
        .find(|e| {
            let file = step.exercise_dir().join(&e.file);
            path == file.to_string_lossy().replace('\\', "/")
        })
        .map(|e| e.name.clone())
}

/// The exercise a learner is on: the one whose file does not compile, else the
/// first that does not pass yet, else the first.
pub fn focus<'a>(step: &'a Step, record: Option<&StepRecord>) -> &'a crate::manifest::Exercise {
    if let Some(name) = record.and_then(|r| r.broken_exercise.as_ref())
        && let Some(exercise) = step.exercises.iter().find(|e| &e.name == name)
    {
        return exercise;
    }
    step.exercises
        .iter()
        .find(|e| {
            record
                .and_then(|r| r.exercises.get(&e.name))
                .is_none_or(|(passed, total)| passed < total || *total == 0)
        })
        .unwrap_or(&step.exercises[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Exercise;

    fn step() -> Step {
        let exercise = |name: &str, file: &str| Exercise {
            name: name.into(),
            file: file.into(),
            test: name.into(),
            hints: vec!["h".into()],
        };
        Step {
            number: 1,
            slug: "events".into(),
            title: "Events".into(),
            exercises: vec![
                exercise("accessors", "src/event.rs"),
                exercise("typestate", "src/typestate.rs"),
            ],
            one_test_binary: false,
            test_threads: None,
        }
    }

    #[test]
    fn the_exercise_in_the_way_is_the_one_whose_file_does_not_compile() {
        let error =
            "error[E0308]: mismatched types\n  --> steps/01-events/src/typestate.rs:50:9\n   |";
        assert_eq!(
            exercise_with_error(&step(), error).as_deref(),
            Some("typestate")
        );
        let record = StepRecord {
            broken_exercise: Some("typestate".into()),
            ..StepRecord::default()
        };
        assert_eq!(focus(&step(), Some(&record)).name, "typestate");
    }

    #[test]
    fn without_a_compile_error_the_focus_is_the_first_exercise_not_passing() {
        let mut record = StepRecord {
            compiled: true,
            ..StepRecord::default()
        };
        record.exercises.insert("accessors".into(), (5, 5));
        record.exercises.insert("typestate".into(), (1, 4));
        assert_eq!(focus(&step(), Some(&record)).name, "typestate");
        assert_eq!(focus(&step(), None).name, "accessors");
    }

    #[test]
    fn an_error_outside_any_exercise_file_points_nowhere() {
        let error = "error: expected item\n --> steps/01-events/tests/apply.rs:1:1";
        assert_eq!(exercise_with_error(&step(), error), None);
    }
}
