//! `diff STEP` and `solution STEP`: the learner's code beside the reference.

use std::path::{Path, PathBuf};

use anstream::println;
use anyhow::Result;

use crate::generate::{self, Variant};
use crate::manifest::{Step, Workshop};
use crate::ui::{DIM, FAIL, PASS, PATH, TITLE, paint};

/// The reference solution's source files as a learner reads them.
fn solution_sources(workshop: &Workshop, step: &Step) -> Result<Vec<(PathBuf, String)>> {
    Ok(generate::generate_step(workshop, step, Variant::Solution)?
        .into_iter()
        .filter(|(path, _)| path.starts_with("src") || path == Path::new("build.rs"))
        .collect())
}

/// `diff STEP`: the learner's sources beside the reference, as unified diffs.
/// Both sides are formatted by rustfmt when it is installed, so a line break or
/// a blank line (such as the one a removed stub leaves) is not a difference.
pub fn diff(workshop: &Workshop, step: &Step) -> Result<()> {
    let mut same = 0;
    let mut unformatted = Vec::new();
    for (relative, reference) in solution_sources(workshop, step)? {
        let reference = if relative.extension().is_some_and(|e| e == "rs") {
            format_rust(workshop, &reference).unwrap_or(reference)
        } else {
            reference
        };
        let mine_path = step.exercise_dir().join(&relative);
        let as_written = std::fs::read_to_string(workshop.path(&mine_path)).unwrap_or_default();
        let mine = if relative.extension().is_some_and(|e| e == "rs") {
            match format_rust(workshop, &as_written) {
                Some(formatted) => {
                    if formatted != as_written {
                        unformatted.push(mine_path.clone());
                    }
                    formatted
                }
                None => as_written,
            }
        } else {
            as_written
        };
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
    if !unformatted.is_empty() {
        println!(
            "{}",
            paint(
                DIM,
                format!(
                    "Your code was compared as rustfmt formats it ({} file(s) are laid out differently); `cargo fmt -p {}` formats them.",
                    unformatted.len(),
                    step.exercise_crate()
                )
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

/// `text` as rustfmt lays it out with the exercises' settings
/// (`steps/rustfmt.toml`), as `verify` keeps the reference; `None` when it
/// cannot (a syntax error, no rustfmt), and then the text is compared as it is.
fn format_rust(workshop: &Workshop, text: &str) -> Option<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut command = Command::new("rustfmt");
    command.args(["--edition", "2024", "--quiet"]);
    let config = workshop.path("steps/rustfmt.toml");
    if config.is_file() {
        command.arg("--config-path").arg(config);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
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
