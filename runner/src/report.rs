//! Printing a [`CheckReport`]: what fails, in the order to fix it, and what next.

use anstream::println;

use crate::check::{CheckOptions, CheckReport, ExerciseLine};
use crate::manifest::{Step, Workshop};
use crate::testrun::{Crash, Problem};
use crate::ui::{DIM, FAIL, PASS, PATH, WARN, paint};

/// Prints the report of a check of `step`.
pub fn print(workshop: &Workshop, step: &Step, report: &CheckReport, options: CheckOptions) {
    if !report.changed_tests.is_empty() {
        println!(
            "\n{} these test files differ from the workshop's:",
            paint(WARN, "Note:")
        );
        for path in &report.changed_tests {
            println!("  {}", paint(PATH, path.display()));
        }
        println!(
            "The tests are how the workshop knows a step is done, so this step will not count as done \
             until they match. `cargo workshop reset {:02} --tests` restores them (your version is backed up first).",
            step.number
        );
    }
    if !report.compiled {
        print_compile_errors(step, report);
        return;
    }
    print_results(step, report, options);
    // A crash or a hang is the first thing to fix, and the compiler's warnings
    // often name its cause ("function cannot return without recursing").
    let crashed = report.exercises.iter().any(|e| e.problem.is_some());
    print_warnings(step, report, report.done || crashed || options.verbose);
    if report.done {
        println!(
            "\n{} Step {:02} is done. Compare with the reference: `cargo workshop diff {:02}`.",
            paint(PASS, "✓"),
            step.number,
            step.number
        );
        if report.allow_line_left {
            println!(
                "Tidy up: at the top of {}, delete the `#![allow(...)]` line, the comment above it and one blank line; they only kept the unfinished stubs quiet.",
                paint(PATH, step.exercise_dir().join("src/lib.rs").display())
            );
        }
        if report.all_steps_done {
            println!(
                "\n{}",
                paint(PASS, crate::learner::all_done_message(workshop))
            );
        } else if let Some(next) = report
            .next_step
            .and_then(|n| workshop.steps().iter().find(|s| s.number == n))
        {
            // A learner who started in the middle finishes a later step
            // before an earlier one: "next" would read as "start over".
            let words = if next.number < step.number {
                "Still to do, the first step not done yet"
            } else {
                "Next"
            };
            println!(
                "{words}: step {:02}, {} ({}).",
                next.number,
                next.title,
                paint(PATH, next.chapter().display())
            );
        }
    }
}

fn print_compile_errors(step: &Step, report: &CheckReport) {
    println!(
        "\n{} step {:02} does not compile yet. Fix the first error and check again:\n",
        paint(FAIL, "✗"),
        step.number
    );
    if let Some(output) = &report.cargo_output {
        // The parser found no rustc error: show cargo's own words rather than nothing.
        println!("{output}");
        return;
    }
    for error in &report.errors {
        println!("{error}\n");
    }
    if report.hidden_errors > 0 {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "...and {} more error(s): `cargo workshop check {:02} --verbose` shows them.",
                    report.hidden_errors, step.number
                )
            )
        );
    }
}

fn print_results(step: &Step, report: &CheckReport, options: CheckOptions) {
    println!();
    for exercise in &report.exercises {
        let mark = if exercise.passes() {
            paint(PASS, "✓")
        } else {
            paint(FAIL, "✗")
        };
        println!(
            " {mark} {:<14} {}/{} {}",
            exercise.name,
            exercise.passed,
            exercise.total,
            paint(DIM, exercise.file.display())
        );
    }
    for exercise in &report.exercises {
        if let Some(problem) = &exercise.problem {
            println!(
                "\n{} {}",
                paint(FAIL, "✗"),
                problem_in_words(step, exercise, problem, options.limit)
            );
        }
    }
    let crashed = report.exercises.iter().any(|e| e.problem.is_some());
    if report.groups.is_empty() {
        if crashed {
            print_summary(step, report);
        }
        return;
    }
    println!();
    for group in &report.groups {
        if group.tests.len() > 1 {
            println!(" These {} tests fail the same way:", group.tests.len());
        }
        for (name, target) in &group.tests {
            let file = match step.exercises.iter().find(|e| &e.test == target) {
                Some(exercise) => step.test_file(exercise).display().to_string(),
                None => format!("tests/{target}.rs"),
            };
            println!(
                " {} {} {}",
                paint(FAIL, "✗"),
                name,
                paint(DIM, format!("({file})"))
            );
        }
        if let Some(message) = &group.message {
            let limit = if options.verbose { usize::MAX } else { 30 };
            for line in message.lines().take(limit) {
                println!("     {line}");
            }
            println!();
        }
    }
    if report.groups.last().is_some_and(|g| g.message.is_none()) {
        println!();
    }
    if report.hidden_failures > 0 {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "...and {} more failing test(s) in later exercises; start with this one, as the chapter orders them (`cargo workshop check {:02} --verbose` shows them).",
                    report.hidden_failures, step.number
                )
            )
        );
    }
    print_summary(step, report);
}

fn print_summary(step: &Step, report: &CheckReport) {
    println!(
        "{} of {} tests pass. Stuck? `cargo workshop hint {:02}`. Chapter: {}",
        report.passed,
        report.total,
        step.number,
        paint(PATH, step.chapter().display())
    );
}

/// Why an exercise's tests do not all count, in words a learner can act on.
pub fn problem_in_words(
    step: &Step,
    exercise: &ExerciseLine,
    problem: &Problem,
    limit: std::time::Duration,
) -> String {
    let name = &exercise.name;
    let silent = match exercise.silent.as_slice() {
        [] => String::new(),
        [one] => format!(" The test that never finished: `{one}`."),
        many => format!(
            " The tests that never finished: {}.",
            many.iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let test_file = step
        .exercises
        .iter()
        .find(|e| &e.name == name)
        .map(|e| step.test_file(e).display().to_string())
        .unwrap_or_default();
    // In a step whose tests are one program, a module has no target of its
    // own, and a hang or crash anywhere stops every exercise's tests.
    let test_file = if step.one_test_binary {
        let module = step
            .exercises
            .iter()
            .find(|e| &e.name == name)
            .map_or(name, |e| &e.test);
        format!("{test_file} (or its `mod {module};` line in tests/exercises/main.rs)")
    } else {
        test_file
    };
    let shared = if step.one_test_binary {
        " The step's tests are one program, so the hang or crash may be in another exercise's tests."
    } else {
        ""
    };
    let words = match problem {
        Problem::Missing => format!(
            "the tests of `{name}` did not run: {test_file} is missing or is no longer a test. \
             `cargo workshop reset {:02} --tests` puts the workshop's tests back.",
            step.number
        ),
        Problem::Crashed(Crash::StackOverflow { test }) => format!(
            "the tests of `{name}` crashed: stack overflow in your code{} — a function that calls itself forever?",
            test.as_ref()
                .map(|t| format!(" (in the test `{t}`)"))
                .unwrap_or_default()
        ),
        Problem::Crashed(Crash::Signal(signal)) => {
            let guess = if signal.starts_with("SIGKILL") {
                "Out of memory? Look for a collection that grows forever."
            } else if signal.starts_with("SIGABRT") {
                "A panic inside a `Drop` while already panicking, or `std::process::abort`?"
            } else if signal.starts_with("SIGSEGV") || signal.starts_with("SIGBUS") {
                "An `unsafe` block reading memory it should not?"
            } else {
                "Something stopped the test program from outside, or your code ended it."
            };
            format!(
                "the tests of `{name}` crashed ({signal}) before they could all report, so they count as failing. {guess}{shared}"
            )
        }
        Problem::Crashed(Crash::Exit(status)) => format!(
            "the tests of `{name}` stopped before they could all report ({status}), so they count as failing. \
             Does your code call `std::process::exit`?{shared}"
        ),
        Problem::TimedOut => format!(
            "the tests of `{name}` ({test_file}) were still running after {} s, so the check stopped them; \
             they count as failing. Look for a loop that never ends, or a future that returns Pending and is never woken. \
             (`cargo workshop check {:02} --timeout SECONDS` changes the limit.){shared}",
            limit.as_secs(),
            step.number
        ),
        Problem::Incomplete { announced: 0, .. } => format!(
            "the tests of `{name}` reported no result at all, so they count as failing. \
             Does the step's Cargo.toml still run {test_file} as a test? `cargo workshop check {:02} --raw` shows cargo's whole output.",
            step.number
        ),
        Problem::Incomplete {
            reported,
            announced,
        } => format!(
            "only {reported} of the {announced} tests of `{name}` reported a result, so the others count as failing; \
             `cargo workshop check {:02} --raw` shows cargo's whole output.",
            step.number
        ),
    };
    if matches!(problem, Problem::Missing) {
        words
    } else {
        words + &silent
    }
}

/// How the line generation puts at the top of each exercise's `lib.rs` begins:
/// the `allow` that keeps the unfinished stubs quiet. Every step's starts with
/// `unused_variables`; the comment above it differs from step to step, and a
/// learner may have deleted the comment and kept the line.
pub const STUB_ALLOW_START: &str = "#![allow(unused_variables";

/// Whether the stubs' `allow` line is still in `lib` (the text of `lib.rs`).
pub fn stub_allow_left(lib: &str) -> bool {
    lib.lines()
        .any(|line| line.trim_start().starts_with(STUB_ALLOW_START))
}

/// Compiler warnings in the learner's own files: all of them once the tests pass
/// (a passing step with an unused import is not quite done), a count before that.
fn print_warnings(step: &Step, report: &CheckReport, in_full: bool) {
    if report.warnings.is_empty() {
        return;
    }
    if in_full {
        println!(
            "\n{} the compiler warns about your code:\n",
            paint(WARN, "Note:")
        );
        for warning in &report.warnings {
            println!("{warning}\n");
        }
    } else {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "({} compiler warning(s) in your code; `cargo workshop check {:02} --verbose` shows them.)",
                    report.warnings.len(),
                    step.number
                )
            )
        );
    }
}

/// The report in a few words, for `check --all`.
pub fn one_line(report: &CheckReport) -> String {
    if !report.compiled {
        return paint(FAIL, "does not compile");
    }
    let mut text = format!("{} of {} tests pass", report.passed, report.total);
    let problems = report
        .exercises
        .iter()
        .filter(|e| e.problem.is_some())
        .count();
    if problems > 0 {
        text.push_str(&format!(
            ", {problems} exercise(s) whose tests crashed, hung or did not run"
        ));
    }
    if !report.changed_tests.is_empty() {
        text.push_str(", with edited tests");
    }
    paint(if report.done { PASS } else { WARN }, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stubs_allow_is_found_with_or_without_its_comment() {
        let generated = "// The stubs below do not use their arguments yet.\n\
                         // Delete this `allow` when you are done.\n\
                         #![allow(unused_variables, unused_imports, dead_code)]\n\nmod a;\n";
        assert!(stub_allow_left(generated));
        assert!(stub_allow_left("#![allow(unused_variables)]\nmod a;\n"));
        assert!(
            !stub_allow_left("//! Step 15.\n\nmod a;\n#[allow(dead_code)]\nfn f() {}\n"),
            "a learner's own allow on an item is not the stubs' line"
        );
    }
}
