//! `watch` as a learner uses it: the real binary, in a throwaway two-step
//! workshop, fed saves and lines. Without a terminal keys come as lines; on
//! Linux, util-linux's `script` gives watch a terminal, for the single keys.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `watch` whose output is collected as it arrives.
struct Watch {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Watch {
    fn start(root: &std::path::Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_workshop"));
        command.arg("watch");
        Self::spawn(root, command)
    }

    fn spawn(root: &std::path::Path, mut command: Command) -> Self {
        let mut child = command
            .current_dir(root)
            .env("NO_COLOR", "1")
            .env("CARGO_TARGET_DIR", root.join("target"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the runner starts");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut all = output.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
            });
        }
        Watch { child, output }
    }

    /// Waits until the output after byte `from` contains `needle`; returns the
    /// position after it.
    fn wait_for(&self, from: usize, needle: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            {
                let all = self.output.lock().unwrap();
                if let Some(at) = all[from..].find(needle) {
                    return from + at + needle.len();
                }
                assert!(
                    Instant::now() < deadline,
                    "watch never printed {needle:?}; it printed:\n{all}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn type_line(&mut self, line: &str) {
        self.type_keys(&format!("{line}\n"));
    }

    fn type_keys(&mut self, keys: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        write!(stdin, "{keys}").unwrap();
        stdin.flush().unwrap();
    }

    fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "watch did not quit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_moves_on_when_a_step_passes_and_rechecks_any_step_that_is_saved() {
    let w = two_step_workshop();
    let mut watch = Watch::start(w.path());
    let at = watch.wait_for(0, "━━ check 1 · ");
    let at = watch.wait_for(at, "UTC · step 00: A tiny step ━━");
    let at = watch.wait_for(at, "Watching step 00");

    // Reading a file is an event on Linux (cargo reads every step's Cargo.toml),
    // but it changes nothing and must not start a check.
    std::fs::read_to_string(w.path().join("steps/01-half/Cargo.toml")).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !watch.output.lock().unwrap().contains("━━ check 2"),
        "reading a file of step 01 started a check:\n{}",
        watch.output.lock().unwrap()
    );

    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n",
    );
    let at = watch.wait_for(at, "You saved steps/00-tiny/src/lib.rs.");
    let at = watch.wait_for(at, "Step 00 is done");
    let at = watch.wait_for(at, "step 01: Half of it ━━");
    let at = watch.wait_for(at, "Step 00 passes, so watch moves on to step 01.");
    let at = watch.wait_for(at, "not yet implemented: halve it (chapter 01)");
    let at = watch.wait_for(at, "Watching step 01");

    // Back to the first step: its save checks it, although watch is on step 01.
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    x * 3\n}\n",
    );
    let at = watch.wait_for(at, "step 00: A tiny step ━━");
    let at = watch.wait_for(at, "21 doubled is 42");
    let at = watch.wait_for(at, "Watching step 00");

    // Keys without a terminal come as lines: h shows the hint of the step watched.
    watch.type_line("h");
    watch.wait_for(at, "Multiply by two.");
    let all = watch.output.lock().unwrap().clone();
    assert_eq!(
        all.matches("━━ check ").count(),
        4,
        "four checks: the first, the save, the move to step 01 and the save in \
         step 00; cargo reading a step's files is not a save:\n{all}"
    );
    watch.type_line("q");
    assert!(watch.wait_for_exit().success(), "q must end watch cleanly");
}

#[cfg(target_os = "linux")]
#[test]
fn in_a_terminal_single_keys_act_without_enter_and_the_terminal_is_restored() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("util-linux's script is not installed: skipping");
        return;
    }
    let w = tiny_workshop();
    // `script` runs watch in a terminal of its own, then `stty` shows whether
    // that terminal is back in line mode (icanon) after watch quits.
    let mut command = Command::new("script");
    command.args(["-q", "-f", "-e", "-c"]).arg(format!(
        "'{}' watch; stty -a",
        env!("CARGO_BIN_EXE_workshop")
    ));
    command.arg("/dev/null");
    let mut watch = Watch::spawn(w.path(), command);
    let at = watch.wait_for(0, "Enter: check again · h: hint · q: quit");
    watch.type_keys("h");
    let at = watch.wait_for(at, "Multiply by two.");
    watch.type_keys("q");
    assert!(watch.wait_for_exit().success(), "q must end watch cleanly");
    let all = watch.output.lock().unwrap().clone();
    assert!(
        all.contains("\x1b[2J"),
        "in a terminal each check starts on a cleared screen:\n{all}"
    );
    let after = &all[at..];
    assert!(
        after.contains(" icanon") && !after.contains("-icanon"),
        "after watch quits, the terminal must be back in line mode:\n{after}"
    );
}

#[test]
fn a_first_build_says_it_is_building_and_a_rebuild_of_the_step_alone_does_not() {
    let w = workshop_with_a_dependency();
    let first = text(&workshop(w.path(), &["check", "0"]));
    assert!(
        first.contains("Building what the step needs; the first time this takes a minute or two"),
        "a build of the dependencies must say so, not leave the screen blank:\n{first}"
    );
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    x * helper::two()\n}\n",
    );
    let again = text(&workshop(w.path(), &["check", "0"]));
    assert!(
        !again.contains("Building what the step needs"),
        "recompiling the step alone is quick and needs no notice:\n{again}"
    );
}

#[test]
fn waiting_for_another_cargos_build_lock_is_said_not_silent() {
    use fs4::fs_std::FileExt;
    let w = tiny_workshop();
    // A first check creates the build directory and its lock file.
    workshop(w.path(), &["check", "0"]);
    let lock = std::fs::File::open(w.path().join("target/debug/.cargo-lock"))
        .expect("cargo's lock file in the build directory");
    FileExt::lock_exclusive(&lock).expect("the lock, as another cargo would hold it");
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        FileExt::unlock(&lock).expect("the lock is released");
    });
    let shown = text(&workshop(w.path(), &["check", "0"]));
    release.join().unwrap();
    assert!(
        shown.contains("Waiting for another cargo to finish with the build directory"),
        "{shown}"
    );
}

#[test]
fn when_every_step_passes_watch_congratulates_and_ends() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n",
    );
    assert!(workshop(w.path(), &["check", "0"]).status.success());
    let out = workshop(w.path(), &["watch"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("every step of the workshop passes"),
        "a finished workshop is congratulated, not watched forever:\n{shown}"
    );
}

/// Bytes the process `pid` has read so far (Linux counts them in /proc).
#[cfg(target_os = "linux")]
fn bytes_read(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("rchar:"))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(target_os = "linux")]
#[test]
fn an_idle_watch_reads_no_file() {
    let w = two_step_workshop();
    let watch = Watch::start(w.path());
    let at = watch.wait_for(0, "Watching step 00");
    // Let the events of the check itself (cargo reads every step's files) pass.
    std::thread::sleep(Duration::from_millis(1500));
    let Some(before) = bytes_read(watch.child.id()) else {
        eprintln!("/proc/PID/io cannot be read here: skipping");
        return;
    };
    std::thread::sleep(Duration::from_secs(3));
    let after = bytes_read(watch.child.id()).expect("/proc/PID/io was readable a moment ago");
    assert!(
        after - before < 1024,
        "an idle watch read {} bytes in 3 s: reading a file is a file event on \
         Linux, and a watch that looks at the files on every event keeps reading \
         them (and using a core) forever",
        after - before
    );
    let all = watch.output.lock().unwrap().clone();
    assert!(
        !all[at..].contains("━━ check 2"),
        "nobody saved, yet watch checked again:\n{all}"
    );
}

#[test]
fn a_save_names_the_file_that_changed() {
    let w = two_step_workshop();
    let watch = Watch::start(w.path());
    let at = watch.wait_for(0, "Watching step 00");
    // Something (cargo, an editor) reads the test file just before the learner
    // saves the source: the read must not be taken for the save.
    std::fs::read_to_string(w.path().join("steps/00-tiny/tests/double.rs")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    x + 1\n}\n",
    );
    let at = watch.wait_for(at, "━━ check 2");
    watch.wait_for(at, "Watching step 00");
    let all = watch.output.lock().unwrap().clone();
    assert!(
        all[at..].contains("You saved steps/00-tiny/src/lib.rs."),
        "watch must name the file whose contents changed:\n{all}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn q_during_a_check_that_hangs_stops_its_tests_and_ends_watch() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    std::thread::sleep(std::time::Duration::from_secs(60));\n    x * 2\n}\n",
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_workshop"));
    command
        .arg("watch")
        .env("WORKSHOP_STILL_RUNNING_NOTICE_MS", "300");
    let mut watch = Watch::spawn(w.path(), command);
    // Wait until cargo has built the step and its test binary sleeps.
    let pattern = format!("^{}", w.path().join("target/debug/deps/double-").display());
    let deadline = Instant::now() + Duration::from_secs(60);
    let binaries = loop {
        let found = Command::new("pgrep")
            .args(["-f", &pattern])
            .output()
            .unwrap();
        let found: Vec<String> = String::from_utf8_lossy(&found.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !found.is_empty() {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the sleeping test binary never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let at = watch.wait_for(0, "The tests of `double` are still running after 0.3 s");
    watch.wait_for(at, "(or q in watch) stops them now.");

    watch.type_line("q");
    let started = Instant::now();
    let status = watch.wait_for_exit();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "q must stop the check at once, not when the time limit does"
    );
    assert!(status.success(), "q ends watch cleanly");
    std::thread::sleep(Duration::from_millis(300));
    for pid in &binaries {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // A zombie runs nothing; only a live process counts.
        let zombie = state
            .rsplit(") ")
            .next()
            .is_some_and(|s| s.starts_with('Z'));
        assert!(
            state.is_empty() || zombie,
            "the test binary {pid} outlived watch"
        );
    }
    let all = watch.output.lock().unwrap().clone();
    assert!(all.contains("Stopped the check; watch ends."), "{all}");
}

#[cfg(target_os = "linux")]
#[test]
fn in_a_terminal_q_alone_stops_a_check_that_hangs_and_the_terminal_is_restored() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("util-linux's script is not installed: skipping");
        return;
    }
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    std::thread::sleep(std::time::Duration::from_secs(60));\n    x * 2\n}\n",
    );
    let mut command = Command::new("script");
    command
        .args(["-q", "-f", "-e", "-c"])
        .arg(format!(
            "'{}' watch; stty -a",
            env!("CARGO_BIN_EXE_workshop")
        ))
        .arg("/dev/null")
        .env("WORKSHOP_STILL_RUNNING_NOTICE_MS", "300");
    let mut watch = Watch::spawn(w.path(), command);
    let at = watch.wait_for(0, "(or q in watch) stops them now.");
    // Let the key reader settle after the notice; then q, without Enter.
    std::thread::sleep(Duration::from_millis(300));
    watch.type_keys("q");
    let at = watch.wait_for(at, "Stopped the check; watch ends.");
    assert!(watch.wait_for_exit().success(), "q must end watch cleanly");
    let all = watch.output.lock().unwrap().clone();
    let after = &all[at..];
    assert!(
        after.contains(" icanon") && !after.contains("-icanon") && after.contains(" echo "),
        "after watch quits, the terminal must be back in line mode with echo:\n{after}"
    );
}
