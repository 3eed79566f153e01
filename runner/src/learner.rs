//! The commands a learner types: the progress view, `check`, `hint`, `reset`,
//! `diff` and `solution`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anstream::{eprintln, println};
use anyhow::{Context, Result, bail};

use crate::generate::{self, Variant};
use crate::manifest::{Step, Workshop};
use crate::progress::{self, Progress, StepState};
use crate::testrun::{self, Status, TestRun};
use crate::ui::{DIM, FAIL, PASS, PATH, TITLE, WARN, paint};

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

/// `cargo workshop` with no command: every step with its state, and what to do next.
pub fn show_progress(workshop: &Workshop) -> Result<()> {
    let progress = Progress::load(workshop);
    println!("{}\n", paint(TITLE, "Unstoppable Events: your progress"));
    let mut next = None;
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
        println!(" {mark} {:02} {:<48} {text}", step.number, step.title);
    }
    println!();
    match next {
        Some(step) => print_where_to_go(step, &progress),
        None => println!(
            "{} Every step passes. Compare your code with the reference: `cargo workshop diff STEP`.",
            paint(PASS, "Well done!")
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

/// How to run a check and how much of its result to print.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Every failing test, not just those of the first failing exercise.
    pub all: bool,
    /// Cargo's whole output as well.
    pub raw: bool,
    /// How long one test binary may run before it is stopped.
    pub limit: std::time::Duration,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            all: false,
            raw: false,
            limit: testrun::DEFAULT_TEST_LIMIT,
        }
    }
}

/// `check [STEP]`: runs the step's tests, remembers the result and shows what fails.
/// Returns whether the step is done.
pub fn check(workshop: &Workshop, step: &Step, verbosity: CheckOptions) -> Result<bool> {
    let dir = workshop.path(step.exercise_dir());
    if !dir.join("Cargo.toml").is_file() {
        bail!(
            "{} is missing: restore it with `cargo workshop reset {:02}`",
            step.exercise_dir().join("Cargo.toml").display(),
            step.number
        );
    }
    let changed_tests = progress::changed_tests(workshop, step)?;
    let fingerprint = progress::fingerprint(workshop, step)?;
    println!(
        "{}",
        paint(
            DIM,
            format!("Checking step {} ({})...", step.id(), step.exercise_crate())
        )
    );
    let run = testrun::run_cargo_test(&workshop.root, &step.exercise_crate(), verbosity.limit)?;
    if verbosity.raw {
        println!("{}", run.output);
    }
    let record = progress::record(step, &run, fingerprint, !changed_tests.is_empty());
    let mut progress = Progress::load(workshop);
    progress.steps.insert(step.id(), record.clone());
    // A progress file that cannot be written costs the learner nothing but the
    // progress view, so say so and go on.
    if let Err(e) = progress.save(workshop) {
        eprintln!("{} {e:#}", paint(WARN, "warning:"));
    }

    if !changed_tests.is_empty() {
        println!(
            "\n{} these test files differ from the workshop's:",
            paint(WARN, "Note:")
        );
        for path in &changed_tests {
            println!("  {}", paint(PATH, path.display()));
        }
        println!(
            "The tests are how the workshop knows a step is done, so this step will not count as done \
             until they match. `cargo workshop reset {:02} --tests` restores them (your version is backed up first).",
            step.number
        );
    }

    if !run.compiled {
        print_compile_errors(step, &run, verbosity);
        return Ok(false);
    }
    print_results(workshop, step, &run, verbosity);
    if let Some(target) = &run.timed_out {
        println!(
            "\n{} the tests in tests/{target}.rs were still running after {} s, so the check stopped them. \
             Look for a loop that never ends, or a future that returns Pending and is never woken. \
             (`cargo workshop check {:02} --timeout SECONDS` changes the limit.)",
            paint(FAIL, "✗"),
            verbosity.limit.as_secs(),
            step.number
        );
        return Ok(false);
    }
    let done = progress::StepState::Checked(record).is_done();
    print_warnings(step, &run, done || verbosity.all);
    if done {
        println!(
            "\n{} Step {:02} is done. Compare with the reference: `cargo workshop diff {:02}`.",
            paint(PASS, "✓"),
            step.number,
            step.number
        );
        remind_to_remove_allow(workshop, step);
        if let Some(next) = workshop.steps().iter().find(|s| s.number > step.number) {
            println!(
                "Next: step {:02}, {} ({}).",
                next.number,
                next.title,
                paint(PATH, next.chapter().display())
            );
        }
    }
    Ok(done)
}

fn print_compile_errors(step: &Step, run: &TestRun, verbosity: CheckOptions) {
    println!(
        "\n{} step {:02} does not compile yet. Fix the first error and check again:\n",
        paint(FAIL, "✗"),
        step.number
    );
    if run.errors.is_empty() {
        // The parser found no rustc error: show cargo's own words rather than nothing.
        println!("{}", run.output.trim_end());
        return;
    }
    let shown = if verbosity.all { run.errors.len() } else { 1 };
    for error in run.errors.iter().take(shown) {
        println!("{error}\n");
    }
    if run.errors.len() > shown {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "...and {} more error(s): `cargo workshop check {:02} --all` shows them.",
                    run.errors.len() - shown,
                    step.number
                )
            )
        );
    }
}

fn print_results(workshop: &Workshop, step: &Step, run: &TestRun, verbosity: CheckOptions) {
    println!();
    for exercise in &step.exercises {
        let outcomes: Vec<_> = run
            .of_target(&exercise.test)
            .filter(|o| o.status != Status::Ignored)
            .collect();
        let passed = outcomes
            .iter()
            .filter(|o| o.status == Status::Passed)
            .count();
        let mark = if !outcomes.is_empty() && passed == outcomes.len() {
            paint(PASS, "✓")
        } else {
            paint(FAIL, "✗")
        };
        println!(
            " {mark} {:<14} {passed}/{} {}",
            exercise.name,
            outcomes.len(),
            paint(DIM, step.exercise_dir().join(&exercise.file).display())
        );
    }
    let failed: Vec<_> = run
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .collect();
    if failed.is_empty() {
        return;
    }
    // Show the failures of the first failing exercise: one thing at a time, in the
    // order the tests are written, which is the order they teach in.
    let order = |o: &crate::testrun::TestOutcome| {
        let exercise = step.exercises.iter().position(|e| e.test == o.target);
        (
            exercise.unwrap_or(usize::MAX),
            declared_at(workshop, step, o),
        )
    };
    let mut failed = failed;
    failed.sort_by_key(|o| order(o));
    let first_target = failed[0].target.clone();
    let shown: Vec<_> = failed
        .iter()
        .filter(|o| verbosity.all || o.target == first_target)
        .collect();
    println!();
    // Tests that fail with the same message (typically the same `todo!`) are shown
    // together: one message to read, not five copies of it.
    let mut groups: Vec<(Option<&String>, Vec<&crate::testrun::TestOutcome>)> = Vec::new();
    for outcome in &shown {
        match groups
            .iter_mut()
            .find(|(m, _)| *m == outcome.message.as_ref())
        {
            Some((_, members)) => members.push(outcome),
            None => groups.push((outcome.message.as_ref(), vec![outcome])),
        }
    }
    for (message, members) in groups {
        for outcome in &members {
            println!(
                " {} {} {}",
                paint(FAIL, "✗"),
                outcome.name,
                paint(DIM, format!("(tests/{}.rs)", outcome.target))
            );
        }
        if let Some(message) = message {
            for line in message
                .lines()
                .take(if verbosity.all { usize::MAX } else { 30 })
            {
                println!("     {line}");
            }
        }
        println!();
    }
    let hidden = failed.len() - shown.len();
    if hidden > 0 {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "...and {hidden} more failing test(s) in later exercises, which often use this one, so fix it first (`cargo workshop check {:02} --all` shows them).",
                    step.number
                )
            )
        );
    }
    println!(
        "{} of {} tests pass. Stuck? `cargo workshop hint {:02}`. Chapter: {}",
        run.passed(),
        run.passed() + run.failed(),
        step.number,
        paint(PATH, step.chapter().display())
    );
}

/// `hint [STEP]`: one more hint for the first exercise that does not pass yet.
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

/// `reset STEP`: puts the exercise back as generated. Everything it replaces is
/// copied to `target/workshop/backup/` first, and it asks before throwing work away.
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

/// Asks a yes/no question on the terminal. Without a terminal there is nobody to
/// ask, so the answer is no and the caller says how to pass `--yes`.
fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "not asking without a terminal: pass --yes to replace the files (they are backed up first)"
        );
    }
    print!("{question}");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// Copies the existing files among `paths` (relative to the root) into a new
/// directory under `target/workshop/backup/`. Returns that directory, or `None`
/// when none of the files existed.
pub fn backup_files(workshop: &Workshop, paths: &[PathBuf]) -> Result<Option<PathBuf>> {
    let existing: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| workshop.path(p).is_file())
        .collect();
    if existing.is_empty() {
        return Ok(None);
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut dir = workshop.path(format!("target/workshop/backup/{stamp}"));
    let mut n = 1;
    while dir.exists() {
        dir = workshop.path(format!("target/workshop/backup/{stamp}-{n}"));
        n += 1;
    }
    for path in existing {
        let to = dir.join(path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::copy(workshop.path(path), &to)
            .with_context(|| format!("cannot back up {} to {}", path.display(), to.display()))?;
    }
    Ok(Some(
        dir.strip_prefix(&workshop.root)
            .unwrap_or(&dir)
            .to_path_buf(),
    ))
}

/// The reference solution's source files as a learner reads them.
fn solution_sources(workshop: &Workshop, step: &Step) -> Result<Vec<(PathBuf, String)>> {
    Ok(generate::generate_step(workshop, step, Variant::Solution)?
        .into_iter()
        .filter(|(path, _)| path.starts_with("src") || path == Path::new("build.rs"))
        .collect())
}

/// `diff STEP`: the learner's sources beside the reference, as unified diffs.
pub fn diff(workshop: &Workshop, step: &Step) -> Result<()> {
    let mut same = 0;
    for (relative, reference) in solution_sources(workshop, step)? {
        let mine_path = step.exercise_dir().join(&relative);
        let mine = std::fs::read_to_string(workshop.path(&mine_path)).unwrap_or_default();
        if mine == reference {
            same += 1;
            continue;
        }
        let theirs = step.solution_dir().join(&relative);
        let text_diff = similar::TextDiff::from_lines(&mine, &reference);
        let rendered = text_diff
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("yours: {}", mine_path.display()),
                &format!("reference: {}", theirs.display()),
            )
            .to_string();
        for line in rendered.lines() {
            let style = if line.starts_with("---") || line.starts_with("+++") {
                TITLE
            } else if line.starts_with('-') {
                FAIL
            } else if line.starts_with('+') {
                PASS
            } else if line.starts_with("@@") {
                PATH
            } else {
                anstyle::Style::new()
            };
            println!("{}", paint(style, line));
        }
        println!();
    }
    if same > 0 {
        println!(
            "{}",
            paint(
                DIM,
                format!("{same} file(s) are the same as the reference.")
            )
        );
    }
    println!(
        "{}",
        paint(
            DIM,
            "`-` lines are yours, `+` lines the reference's. Different is not wrong: if your tests pass, read the reference for ideas, not for marks."
        )
    );
    Ok(())
}

/// `solution STEP`: prints the reference solution's sources.
pub fn solution(workshop: &Workshop, step: &Step) -> Result<()> {
    for (relative, text) in solution_sources(workshop, step)? {
        println!(
            "{} {}\n",
            paint(TITLE, "==>"),
            paint(PATH, step.solution_dir().join(&relative).display())
        );
        println!("{}", text.trim_end());
        println!();
    }
    println!(
        "{}",
        paint(
            DIM,
            format!(
                "The whole crate is in {}; the book shows it at book/src/solutions/{}.md. `cargo workshop diff {:02}` compares it with yours.",
                step.solution_dir().display(),
                step.id(),
                step.number
            )
        )
    );
    Ok(())
}

/// Where a test is declared in its file (a byte position), so failures can be shown
/// in the order their file teaches; tests that cannot be found come last.
fn declared_at(workshop: &Workshop, step: &Step, outcome: &crate::testrun::TestOutcome) -> usize {
    let file = workshop
        .path(step.exercise_dir())
        .join("tests")
        .join(format!("{}.rs", outcome.target));
    let name = outcome.name.rsplit("::").next().unwrap_or(&outcome.name);
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| text.find(&format!("fn {name}(")))
        .unwrap_or(usize::MAX)
}

/// The line generation puts at the top of each exercise's `lib.rs` to keep the
/// unfinished stubs quiet; once the step passes it has done its job.
const STUB_ALLOW_NOTE: &str = "Delete this line when you are done.";

fn remind_to_remove_allow(workshop: &Workshop, step: &Step) {
    let lib = step.exercise_dir().join("src/lib.rs");
    let still_there = std::fs::read_to_string(workshop.path(&lib))
        .is_ok_and(|text| text.contains(STUB_ALLOW_NOTE));
    if still_there {
        println!(
            "Tidy up: at the top of {}, delete the `#![allow(...)]` line, the comment above it and one blank line; they only kept the unfinished stubs quiet.",
            paint(PATH, lib.display())
        );
    }
}

/// Compiler warnings in the learner's own files: all of them once the tests pass
/// (a passing step with an unused import is not quite done), a count before that.
fn print_warnings(step: &Step, run: &TestRun, in_full: bool) {
    let dir = step.exercise_dir().to_string_lossy().replace('\\', "/");
    let mine: Vec<&String> = run
        .warnings
        .iter()
        .filter(|w| w.replace('\\', "/").contains(&format!("--> {dir}/")))
        .collect();
    if mine.is_empty() {
        return;
    }
    if in_full {
        println!(
            "\n{} the compiler warns about your code:\n",
            paint(WARN, "Note:")
        );
        for warning in mine {
            println!("{warning}\n");
        }
    } else {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "({} compiler warning(s) in your code; `cargo workshop check {:02} --all` shows them.)",
                    mine.len(),
                    step.number
                )
            )
        );
    }
}
