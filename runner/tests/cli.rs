//! The runner as a learner and a maintainer use it: the real binary, run in a small
//! workshop made in a temporary directory (one step, no dependencies, so cargo
//! builds it in about a second).

mod common;

use common::*;
use std::process::Command;

#[test]
fn generation_writes_the_stub_and_renames_the_crate() {
    let w = tiny_workshop();
    let lib = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert!(lib.contains("todo!(\"double it (chapter 00)\")"), "{lib}");
    assert!(
        !lib.contains("x * 2"),
        "the solution leaked into the exercise:\n{lib}"
    );
    let test = std::fs::read_to_string(w.path().join("steps/00-tiny/tests/double.rs")).unwrap();
    assert!(test.contains("step00_tiny::double"), "{test}");
}

#[test]
fn an_unknown_step_is_a_clear_error_not_a_panic() {
    let w = tiny_workshop();
    let out = workshop(w.path(), &["check", "17"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("there is no step \"17\""), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn outside_a_workshop_the_error_says_where_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = workshop(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cannot find workshop.toml"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_broken_manifest_is_reported_with_its_path() {
    let w = tiny_workshop();
    write(w.path(), "workshop.toml", "[[steps]]\nnumber = \"zero\"\n");
    let out = workshop(w.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("workshop.toml is not a valid manifest"),
        "{}",
        text(&out)
    );
}

#[test]
fn verify_notices_an_exercise_that_drifted_from_its_solution() {
    let w = tiny_workshop();
    let clean = workshop(w.path(), &["verify", "--no-tests"]);
    assert!(clean.status.success(), "{}", text(&clean));
    assert!(text(&clean).contains("verify: "), "{}", text(&clean));

    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    let drifted = workshop(w.path(), &["verify", "--no-tests"]);
    assert_eq!(drifted.status.code(), Some(1), "{}", text(&drifted));
    assert!(
        text(&drifted).contains("steps/00-tiny/src/lib.rs differs from what generation produces"),
        "{}",
        text(&drifted)
    );
}

#[test]
fn check_runs_the_tests_and_shows_the_failure_then_the_pass() {
    let w = tiny_workshop();
    let out = workshop(w.path(), &["check", "0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("✗ doubles"), "{shown}");
    assert!(
        shown.contains("not yet implemented: double it (chapter 00)"),
        "{shown}"
    );
    assert!(shown.contains("0 of 1 tests pass"), "{shown}");

    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    let out = workshop(w.path(), &["check", "tiny"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Step 00 is done"), "{}", text(&out));
    let progress = workshop(w.path(), &[]);
    assert!(text(&progress).contains("done"), "{}", text(&progress));
}

#[test]
fn a_compile_error_is_shown_instead_of_test_results() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { \"two\" }\n",
    );
    let out = workshop(w.path(), &["check", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out);
    assert!(shown.contains("does not compile yet"), "{shown}");
    assert!(shown.contains("error[E0308]"), "{shown}");
}

#[test]
fn edited_tests_are_noticed_and_the_step_is_not_done() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    write(
        w.path(),
        "steps/00-tiny/tests/double.rs",
        "#[test]\nfn doubles() {}\n",
    );
    let out = workshop(w.path(), &["check", "0"]);
    let shown = text(&out);
    assert!(shown.contains("these test files differ"), "{shown}");
    assert!(!shown.contains("Step 00 is done"), "{shown}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn reset_backs_up_the_learners_work_before_restoring() {
    let w = tiny_workshop();
    let mine = "pub fn double(x: u32) -> u32 { x + x }\n";
    write(w.path(), "steps/00-tiny/src/lib.rs", mine);

    // Without a terminal and without --yes, nothing is thrown away.
    let refused = workshop(w.path(), &["reset", "0"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let still = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert_eq!(still, mine);

    let out = workshop(w.path(), &["reset", "0", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let restored = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert!(restored.contains("todo!"), "{restored}");
    let backups: Vec<_> = walk(&w.path().join(".workshop/backups"))
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t == mine))
        .collect();
    assert_eq!(
        backups.len(),
        1,
        "the learner's version must be in the backup"
    );
}

#[test]
fn hints_come_one_at_a_time() {
    let w = tiny_workshop();
    let first = text(&workshop(w.path(), &["hint", "0"]));
    assert!(
        first.contains("Multiply by two.") && !first.contains("`x * 2`"),
        "{first}"
    );
    let second = text(&workshop(w.path(), &["hint", "0"]));
    assert!(second.contains("`x * 2`"), "{second}");
}

#[test]
fn diff_shows_the_reference_beside_the_learners_code() {
    let w = tiny_workshop();
    let out = text(&workshop(w.path(), &["diff", "0"]));
    assert!(out.contains("+    x * 2"), "{out}");
    assert!(
        out.contains("-    todo!(\"double it (chapter 00)\")"),
        "{out}"
    );
}

#[test]
fn a_test_that_never_ends_is_stopped_and_reported() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { loop { std::hint::spin_loop(); if x == u32::MAX { return 0; } } }\n",
    );
    let out = workshop(w.path(), &["check", "0", "--timeout", "2"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("(tests/double.rs) were still running after 2 s"),
        "{shown}"
    );
    // The endless test binary must not outlive the check (a zombie left for
    // init to reap runs nothing, so it does not count).
    let still_running: Vec<String> = Command::new("pgrep")
        .args(["-f", &w.path().join("target").display().to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .split_whitespace()
        .filter(|pid| running(pid))
        .map(str::to_owned)
        .collect();
    assert!(
        still_running.is_empty(),
        "the stopped test binary is still running: {still_running:?}"
    );
}

#[test]
fn a_test_file_the_learner_added_blocks_the_step_and_reset_tests_removes_it() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    let mine = "#[test]\nfn my_own() {}\n";
    write(w.path(), "steps/00-tiny/tests/mine.rs", mine);
    // proptest's regression files are the tests' own notes, never a change.
    write(
        w.path(),
        "steps/00-tiny/tests/double.proptest-regressions",
        "cc 123\n",
    );
    let out = workshop(w.path(), &["check", "0"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("steps/00-tiny/tests/mine.rs"), "{shown}");
    assert!(!shown.contains("proptest-regressions"), "{shown}");

    let out = workshop(w.path(), &["reset", "0", "--tests", "--yes"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(!shown.contains("nothing to reset"), "{shown}");
    assert!(
        !w.path().join("steps/00-tiny/tests/mine.rs").exists(),
        "reset --tests must remove a test file the learner added"
    );
    let kept = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert!(
        kept.contains("x * 2"),
        "reset --tests keeps the code: {kept}"
    );
    let backed_up = walk(w.path()).into_iter().any(|p| {
        p.ends_with("tests/mine.rs") && std::fs::read_to_string(&p).is_ok_and(|t| t == mine)
    });
    assert!(backed_up, "the removed test file must be in a backup");

    let out = workshop(w.path(), &["check", "0"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_stack_overflow_is_a_failure_named_in_words_never_done() {
    let w = tiny_workshop_with_tests(TWO_TESTS);
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { if x == 0 { return double(x) + 1; } x * 2 }\n",
    );
    let out = workshop(w.path(), &["check", "0"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(!shown.contains("is done"), "{shown}");
    assert!(!shown.contains("does not compile"), "{shown}");
    assert!(
        shown.contains("the tests of `double` crashed: stack overflow in your code"),
        "{shown}"
    );
    let progress = text(&workshop(w.path(), &[]));
    assert!(!progress.contains("done"), "{progress}");
}

#[test]
fn a_hang_in_one_test_while_the_other_passes_never_marks_the_step_done() {
    let w = tiny_workshop_with_tests(TWO_TESTS);
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { while x == 0 { std::thread::sleep(std::time::Duration::from_millis(50)); } x * 2 }\n",
    );
    let out = workshop(w.path(), &["check", "0", "--timeout", "2"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("still running after 2 s"), "{shown}");
    assert!(
        shown.contains("1/2"),
        "the hung test counts as failing: {shown}"
    );
    assert!(
        shown.contains("The test that never finished: `zero_doubled_is_zero`"),
        "{shown}"
    );
    let progress = text(&workshop(w.path(), &[]));
    assert!(!progress.contains("done"), "{progress}");
}

#[test]
fn an_exercise_whose_tests_do_not_run_is_not_done() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    // Cargo stops finding tests/double.rs: the tests file is untouched, yet none run.
    let manifest = w.path().join("steps/00-tiny/Cargo.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text_before.replace(
            "edition = \"2024\"",
            "edition = \"2024\"\nautotests = false",
        ),
    )
    .unwrap();
    let out = workshop(w.path(), &["check", "0"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("the tests of `double` did not run"),
        "{shown}"
    );
    assert!(!shown.contains("is done"), "{shown}");
    let progress = text(&workshop(w.path(), &[]));
    assert!(
        progress.contains("some crashed, hung or did not run"),
        "{progress}"
    );
}

/// Whether a process is still running (a zombie waiting for its parent counts as
/// gone: it runs nothing). Elsewhere than Linux, any process counts.
fn running(pid: &str) -> bool {
    if cfg!(target_os = "linux") {
        alive(pid)
    } else {
        true
    }
}

/// Whether a process is still alive (a zombie waiting for its parent counts as
/// gone: it runs nothing).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_to_the_runner_stops_cargo_and_the_test_binary() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { std::thread::sleep(std::time::Duration::from_secs(120)); x * 2 }\n",
    );
    let mut runner = Command::new(env!("CARGO_BIN_EXE_workshop"))
        .current_dir(w.path())
        .args(["check", "0"])
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", w.path().join("target"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the runner starts");
    let test_binary = w.path().join("target/debug/deps/double-");
    let find = |pattern: &str| -> Vec<String> {
        let out = Command::new("pgrep")
            .args(["-f", pattern])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // Wait until the test binary runs (after cargo built it).
    let started = std::time::Instant::now();
    let mut binaries = Vec::new();
    while binaries.is_empty() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the test binary never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        binaries = find(&format!("^{}", test_binary.display()));
    }
    let cargo: Vec<String> = Command::new("pgrep")
        .args(["-P", &runner.id().to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert!(!cargo.is_empty(), "cargo test runs under the runner");

    let status = Command::new("kill")
        .args(["-TERM", &runner.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    runner.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for pid in cargo.iter().chain(&binaries) {
        assert!(
            !alive(pid),
            "process {pid} (cargo test or the test binary) outlived the runner"
        );
    }
}

#[test]
fn tests_that_fail_the_same_way_are_announced_above_their_message() {
    let w = tiny_workshop_with_tests(TWO_TESTS);
    let out = workshop(w.path(), &["check", "0"]);
    let shown = text(&out);
    let header = shown
        .find("These 2 tests fail the same way:")
        .unwrap_or_else(|| panic!("no group header: {shown}"));
    let message = shown.find("not yet implemented").unwrap();
    assert!(
        header < message,
        "the header comes above the message: {shown}"
    );
    assert_eq!(shown.matches("not yet implemented").count(), 1, "{shown}");
}

#[test]
fn inside_a_step_check_means_that_step_and_when_all_is_done_it_congratulates() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    let out = workshop(&w.path().join("steps/00-tiny/src"), &["check"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("Checking step 00-tiny"), "{shown}");

    // Every step is done: no error, a well done.
    let out = workshop(&w.path().join("steps/00-tiny/src"), &["check"]);
    assert!(
        text(&out).contains("Checking step 00-tiny"),
        "inside a step, check checks it even when it is done: {}",
        text(&out)
    );
    for command in [&["check"][..], &["hint"], &[]] {
        let out = workshop(w.path(), command);
        let shown = text(&out);
        assert!(out.status.success(), "{command:?}: {shown}");
        assert!(
            shown.contains("every step of the workshop passes"),
            "{command:?}: {shown}"
        );
        assert!(!shown.contains("error"), "{command:?}: {shown}");
    }
}

#[test]
fn usage_lines_say_cargo_workshop() {
    let w = tiny_workshop();
    let help = text(&workshop(w.path(), &["--help"]));
    assert!(help.contains("Usage: cargo workshop [COMMAND]"), "{help}");
    let check_help = text(&workshop(w.path(), &["check", "--help"]));
    assert!(
        check_help.contains("Usage: cargo workshop check [OPTIONS] [STEP]"),
        "{check_help}"
    );
}

#[test]
fn check_all_says_which_steps_pass_and_succeeds_only_when_all_do() {
    let w = tiny_workshop();
    let out = workshop(w.path(), &["check", "--all"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("not started"), "{shown}");
    assert!(shown.contains("0 of 1 steps pass"), "{shown}");

    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    let out = workshop(w.path(), &["check", "--all"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("1 of 1 steps pass"), "{shown}");
    assert!(shown.contains("1 of 1 tests pass"), "{shown}");
}

#[cfg(unix)]
#[test]
fn doctor_asks_for_this_machines_crates_only() {
    use std::os::unix::fs::PermissionsExt;
    let w = tiny_workshop();
    // A cargo that has every crate of this platform and none of the others.
    let fake = w.path().join("fake-cargo");
    std::fs::write(
        &fake,
        "#!/bin/sh\ncase \"$*\" in *fetch*--target*) exit 0;; *fetch*) exit 101;; esac\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_workshop"))
        .current_dir(w.path())
        .arg("doctor")
        .env("NO_COLOR", "1")
        .env("CARGO", &fake)
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(shown.contains("the workshop works offline"), "{shown}");
}

#[test]
fn a_reset_survives_cargo_clean_and_restore_puts_the_work_back() {
    let w = tiny_workshop();
    let mine = "pub fn double(x: u32) -> u32 { x + x }\n";
    write(w.path(), "steps/00-tiny/src/lib.rs", mine);
    let out = workshop(w.path(), &["reset", "0", "--yes"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let command = shown
        .lines()
        .find_map(|l| {
            l.split('`')
                .find(|part| part.starts_with("cargo workshop restore "))
        })
        .unwrap_or_else(|| panic!("reset must say how to restore: {shown}"))
        .to_owned();

    // What `cargo clean` deletes.
    std::fs::remove_dir_all(w.path().join("target")).ok();

    let listed = text(&workshop(w.path(), &["restore", "--list"]));
    assert!(listed.contains("steps/00-tiny/src/lib.rs"), "{listed}");
    let args: Vec<&str> = command.split_whitespace().skip(2).collect();
    let mut with_yes = args.clone();
    with_yes.push("--yes");
    let out = workshop(w.path(), &with_yes);
    let shown = text(&out);
    assert!(out.status.success(), "{command}: {shown}");
    let back = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert_eq!(back, mine, "restore puts the learner's version back");
    assert!(
        shown.contains("undoes this"),
        "restore backs up what it replaces: {shown}"
    );
    let gitignore =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../.gitignore")).unwrap();
    assert!(
        gitignore.lines().any(|l| l.trim() == "/.workshop/"),
        "backups must never be committed"
    );
}

#[test]
fn diff_compares_formatted_code_so_layout_alone_is_no_difference() {
    let w = tiny_workshop();
    // The reference's code, on one line and with a stray blank line.
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "\n\npub fn double(x: u32) -> u32 { x * 2 }\n",
    );
    let out = text(&workshop(w.path(), &["diff", "0"]));
    assert!(
        out.contains("1 file(s) are the same as the reference"),
        "{out}"
    );
    assert!(!out.contains("+    x * 2"), "{out}");
    assert!(out.contains("cargo fmt -p step00-tiny"), "{out}");
}

#[test]
fn a_progress_cache_that_does_not_match_the_files_is_ignored() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 { x + 1 }\n",
    );
    // A cache that claims the step passed, for other files than these.
    write(
        w.path(),
        "target/workshop/progress.toml",
        "[steps.00-tiny]\nfingerprint = \"0000000000000000\"\ncompiled = true\npassed = 1\ntotal = 1\ntests_changed = false\nall_ran = true\n",
    );
    let shown = text(&workshop(w.path(), &[]));
    assert!(!shown.contains("done"), "{shown}");
    assert!(shown.contains("edited, not checked"), "{shown}");
}
