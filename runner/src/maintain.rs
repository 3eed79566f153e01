//! The maintainer commands: `generate` writes the exercises and generated book pages
//! from the solutions, `verify` checks everything CI checks about the steps.

use std::path::{Path, PathBuf};
use std::process::Command;

use anstream::println;
use anyhow::{Context, Result};

use crate::backup::backup_files;
use crate::edits::{self, ChangeKind};
use crate::generate::{self, Drift, Files, Variant};
use crate::manifest::{Step, Workshop};
use crate::testrun::{self, Crash, Problem, Status, cargo};
use crate::ui::{DIM, FAIL, PASS, TITLE, WARN, paint};

/// `generate [STEP] [--force]`: rewrites `steps/NN-slug/` and the generated book
/// pages, of one step or of all.
///
/// `steps/` is also where learners work, and someone may run this in a checkout
/// with their work in it (the issue that made this rule: six edited exercise files
/// overwritten and a learner's own file deleted, with no question asked). So it
/// refuses when a step holds work, unless `force`; and whatever it replaces or
/// removes is backed up first either way.
pub fn generate_steps(workshop: &Workshop, only: Option<&Step>, force: bool) -> Result<()> {
    let chosen = |step: &&Step| only.is_none_or(|o| o.number == step.number);
    let mut record = generate::GeneratedRecord::load(workshop);
    let mut plan: Vec<(PathBuf, generate::Files, bool)> = Vec::new();
    let mut work = Vec::new();
    for step in workshop.steps().iter().filter(chosen) {
        let files = generate::generate_step(workshop, step, Variant::Exercise)?;
        let found = work_in_step(workshop, &record, step, &files)?;
        if !found.is_empty() {
            work.push((step, found));
        }
        plan.push((step.exercise_dir(), files, true));
    }
    if !work.is_empty() && !force {
        anyhow::bail!("{}", refusal(&work, only));
    }
    let mut pages = Files::new();
    for step in workshop.steps().iter().filter(chosen) {
        pages.extend(generate::generate_step_pages(workshop, step)?);
    }
    plan.push((PathBuf::new(), pages, false));

    let mut replaced = Vec::new();
    for (dir, files, whole_dir) in &plan {
        for drift in generate::compare(&workshop.root, dir, files, *whole_dir)? {
            if let Drift::Changed(p) | Drift::Extra(p) = drift {
                replaced.push(p);
            }
        }
    }
    if let Some(backup) = backup_files(workshop, &replaced)? {
        println!("Replaced files are backed up in {}.", backup.display());
    }
    for (dir, files, whole_dir) in &plan {
        if *whole_dir {
            for drift in generate::compare(&workshop.root, dir, files, true)? {
                if let Drift::Extra(p) = drift {
                    std::fs::remove_file(workshop.path(&p))
                        .with_context(|| format!("cannot remove {}", p.display()))?;
                }
            }
        }
        generate::write_files(&workshop.path(dir), files)?;
        for (relative, text) in files {
            record.remember(&dir.join(relative), text);
        }
    }
    // Without the record the next run falls back on git, so a failure here costs
    // at most a `--force`: worth a warning, not an error.
    if let Err(e) = record.save(workshop) {
        anstream::eprintln!("{} {e:#}", paint(WARN, "warning:"));
    }
    println!(
        "Generated {} exercise crate(s) and their book pages ({} existing files changed).",
        plan.len() - 1,
        replaced.len()
    );
    Ok(())
}

/// A file in `steps/` that generation would overwrite or delete, and that holds
/// someone's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// A generated file whose content is neither what generation produces now nor
    /// anything it produced before.
    Changed(PathBuf),
    /// A file generation does not make (a learner's own test or module).
    Added(PathBuf),
}

impl std::fmt::Display for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Work::Changed(p) => write!(f, "{} (edited)", p.display()),
            Work::Added(p) => write!(
                f,
                "{} (not made by the workshop; would be deleted)",
                p.display()
            ),
        }
    }
}

/// The work in `step` that writing `files` (its fresh generation) would destroy:
/// the learner's changes by the one rule ([`edits::changes_against`]), less
/// what generation itself wrote before. A file differing from generation is
/// not work when generation wrote it earlier (the record of this machine), or
/// when it is both the committed version and what generation makes from the
/// committed solution: that is the previous exercise of a solution a maintainer
/// has since changed. A learner's committed edits are still work. A removed file is not work either:
/// generating it back loses nothing.
fn work_in_step(
    workshop: &Workshop,
    record: &generate::GeneratedRecord,
    step: &Step,
    files: &Files,
) -> Result<Vec<Work>> {
    let mut work = Vec::new();
    for change in edits::changes_against(workshop, step, files)? {
        if change.kind == ChangeKind::Removed {
            continue;
        }
        let bytes = std::fs::read(workshop.path(&change.path))
            .with_context(|| format!("cannot read {}", change.path.display()))?;
        if record.wrote(&change.path, &bytes)
            || generate::generated_from_committed_solution(workshop, step, &change.path, &bytes)
        {
            continue;
        }
        work.push(if change.kind == ChangeKind::Added {
            Work::Added(change.path)
        } else {
            Work::Changed(change.path)
        });
    }
    Ok(work)
}

/// Why `generate` stops, which files it protects, and the commands for each reader.
fn refusal(work: &[(&Step, Vec<Work>)], only: Option<&Step>) -> String {
    let ids: Vec<String> = work.iter().map(|(step, _)| step.id()).collect();
    let (noun, verb) = if ids.len() == 1 {
        ("step", "holds")
    } else {
        ("steps", "hold")
    };
    let mut text = format!(
        "not generating: {noun} {} {verb} work that generation would overwrite:\n",
        ids.join(", ")
    );
    for (_, files) in work {
        for file in files {
            text.push_str(&format!("  {file}\n"));
        }
    }
    let command = match only {
        Some(step) => format!("cargo workshop generate {:02} --force", step.number),
        None => "cargo workshop generate --force".to_owned(),
    };
    text.push_str(&format!(
        "Learners: keep your work; `generate` is for maintainers who changed a solution.\n\
         Maintainers: to replace these files anyway (they are backed up first), run `{command}`."
    ));
    text
}

/// What `verify` found: one line per check.
#[derive(Default)]
struct Report {
    passed: usize,
    failed: Vec<String>,
}

impl Report {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        if ok {
            self.passed += 1;
            println!(" {} {what}", paint(PASS, "✓"));
        } else {
            println!(" {} {what}", paint(FAIL, "✗"));
            self.failed.push(what);
        }
    }
}

/// `verify`: every check of CONTRIBUTING.md, for every step. Returns whether all
/// passed. With `run_tests` false only the fast checks run (structure, drift).
pub fn verify(workshop: &Workshop, run_tests: bool) -> Result<bool> {
    let mut report = Report::default();

    println!("{}", paint(TITLE, "Structure"));
    structure(workshop, &mut report)?;

    println!("{}", paint(TITLE, "Generated files match the solutions"));
    for step in workshop.steps() {
        let files = generate::generate_step(workshop, step, Variant::Exercise)?;
        let drift = generate::compare(&workshop.root, &step.exercise_dir(), &files, true)?;
        report_drift(
            &mut report,
            &format!(
                "{} is generated from its solution",
                step.exercise_dir().display()
            ),
            &drift,
        );
    }
    let pages = generate::generate_book_pages(workshop)?;
    let drift = generate::compare(&workshop.root, Path::new(""), &pages, false)?;
    report_drift(
        &mut report,
        "the book's hint and solution pages are generated",
        &drift,
    );
    let steps_drifted = report.failed.iter().any(|f| f.starts_with("steps"));

    println!("{}", paint(TITLE, "What the learner is given"));
    for step in workshop.steps() {
        let files = generate::generate_step(workshop, step, Variant::Exercise)?;
        stubs_name_their_chapter(step, &files, &mut report);
        doctests_are_off(step, &files, &mut report);
    }
    summary_lists_every_page(workshop, &mut report)?;
    minimum_rust_agrees(workshop, &mut report)?;

    println!("{}", paint(TITLE, "Formatting"));
    let status = Command::new(cargo())
        .current_dir(&workshop.root)
        .args(["fmt", "--all", "--check"])
        .status()
        .context("cannot start `cargo fmt` (install it with `rustup component add rustfmt`)")?;
    report.check(status.success(), "cargo fmt --all --check");

    if run_tests {
        println!(
            "{}",
            paint(
                TITLE,
                "The runner, the cross-step tests and the capstone's crates"
            )
        );
        // The capstone's crates are no step crates, so the loop over the steps
        // below does not test them: the service (its tests start the real
        // program), the benchmarks' wiring and charts, and the fault run (its
        // checker, each known bug found, 2,000 clean schedules: about 30 s).
        let status = Command::new(cargo())
            .current_dir(&workshop.root)
            .args([
                "test",
                "--package",
                "workshop",
                "--package",
                "cross-step-tests",
                // The benchmarks themselves only run by hand.
                "--package",
                "capstone-bench",
                "--package",
                "capstone-faults",
                "--package",
                "capstone",
            ])
            .status()
            .context("cannot start cargo")?;
        report.check(
            status.success(),
            "cargo test -p workshop -p cross-step-tests -p capstone-bench -p capstone-faults -p capstone",
        );

        println!(
            "{}",
            paint(
                TITLE,
                "Each solution passes; each fresh exercise compiles and fails"
            )
        );
        for step in workshop.steps() {
            solution_passes(workshop, step, &mut report)?;
            exercise_fails(workshop, step, &mut report)?;
        }
    }

    println!();
    if !report.failed.is_empty() {
        println!("{}", paint(FAIL, "Failed checks:"));
        for what in &report.failed {
            println!("  - {what}");
        }
        if steps_drifted {
            // verify is also what a learner finds in README: their own work makes
            // steps/ differ from generation, and the advice must not destroy it.
            println!(
                "{}",
                paint(
                    DIM,
                    "steps/ differs from what generation makes. Learners: that is your work, keep it; \
                     `cargo workshop check --all` shows which steps pass, and `cargo workshop restore` \
                     brings back a backed-up version. Maintainers only: `cargo workshop generate` \
                     rewrites the exercises after you change a solution."
                )
            );
        }
    }
    // A closing line that CI and people can both read.
    println!(
        "verify: {} passed, {} failed",
        report.passed,
        report.failed.len()
    );
    Ok(report.failed.is_empty())
}

/// Every `todo!` of an exercise says which chapter explains the task, as
/// "(chapter NN)": a learner who meets it in a failing test knows where to read.
fn stubs_name_their_chapter(step: &Step, files: &Files, report: &mut Report) {
    let wanted = format!("(chapter {:02})", step.number);
    let mut without = Vec::new();
    for (relative, text) in files {
        if relative.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        for message in todo_messages(text) {
            if !message.contains(&wanted) {
                without.push(format!(
                    "{}: todo!({message})",
                    step.exercise_dir().join(relative).display()
                ));
            }
        }
    }
    if without.is_empty() {
        report.check(
            true,
            format!("every stub of step {} names {wanted}", step.id()),
        );
    } else {
        report.check(
            false,
            format!(
                "every stub of step {} names {wanted}; these do not: {}",
                step.id(),
                without.join("; ")
            ),
        );
    }
}

/// The arguments of every `todo!(...)` in `text`, across lines, with their
/// whitespace collapsed. Comment lines are skipped: a comment may mention
/// `todo!()` without being a stub.
fn todo_messages(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut messages = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("todo!(") {
        let after = &rest[at + "todo!(".len()..];
        let mut depth = 1;
        let mut in_string = false;
        let mut escaped = false;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let argument = after[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        messages.push(argument.trim_end_matches(',').to_owned());
        rest = &after[end..];
    }
    messages
}

/// Step crates keep doctests off: rustdoc compiles each doctest on its own, which
/// costs seconds on every check a learner runs (see CONTRIBUTING.md).
fn doctests_are_off(step: &Step, files: &Files, report: &mut Report) {
    let off = files
        .get(Path::new("Cargo.toml"))
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|manifest| {
            manifest
                .get("lib")?
                .get("doctest")
                .and_then(toml::Value::as_bool)
        })
        == Some(false);
    report.check(
        off,
        format!(
            "{} has `doctest = false` in its [lib] section",
            step.exercise_crate()
        ),
    );
}

/// Where the workshop tells learners which Rust they need.
const MINIMUM_RUST_STATED_IN: &[&str] = &["README.md", "book/src/setup.md"];

/// The Rust a learner is promised ("1.88 or newer" in README and the setup
/// chapter) is the workspace's `rust-version`, which cargo enforces and `doctor`
/// reads: one promise, stated the same everywhere. CI tests on that version when
/// it is installed (see CONTRIBUTING.md).
fn minimum_rust_agrees(workshop: &Workshop, report: &mut Report) -> Result<()> {
    let declared = std::fs::read_to_string(workshop.path("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|manifest| {
            let package = match manifest.get("workspace") {
                Some(workspace) => workspace.get("package")?.clone(),
                None => manifest.get("package")?.clone(),
            };
            package.get("rust-version")?.as_str().map(str::to_owned)
        });
    for file in MINIMUM_RUST_STATED_IN {
        let Ok(text) = std::fs::read_to_string(workshop.path(file)) else {
            continue;
        };
        for stated in stated_minimums(&text) {
            let agrees = declared.as_deref() == Some(stated.as_str());
            report.check(
                agrees,
                format!(
                    "{file} promises Rust {stated} or newer, and the workspace's rust-version is {}",
                    declared.as_deref().unwrap_or("not set")
                ),
            );
        }
    }
    Ok(())
}

/// Every version in "X.Y or newer" in `text`.
fn stated_minimums(text: &str) -> Vec<String> {
    text.match_indices(" or newer")
        .filter_map(|(at, _)| {
            let version = text[..at]
                .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
                .next()?;
            let version = version.trim_matches('.');
            (version.contains('.') && version.chars().next()?.is_ascii_digit())
                .then(|| version.to_owned())
        })
        .collect()
}

/// The book's table of contents links every chapter and every generated solution
/// page: mdBook builds only the pages SUMMARY.md lists, so a page left out is a
/// page no learner can reach.
fn summary_lists_every_page(workshop: &Workshop, report: &mut Report) -> Result<()> {
    let summary_path = Path::new("book/src/SUMMARY.md");
    let summary = match std::fs::read_to_string(workshop.path(summary_path)) {
        Ok(text) => text,
        Err(e) => {
            report.check(
                false,
                format!("{} can be read ({e})", summary_path.display()),
            );
            return Ok(());
        }
    };
    let linked: Vec<&str> = summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.trim().trim_start_matches("./"))
        .collect();
    let mut missing = Vec::new();
    for step in workshop.steps() {
        for page in [step.chapter(), generate::solution_page_path(step)] {
            let in_book = page.strip_prefix("book/src").unwrap_or(&page);
            let in_book = in_book.to_string_lossy().replace('\\', "/");
            if !linked.contains(&in_book.as_str()) {
                missing.push(in_book);
            }
        }
    }
    report.check(
        missing.is_empty(),
        if missing.is_empty() {
            format!(
                "{} lists every chapter and solution page",
                summary_path.display()
            )
        } else {
            format!(
                "{} lists every chapter and solution page; missing: {}",
                summary_path.display(),
                missing.join(", ")
            )
        },
    );
    Ok(())
}

fn report_drift(report: &mut Report, what: &str, drift: &[Drift]) {
    if drift.is_empty() {
        report.check(true, what);
    } else {
        let details: Vec<String> = drift.iter().map(ToString::to_string).collect();
        report.check(false, format!("{what}: {}", details.join("; ")));
    }
}

/// Every step has its directories, chapter, files and tests; nothing is in
/// `steps/` or `solutions/` that the manifest does not list.
fn structure(workshop: &Workshop, report: &mut Report) -> Result<()> {
    for parent in ["steps", "solutions"] {
        let listed: Vec<String> = workshop.steps().iter().map(Step::id).collect();
        let dir = workshop.path(parent);
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            // Only crate directories are steps; `rustfmt.toml` sits beside them.
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            report.check(
                listed.contains(&name),
                format!("{parent}/{name} is listed in workshop.toml"),
            );
        }
    }
    for step in workshop.steps() {
        // The reminder to delete the stubs' `allow` once the step passes
        // looks for this line (`report::stub_allow_left`).
        let lib = step.exercise_dir().join("src/lib.rs");
        report.check(
            std::fs::read_to_string(workshop.path(&lib))
                .is_ok_and(|text| crate::report::stub_allow_left(&text)),
            format!(
                "{} has the stubs' `#![allow(unused_variables...)]` line",
                lib.display()
            ),
        );
        report.check(
            workshop.path(step.chapter()).is_file(),
            format!(
                "step {} has its chapter {}",
                step.id(),
                step.chapter().display()
            ),
        );
        for exercise in &step.exercises {
            let file = step.solution_dir().join(&exercise.file);
            let test = step.solution_dir().join(step.test_file(exercise));
            report.check(
                workshop.path(&file).is_file() && workshop.path(&test).is_file(),
                format!(
                    "exercise {}/{} has its file {} and its tests {}",
                    step.id(),
                    exercise.name,
                    file.display(),
                    test.display()
                ),
            );
        }
    }
    Ok(())
}

fn solution_passes(workshop: &Workshop, step: &Step, report: &mut Report) -> Result<()> {
    let run = testrun::run_cargo_test(
        &workshop.root,
        &step.solution_crate(),
        testrun::DEFAULT_TEST_LIMIT,
        step.test_threads,
    )?;
    if !run.compiled {
        println!(
            "{}",
            run.errors
                .first()
                .map(String::as_str)
                .unwrap_or(&run.output)
        );
        report.check(false, format!("{} compiles", step.solution_crate()));
        return Ok(());
    }
    for outcome in run.outcomes.iter().filter(|o| o.status == Status::Failed) {
        println!(
            "   {} {} ({}): {}",
            paint(FAIL, "✗"),
            outcome.name,
            outcome.target,
            outcome
                .message
                .as_deref()
                .unwrap_or("")
                .lines()
                .collect::<Vec<_>>()
                .join(" / ")
        );
    }
    report.check(
        run.failed() == 0,
        format!(
            "{} passes all {} tests",
            step.solution_crate(),
            run.passed() + run.failed()
        ),
    );
    // A binary that crashes or stops early reports no failure for the tests it
    // never ran, so "nothing failed" is not enough: every test must have run.
    for exercise in &step.exercises {
        let count = run.of_target(&exercise.test).count();
        let what = format!(
            "exercise {}/{} has tests ({count}) and they all ran",
            step.id(),
            exercise.name
        );
        match run.problem(&exercise.test) {
            None => report.check(count > 0, what),
            Some(problem) => report.check(false, format!("{what}: {}", in_words(&problem))),
        }
    }
    Ok(())
}

/// A test binary's problem, in the few words a maintainer needs.
fn in_words(problem: &Problem) -> String {
    match problem {
        Problem::Missing => "its test binary did not run".to_owned(),
        Problem::Crashed(Crash::StackOverflow { test }) => match test {
            Some(test) => format!("the test binary crashed: stack overflow in {test}"),
            None => "the test binary crashed: stack overflow".to_owned(),
        },
        Problem::Crashed(Crash::Signal(signal)) => {
            format!("the test binary crashed: {signal}")
        }
        Problem::Crashed(Crash::Exit(status)) => {
            format!("the test binary stopped before the end ({status})")
        }
        Problem::TimedOut => "the test binary was stopped by the time limit".to_owned(),
        Problem::Incomplete {
            reported,
            announced,
        } => format!("the test binary reported {reported} of the {announced} tests it announced"),
    }
}

fn exercise_fails(workshop: &Workshop, step: &Step, report: &mut Report) -> Result<()> {
    let run = testrun::run_cargo_test(
        &workshop.root,
        &step.exercise_crate(),
        testrun::DEFAULT_TEST_LIMIT,
        step.test_threads,
    )?;
    if !run.compiled {
        println!(
            "{}",
            run.errors
                .first()
                .map(String::as_str)
                .unwrap_or(&run.output)
        );
    }
    report.check(
        run.compiled,
        format!("fresh {} compiles", step.exercise_crate()),
    );
    if !run.compiled {
        return Ok(());
    }
    for exercise in &step.exercises {
        let failing = run
            .of_target(&exercise.test)
            .filter(|o| o.status == Status::Failed)
            .count();
        report.check(
            failing > 0,
            format!(
                "fresh exercise {}/{} is not already solved ({failing} failing tests)",
                step.id(),
                exercise.name
            ),
        );
    }
    Ok(())
}

/// `measure-check STEP`: how long a learner waits after saving a file. Each run
/// marks the step's first exercise file as modified (its content is untouched: only
/// the modification time changes, which is what makes cargo rebuild) and times the
/// whole `cargo workshop check STEP`, the runner's own start included. One warm-up
/// run comes first, so a cold build is not counted.
pub fn measure_check(workshop: &Workshop, step: &Step, runs: usize) -> Result<()> {
    let file = workshop.path(step.exercise_dir().join(&step.exercises[0].file));
    let mut seconds = Vec::with_capacity(runs);
    for run in 0..=runs {
        let handle = std::fs::File::options()
            .append(true)
            .open(&file)
            .with_context(|| format!("cannot open {}", file.display()))?;
        handle
            .set_modified(std::time::SystemTime::now())
            .with_context(|| format!("cannot touch {}", file.display()))?;
        drop(handle);
        let started = std::time::Instant::now();
        let status = Command::new(cargo())
            .current_dir(&workshop.root)
            .args(["run", "--quiet", "--package", "workshop", "--", "check"])
            .arg(step.id())
            .stdout(std::process::Stdio::null())
            .status()
            .context("cannot start cargo")?;
        let elapsed = started.elapsed().as_secs_f64();
        // Exit code 1 means "tests fail", which a fresh exercise does; 2 is an error.
        if status.code() == Some(2) {
            anyhow::bail!("`cargo workshop check {}` failed", step.id());
        }
        if run == 0 {
            println!("warm-up: {elapsed:.2} s");
        } else {
            println!("run {run}: {elapsed:.2} s");
            seconds.push(elapsed);
        }
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    println!(
        "check {} after a save: median {median:.2} s over {runs} runs (min {:.2}, max {:.2})",
        step.id(),
        seconds[0],
        seconds[seconds.len() - 1]
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stated_minimum_rust_is_found_in_prose() {
        assert_eq!(
            stated_minimums("You need a Rust toolchain (1.88 or newer) and git, or newer tools."),
            vec!["1.88".to_owned()],
            "the version before \"or newer\", and nothing for words before it"
        );
    }

    #[test]
    fn todo_messages_are_read_across_lines_and_past_parentheses_in_strings() {
        let text = "fn a() {\n    todo!(\n        \"count the seats (chapter 03)\"\n    )\n}\n\
                    fn b() { todo!(\"a ) inside (chapter 04)\") }\nfn c() { todo!() }\n\
                    /// a doc comment that mentions `todo!()`\n";
        assert_eq!(
            todo_messages(text),
            vec![
                "\"count the seats (chapter 03)\"".to_owned(),
                "\"a ) inside (chapter 04)\"".to_owned(),
                String::new(),
            ],
            "each todo!'s whole argument, whitespace collapsed, and an empty one too"
        );
    }
}
