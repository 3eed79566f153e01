//! Running a crate's tests and reading what happened.
//!
//! The runner calls `cargo test` and reads its human-readable output rather than
//! libtest's JSON, which needs a nightly flag. Cargo's status lines (`Running
//! tests/apply.rs`) go to stderr and the tests' own lines to stdout; both are sent
//! into one pipe so they arrive in the order they were written, which is how each
//! test is matched to the test file, and so to the exercise, it belongs to.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    Ignored,
}

/// One test and, when it failed, what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test target: `apply` for `tests/apply.rs`, `unittests` or `doctests`.
    pub target: String,
    pub name: String,
    pub status: Status,
    /// The panic message and location of a failed test, without cargo's noise.
    pub message: Option<String>,
}

/// Everything a check needs to know about one `cargo test` run.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// False when the crate or its tests did not compile: no test ran.
    pub compiled: bool,
    /// Compiler errors, each as rustc rendered it.
    pub errors: Vec<String>,
    /// Compiler warnings, each as rustc rendered it (cargo replays them on a
    /// fresh build too, so they do not vanish after the first check).
    pub warnings: Vec<String>,
    pub outcomes: Vec<TestOutcome>,
    /// The whole output, for `--raw` and for anything the parser missed.
    pub output: String,
    /// The test target that was stopped for running too long, if one was.
    pub timed_out: Option<String>,
}

impl TestRun {
    pub fn passed(&self) -> usize {
        self.count(Status::Passed)
    }

    pub fn failed(&self) -> usize {
        self.count(Status::Failed)
    }

    fn count(&self, status: Status) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }

    /// The outcomes of one test target.
    pub fn of_target<'a>(&'a self, target: &'a str) -> impl Iterator<Item = &'a TestOutcome> + 'a {
        self.outcomes.iter().filter(move |o| o.target == target)
    }
}

/// How long one test binary may run before the check stops it. Counted per test
/// binary and only once cargo starts running it, so a slow first build is never
/// cut short. Generous: trybuild's tests compile programs while they run.
pub const DEFAULT_TEST_LIMIT: Duration = Duration::from_secs(120);

/// Runs `cargo test -p <package>` in `root` and reads the result. A test binary
/// that runs longer than `limit` (an endless loop, a future nobody wakes) is
/// stopped, and the run says which one.
pub fn run_cargo_test(root: &Path, package: &str, limit: Duration) -> Result<TestRun> {
    let (reader, writer) = std::io::pipe().context("cannot create a pipe for cargo's output")?;
    let writer_err = writer
        .try_clone()
        .context("cannot share cargo's output pipe")?;
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .args([
            "test",
            "--package",
            package,
            "--no-fail-fast",
            "--color",
            "never",
        ])
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_err);
    // A learner reads a short panic message, even with RUST_BACKTRACE set in the
    // shell; `cargo test -p <crate>` is there for the full story.
    command.env("RUST_BACKTRACE", "0");
    let mut child = command.spawn().context(
        "cannot start `cargo test`: is cargo on your PATH? (`cargo workshop doctor` checks)",
    )?;
    // The Command still holds the write ends; drop it so the reader sees the end
    // of the output when cargo and the test binaries are done.
    drop(command);

    // Lines arrive on a thread, so that this one can watch the clock.
    let (lines, arriving) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).split(b'\n') {
            let Ok(line) = line else { break };
            if lines
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    let mut output = String::new();
    let mut notice = crate::ui::BuildNotice::new(package);
    let mut running: Option<(String, Instant)> = None;
    let mut timed_out = None;
    loop {
        match arriving.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                notice.saw(&line);
                let trimmed = line.trim_start();
                if let Some(rest) = trimmed.strip_prefix("Running ") {
                    running = Some((target_name(rest), Instant::now()));
                } else if trimmed.starts_with("Doc-tests ") {
                    running = Some(("doctests".to_owned(), Instant::now()));
                }
                output.push_str(&line);
                output.push('\n');
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if let Some((target, since)) = &running
            && since.elapsed() > limit
        {
            timed_out = Some(target.clone());
            stop_tree(&mut child);
            break;
        }
    }
    let status = child.wait().context("cannot wait for cargo")?;
    let mut run = parse(&output);
    run.timed_out = timed_out;
    // Cargo exits non-zero both for failing tests and for a failed build; only the
    // second leaves compiler errors or no test result at all.
    if run.timed_out.is_none()
        && !status.success()
        && (!run.errors.is_empty() || !output.contains("test result:"))
    {
        run.compiled = false;
    }
    Ok(run)
}

/// Stops cargo and the test binary it is running. Killing cargo alone would leave
/// the test binary (its child) running, so its children go first, with the tool
/// each platform has for that.
fn stop_tree(child: &mut std::process::Child) {
    let pid = child.id().to_string();
    #[cfg(unix)]
    let _ = Command::new("pkill").args(["-KILL", "-P", &pid]).status();
    #[cfg(windows)]
    let _ = Command::new("taskkill")
        .args(["/PID", &pid, "/T", "/F"])
        .status();
    let _ = child.kill();
}

/// The cargo that started us (cargo sets `CARGO` for `cargo run`), so the same
/// toolchain builds the exercises; plain `cargo` otherwise.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Reads cargo's and libtest's combined output.
pub fn parse(output: &str) -> TestRun {
    let mut run = TestRun {
        compiled: true,
        output: output.to_owned(),
        ..TestRun::default()
    };
    let lines: Vec<&str> = output.lines().collect();
    let mut target = String::from("unknown");
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            target = target_name(rest);
        } else if let Some(rest) = trimmed.strip_prefix("Doc-tests ") {
            target = format!("doctests {}", rest.trim());
        } else if let Some((name, status)) = test_line(line) {
            run.outcomes.push(TestOutcome {
                target: target.clone(),
                name: name.to_owned(),
                status,
                message: None,
            });
        } else if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            let (message, next) = failure_message(&lines, i + 1);
            // The failure section lists tests by name within the current target.
            if let Some(outcome) = run
                .outcomes
                .iter_mut()
                .rev()
                .find(|o| o.target == target && o.name == name)
            {
                outcome.message = Some(message);
            }
            i = next;
            continue;
        } else if line.starts_with("error") && is_compiler_error(line) {
            let start = i;
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            run.errors.push(lines[start..i].join("\n"));
            continue;
        } else if line.starts_with("warning") && !line.contains(" generated ") {
            let start = i;
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            run.warnings.push(lines[start..i].join("\n"));
            continue;
        }
        i += 1;
    }
    if !run.errors.is_empty() {
        run.compiled = false;
    }
    run
}

/// `tests/apply.rs (target/debug/deps/apply-123)` gives `apply`;
/// `unittests src/lib.rs (...)` gives `unittests`.
fn target_name(rest: &str) -> String {
    let path = rest.split(" (").next().unwrap_or(rest).trim();
    if path.starts_with("unittests") {
        return "unittests".to_owned();
    }
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_owned())
}

/// `test name ... ok` and its siblings. Benchmarks and the summary line are not
/// tests.
fn test_line(line: &str) -> Option<(&str, Status)> {
    let rest = line.strip_prefix("test ")?;
    let (name, result) = rest.rsplit_once(" ... ")?;
    let status = match result.trim() {
        "ok" => Status::Passed,
        "FAILED" => Status::Failed,
        r if r.starts_with("ignored") => Status::Ignored,
        _ => return None,
    };
    Some((name.trim(), status))
}

/// The text of one failure section, from the line after its header to the next
/// header, keeping what a learner needs: the panic location and message.
fn failure_message(lines: &[&str], start: usize) -> (String, usize) {
    let mut end = start;
    while end < lines.len() {
        let line = lines[end];
        if (line.starts_with("---- ") && line.ends_with(" ----")) || line == "failures:" {
            break;
        }
        end += 1;
    }
    let kept: Vec<&str> = lines[start..end]
        .iter()
        .copied()
        .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE=1`"))
        // proptest's counters say how many cases ran, not what went wrong.
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with("successes:")
                || t.starts_with("local rejects:")
                || t.starts_with("global rejects:"))
        })
        .collect();
    let text = kept.join("\n").trim().to_owned();
    (tidy_panic(&text), end)
}

/// `thread 'x' (123) panicked at tests/a.rs:4:5:` becomes `at tests/a.rs:4:5`,
/// which is what a learner acts on.
fn tidy_panic(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("thread '")
            && let Some(at) = line.split(" panicked at ").nth(1)
        {
            out.push(format!("at {}", at.trim_end_matches(':')));
            continue;
        }
        out.push(line.to_owned());
    }
    out.join("\n")
}

/// rustc's `error[E0308]: ...` or `error: ...`, but not cargo's closing summaries,
/// which say nothing the errors above them did not.
fn is_compiler_error(line: &str) -> bool {
    !(line.starts_with("error: could not compile")
        || line.starts_with("error: test failed")
        || line.starts_with("error: 1 target failed")
        || line.contains("targets failed:")
        || line.starts_with("error: aborting due to"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILING: &str = "\
   Compiling step00-welcome v0.1.0 (/w/steps/00-welcome)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.50s
     Running tests/seats_left.rs (target/debug/deps/seats_left-0c1d)

running 2 tests
test free_seats_are_capacity_minus_sold ... FAILED
test a_sold_out_show_has_no_seats_left ... ok

failures:

---- free_seats_are_capacity_minus_sold stdout ----

thread 'free_seats_are_capacity_minus_sold' (4242) panicked at src/lib.rs:20:5:
not yet implemented: return how many seats are free
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    free_seats_are_capacity_minus_sold

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--test seats_left`
     Running tests/other.rs (target/debug/deps/other-99)

running 1 test
test free_seats_are_capacity_minus_sold ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: 1 target failed:
    `--test seats_left`
";

    #[test]
    fn outcomes_are_read_per_target_with_their_messages() {
        let run = parse(FAILING);
        assert!(run.compiled);
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        assert_eq!(run.outcomes.len(), 3);
        let failed = &run.outcomes[0];
        assert_eq!(failed.target, "seats_left");
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(
            failed.message.as_deref(),
            Some("at src/lib.rs:20:5\nnot yet implemented: return how many seats are free")
        );
        assert_eq!(run.outcomes[1].status, Status::Passed);
        assert_eq!(run.outcomes[2].target, "other");
        assert_eq!(
            run.outcomes[2].message, None,
            "a test of the same name in another target keeps no message"
        );
        assert_eq!((run.passed(), run.failed()), (2, 1));
    }

    #[test]
    fn a_compile_error_is_kept_whole_and_marks_the_run_as_not_compiled() {
        let output = "\
   Compiling step01-events v0.1.0
error[E0308]: mismatched types
  --> src/state.rs:3:5
   |
 3 |     1
   |     ^ expected `BookingState`, found integer

error: could not compile `step01-events` (lib) due to 1 previous error
";
        let run = parse(output);
        assert!(!run.compiled);
        assert_eq!(run.errors.len(), 1);
        assert!(run.errors[0].starts_with("error[E0308]: mismatched types"));
        assert!(run.errors[0].ends_with("expected `BookingState`, found integer"));
    }

    #[test]
    fn warnings_are_kept_but_cargo_summaries_are_not() {
        let output = "\
warning: unused import: `uuid::Uuid`
 --> steps/02-protobuf/src/to_wire.rs:5:5
  |
5 | use uuid::Uuid;
  |     ^^^^^^^^^^

warning: `step02-protobuf` (lib) generated 1 warning
";
        let run = parse(output);
        assert!(run.compiled);
        assert_eq!(run.warnings.len(), 1);
        assert!(run.warnings[0].contains("to_wire.rs:5:5"));
    }

    #[test]
    fn proptest_counters_are_left_out_of_a_failure_message() {
        let output = "\
---- every_read_is_replayable stdout ----
thread 'every_read_is_replayable' panicked at tests/read.rs:218:1:
Test failed: offsets must be dense at tests/read.rs:240.
minimal failing input: steps = []
\tsuccesses: 0
\tlocal rejects: 0
\tglobal rejects: 0

failures:
";
        let (message, _) = failure_message(&output.lines().collect::<Vec<_>>(), 1);
        assert!(!message.contains("rejects"), "{message}");
        assert!(
            message.contains("minimal failing input: steps = []"),
            "{message}"
        );
    }

    #[test]
    fn ignored_tests_and_summary_lines_are_not_confused() {
        let run = parse("test slow ... ignored, needs a server\ntest result: ok. 0 passed\n");
        assert_eq!(run.outcomes.len(), 1);
        assert_eq!(run.outcomes[0].status, Status::Ignored);
    }
}
