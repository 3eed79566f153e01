//! Terminal styles. `anstream` drops the colours when the output is not a terminal
//! or `NO_COLOR` is set, and translates them on old Windows consoles.

use std::time::Duration;

use anstyle::{AnsiColor, Style};

pub const PASS: Style = AnsiColor::Green.on_default();
pub const FAIL: Style = AnsiColor::Red.on_default();
pub const WARN: Style = AnsiColor::Yellow.on_default();
pub const TITLE: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const PATH: Style = AnsiColor::Cyan.on_default();

/// `text` in `style`, for use inside `anstream::println!`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// Keeps a learner company while cargo builds. A first build (or one after
/// `cargo clean`) compiles dozens of crates for a minute or more, and waiting on
/// another cargo's lock (an editor's rust-analyzer) can take as long; with
/// cargo's own progress bar hidden, both looked like a frozen screen. Fed every
/// line cargo prints, this says what is happening: in a terminal one line that
/// keeps count, otherwise one line when it starts.
pub struct BuildNotice {
    /// The crate being checked: compiling it alone is quick and needs no notice.
    package: String,
    compiled: usize,
    live: bool,
    /// A live line is on screen and has to be wiped before anything else prints.
    line_open: bool,
    said_building: bool,
    said_waiting: bool,
}

impl BuildNotice {
    pub fn new(package: &str) -> Self {
        use std::io::IsTerminal;
        Self {
            package: package.to_owned(),
            compiled: 0,
            live: std::io::stdout().is_terminal(),
            line_open: false,
            said_building: false,
            said_waiting: false,
        }
    }

    /// One line of cargo's output.
    pub fn saw(&mut self, line: &str) {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("Compiling ") {
            let name = rest.split_whitespace().next().unwrap_or(rest);
            if name == self.package {
                return;
            }
            self.compiled += 1;
            if self.live {
                let text = format!(
                    "Building what the step needs (the first time takes a minute or two): {} crates, now {name}",
                    self.compiled
                );
                let width = crossterm::terminal::size().map_or(80, |(w, _)| usize::from(w));
                let text: String = text.chars().take(width.saturating_sub(1)).collect();
                anstream::print!("\r\x1b[K{}", paint(DIM, text));
                let _ = std::io::Write::flush(&mut std::io::stdout());
                self.line_open = true;
            } else if !self.said_building {
                anstream::println!(
                    "{}",
                    paint(
                        DIM,
                        "Building what the step needs; the first time this takes a minute or two..."
                    )
                );
            }
            self.said_building = true;
        } else if line.starts_with("Blocking waiting for file lock") && !self.said_waiting {
            self.finish();
            anstream::println!(
                "{}",
                paint(
                    DIM,
                    "Waiting for another cargo to finish with the build directory (your editor's rust-analyzer, or another check)..."
                )
            );
            self.said_waiting = true;
        }
    }

    /// Wipes the live line, if there is one.
    pub fn finish(&mut self) {
        if self.line_open {
            anstream::print!("\r\x1b[K");
            let _ = std::io::Write::flush(&mut std::io::stdout());
            self.line_open = false;
        }
    }
}

impl Drop for BuildNotice {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Says that the tests of `target` have run for `after` and are still running,
/// so that a hang is not two minutes of silence: what may be wrong, and how to
/// stop them before the `limit` does.
pub fn still_running(target: &str, after: Duration, limit: Duration) {
    anstream::println!(
        "{}",
        paint(WARN, still_running_message(target, after, limit))
    );
}

fn still_running_message(target: &str, after: Duration, limit: Duration) -> String {
    let which = match target {
        "unittests" => "The tests in src/".to_owned(),
        "doctests" => "The examples in the documentation".to_owned(),
        name => format!("The tests of `{name}`"),
    };
    format!(
        "{which} are still running after {}: a loop that never ends, or a wait \
         that nothing wakes? They are stopped after {}; Ctrl-C (or q in watch) \
         stops them now.",
        seconds(after),
        seconds(limit)
    )
}

/// `10 s`, or `0.5 s` for the short delays the runner's tests use.
fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// Asks a yes/no question on the terminal. Without a terminal there is nobody to
/// ask, so this is an error that says to pass `--yes`.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    use anyhow::Context;
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_still_running_line_names_the_tests_and_says_how_to_stop_them() {
        let line = still_running_message(
            "seats_left",
            Duration::from_secs(10),
            Duration::from_secs(120),
        );
        assert_eq!(
            line,
            "The tests of `seats_left` are still running after 10 s: a loop that never \
             ends, or a wait that nothing wakes? They are stopped after 120 s; Ctrl-C \
             (or q in watch) stops them now.",
            "the line must say which tests, how long, what may be wrong and how to stop them"
        );
    }
}
