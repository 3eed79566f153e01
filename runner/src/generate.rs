//! Generating exercises from reference solutions.
//!
//! The solutions are the single source of truth. An exercise crate is its solution
//! with the marked solution regions replaced by their stubs and the crate renamed;
//! see CONTRIBUTING.md for the markers. Because the whole exercise is a function of
//! the solution, "is the committed exercise up to date?" and "has the learner
//! changed the tests?" are both answered by comparing files with what this module
//! produces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::manifest::{Step, Workshop};

/// A set of files: path relative to some directory, and text.
pub type Files = BTreeMap<PathBuf, String>;

/// What to produce from a solution file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The learner's starting point: solution regions replaced by their stubs.
    Exercise,
    /// The solution as a learner should read it: markers and stubs removed, solution
    /// kept, crate renamed like the exercise so a diff shows only real differences.
    Solution,
}

const SOLUTION: &str = "exercise: solution";
const STUB: &str = "exercise: stub";
const END: &str = "exercise: end";

/// Directories inside a solution crate that never become part of an exercise.
/// `benches/` measure the reference solution; `target/` and trybuild's `wip/` are
/// build output.
const NOT_COPIED: &[&str] = &["benches", "target", "wip"];

/// The comment that starts a marker line in a file of this kind, or `None` for
/// files that are copied verbatim (expected compiler output, data).
fn comment_prefix(path: &Path) -> Option<&'static str> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("rs" | "proto") => Some("//"),
        Some("toml") => Some("#"),
        _ => None,
    }
}

/// Applies the markers of one file. `label` names the file in errors.
pub fn transform(text: &str, comment: &str, variant: Variant, label: &str) -> Result<String> {
    #[derive(PartialEq)]
    enum Region {
        Outside,
        Solution,
        Stub,
    }
    let marker = |line: &str, name: &str| {
        line.trim()
            .strip_prefix(comment)
            .is_some_and(|rest| rest.trim() == name)
    };

    let mut out = String::with_capacity(text.len());
    let mut region = Region::Outside;
    let mut opened_at = 0;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if marker(line, SOLUTION) {
            if region != Region::Outside {
                bail!(
                    "{label}:{number}: `{SOLUTION}` inside a region opened at line {opened_at}; close it with `{END}` first"
                );
            }
            region = Region::Solution;
            opened_at = number;
        } else if marker(line, STUB) {
            if region != Region::Solution {
                bail!("{label}:{number}: `{STUB}` must follow `{SOLUTION}`");
            }
            region = Region::Stub;
        } else if marker(line, END) {
            if region == Region::Outside {
                bail!("{label}:{number}: `{END}` without an open region");
            }
            region = Region::Outside;
        } else {
            match (&region, variant) {
                (Region::Outside, _) | (Region::Solution, Variant::Solution) => {
                    out.push_str(line);
                    out.push('\n');
                }
                (Region::Stub, Variant::Exercise) => {
                    out.push_str(&uncomment(line, comment).with_context(|| {
                        format!("{label}:{number}: every line of a stub must be a comment")
                    })?);
                    out.push('\n');
                }
                (Region::Solution, Variant::Exercise) | (Region::Stub, Variant::Solution) => {}
            }
        }
    }
    if region != Region::Outside {
        bail!("{label}:{opened_at}: region is never closed with `{END}`");
    }
    Ok(out)
}

/// Removes one level of comment from a stub line, keeping its indentation.
fn uncomment(line: &str, comment: &str) -> Result<String> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let Some(rest) = body.strip_prefix(comment) else {
        bail!("{line:?} does not start with {comment:?}");
    };
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    if rest.is_empty() {
        Ok(String::new())
    } else {
        Ok(format!("{indent}{rest}"))
    }
}

/// Renames a step's own crate from its solution name to its exercise name, in both
/// spellings (`solution01-events` in Cargo.toml, `solution01_events` in Rust).
/// Other crates, such as the solutions of earlier steps, keep their names.
fn rename(text: &str, step: &Step) -> String {
    let package = step.solution_crate();
    text.replace(&package, &step.exercise_crate()).replace(
        &package.replace('-', "_"),
        &step.exercise_crate().replace('-', "_"),
    )
}

/// Lists the files of a solution crate that generation reads, relative to it.
pub fn solution_files(workshop: &Workshop, step: &Step) -> Result<Vec<PathBuf>> {
    let dir = workshop.path(step.solution_dir());
    if !dir.is_dir() {
        bail!(
            "step {} is in {} but {} does not exist. The runner tells your edits from the \
             workshop's by the exercise it makes from the reference solution, so it needs \
             the solution there (you need not read it): `git checkout -- {}` puts it back.",
            step.id(),
            crate::manifest::MANIFEST_FILE,
            step.solution_dir().display(),
            step.solution_dir().display()
        );
    }
    let mut files = Vec::new();
    walk(&dir, Path::new(""), &mut files)?;
    files.sort();
    Ok(files)
}

/// Every file under `dir`, relative to the crate, skipping build output.
pub fn walk(base: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let dir = base.join(relative);
    let entries =
        std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        // proptest writes `*.proptest-regressions` next to a failing test: the
        // learner's own failures, not part of the exercise.
        let local = name_str.starts_with('.') || name_str.ends_with(".proptest-regressions");
        if local || (relative.as_os_str().is_empty() && NOT_COPIED.contains(&name_str.as_ref())) {
            continue;
        }
        let path = relative.join(&name);
        if entry.file_type()?.is_dir() {
            walk(base, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Produces a step's crate from its solution: paths relative to the crate.
pub fn generate_step(workshop: &Workshop, step: &Step, variant: Variant) -> Result<Files> {
    let dir = workshop.path(step.solution_dir());
    let mut files = Files::new();
    for relative in solution_files(workshop, step)? {
        let path = dir.join(&relative);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
        let text = generate_file(step, &relative, &text, variant)?;
        files.insert(relative, text);
    }
    Ok(files)
}

/// What generation makes of one solution file, given its text: `relative` is
/// its path inside the crate. A pure text transformation (no rustfmt, nothing
/// outside the toolchain's `cargo`), because every learner command runs it to
/// tell a learner's changes from the workshop's.
fn generate_file(step: &Step, relative: &Path, text: &str, variant: Variant) -> Result<String> {
    let label = step.solution_dir().join(relative).display().to_string();
    let text = match comment_prefix(relative) {
        Some(comment) => transform(text, comment, variant, &label)?,
        None => text.to_owned(),
    };
    Ok(rename(&text, step))
}

/// The book pages made from the manifest and the solutions: one page of hints per
/// step, included by its chapter, and one page per reference solution. Paths are
/// relative to the workspace root.
pub fn generate_book_pages(workshop: &Workshop) -> Result<Files> {
    let mut pages = Files::new();
    for step in workshop.steps() {
        pages.extend(generate_step_pages(workshop, step)?);
    }
    Ok(pages)
}

/// The generated book pages of one step.
pub fn generate_step_pages(workshop: &Workshop, step: &Step) -> Result<Files> {
    let mut pages = Files::new();
    pages.insert(hints_page_path(step), hints_page(step));
    pages.insert(solution_page_path(step), solution_page(workshop, step)?);
    Ok(pages)
}

const GENERATED_NOTE: &str = "<!-- Generated by `cargo workshop generate` from workshop.toml and solutions/; do not edit. -->";

pub fn hints_page_path(step: &Step) -> PathBuf {
    Path::new("book/src/generated/hints").join(format!("{}.md", step.id()))
}

pub fn solution_page_path(step: &Step) -> PathBuf {
    Path::new("book/src/solutions").join(format!("{}.md", step.id()))
}

fn hints_page(step: &Step) -> String {
    let mut page = format!("{GENERATED_NOTE}\n");
    for exercise in &step.exercises {
        page.push_str(&format!(
            "\n#### Exercise `{}` (`{}`)\n",
            exercise.name,
            step.exercise_dir().join(&exercise.file).display()
        ));
        for (i, hint) in exercise.hints.iter().enumerate() {
            page.push_str(&format!(
                "\n<details>\n<summary>Hint {}</summary>\n\n{}\n\n</details>\n",
                i + 1,
                hint.trim()
            ));
        }
    }
    page
}

fn solution_page(workshop: &Workshop, step: &Step) -> Result<String> {
    let mut page = format!(
        "{GENERATED_NOTE}\n\n# Solution {:02}: {}\n\n\
         Try the exercise first: the point is the struggle, not the answer. When you \
         compare, run `cargo workshop diff {:02}` to see your code beside this one.\n\n\
         The lines `// exercise: solution` ... `// exercise: end` mark what the \
         exercise left out; the full crate is in `{}`.\n",
        step.number,
        step.title,
        step.number,
        step.solution_dir().display()
    );
    for relative in solution_files(workshop, step)? {
        let shown = relative.starts_with("src") || relative == Path::new("build.rs");
        if !shown {
            continue;
        }
        let language = match relative.extension().and_then(|e| e.to_str()) {
            Some("rs") => "rust,noplayground",
            Some("proto") => "protobuf",
            _ => "text",
        };
        let path = step.solution_dir().join(&relative);
        page.push_str(&format!(
            "\n## `{}`\n\n```{language}\n{{{{#include ../../../{}}}}}\n```\n",
            relative.display(),
            path.display().to_string().replace('\\', "/")
        ));
    }
    Ok(page)
}

/// One way in which what is on disk differs from what generation produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    Missing(PathBuf),
    Extra(PathBuf),
    Changed(PathBuf),
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(p) => write!(f, "{} is missing", p.display()),
            Drift::Extra(p) => write!(f, "{} is not produced by generation", p.display()),
            Drift::Changed(p) => write!(f, "{} differs from what generation produces", p.display()),
        }
    }
}

/// Compares the files under `dir` (relative to the root) with `expected`, whose
/// paths are relative to `dir`. With `whole_dir`, files on disk that generation
/// does not produce count too.
pub fn compare(root: &Path, dir: &Path, expected: &Files, whole_dir: bool) -> Result<Vec<Drift>> {
    let mut drift = Vec::new();
    for (relative, text) in expected {
        let shown = dir.join(relative);
        match std::fs::read_to_string(root.join(&shown)) {
            Ok(actual) if actual == *text => {}
            Ok(_) => drift.push(Drift::Changed(shown)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => drift.push(Drift::Missing(shown)),
            Err(_) => drift.push(Drift::Changed(shown)),
        }
    }
    if whole_dir && root.join(dir).is_dir() {
        let mut on_disk = Vec::new();
        walk(&root.join(dir), Path::new(""), &mut on_disk)?;
        for relative in on_disk {
            if !expected.contains_key(&relative) {
                drift.push(Drift::Extra(dir.join(relative)));
            }
        }
    }
    Ok(drift)
}

/// A stable 64-bit hash of a file's bytes (FNV-1a), for the record of what
/// generation wrote. Stable across runner builds and toolchains, unlike std's
/// hasher, so a record written by one build is read correctly by the next.
pub fn content_hash(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// What `generate` wrote on this machine: for each path (relative to the root,
/// with `/`), the hashes of every version it produced. A file on disk whose hash
/// is in here came from generation, not from a learner, so a maintainer who
/// changes a solution twice can regenerate twice without `--force`. A cache: when
/// `cargo clean` deletes it, git's committed version is the other witness.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct GeneratedRecord {
    #[serde(default)]
    pub files: BTreeMap<String, Vec<String>>,
}

impl GeneratedRecord {
    fn path(workshop: &Workshop) -> PathBuf {
        workshop.path("target/workshop/generated.toml")
    }

    /// The record, or an empty one when there is none or it cannot be read.
    pub fn load(workshop: &Workshop) -> Self {
        std::fs::read_to_string(Self::path(workshop))
            .ok()
            .and_then(|text| toml::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, workshop: &Workshop) -> Result<()> {
        let path = Self::path(workshop);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = toml::to_string(self).context("cannot write the record of generated files")?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Remembers that generation wrote `text` at `path` (relative to the root).
    pub fn remember(&mut self, path: &Path, text: &str) {
        let hashes = self.files.entry(slashed(path)).or_default();
        let hash = content_hash(text.as_bytes());
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }

    /// Whether generation once wrote exactly `bytes` at `path`.
    pub fn wrote(&self, path: &Path, bytes: &[u8]) -> bool {
        self.files
            .get(&slashed(path))
            .is_some_and(|hashes| hashes.contains(&content_hash(bytes)))
    }
}

/// A relative path with `/` on every platform, as git and the record spell it.
fn slashed(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Whether `bytes` (the file at `path`, relative to the workshop root, inside
/// `step`'s exercise) is what generation makes from the solution as git's last
/// commit holds it, and is also the committed version of the exercise file: the
/// previous exercise of a solution a maintainer has since changed, not a
/// learner's work. A learner's edits never match generation, committed or not.
/// `false` when git, the repository or either file is missing: then nothing
/// vouches for the file.
pub fn generated_from_committed_solution(
    workshop: &Workshop,
    step: &Step,
    path: &Path,
    bytes: &[u8],
) -> bool {
    let Ok(relative) = path.strip_prefix(step.exercise_dir()) else {
        return false;
    };
    let (Some(committed_exercise), Some(committed_solution)) = (
        committed_in_git(workshop, path),
        committed_in_git(workshop, &step.solution_dir().join(relative)),
    ) else {
        return false;
    };
    if committed_exercise != bytes {
        return false;
    }
    let Ok(solution) = String::from_utf8(committed_solution) else {
        return false;
    };
    generate_file(step, relative, &solution, Variant::Exercise)
        .is_ok_and(|generated| generated.as_bytes() == bytes)
}

/// The bytes of `path` (relative to the workshop root) in git's last commit.
fn committed_in_git(workshop: &Workshop, path: &Path) -> Option<Vec<u8>> {
    let output = std::process::Command::new("git")
        .current_dir(&workshop.root)
        .arg("show")
        .arg(format!("HEAD:./{}", slashed(path)))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    output.status.success().then_some(output.stdout)
}

/// Writes `files` under `dir`, creating directories as needed.
pub fn write_files(dir: &Path, files: &Files) -> Result<()> {
    for (relative, text) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
fn keep() {}
pub fn f(x: u32) -> u32 {
    // exercise: solution
    x + 1
    // exercise: stub
    // todo!(\"add one\")
    //
    // exercise: end
}
// exercise: solution
fn helper() {}
// exercise: end
";

    #[test]
    fn the_exercise_gets_the_stub_and_loses_the_solution() {
        let out = transform(SOURCE, "//", Variant::Exercise, "f.rs").unwrap();
        assert_eq!(
            out,
            "fn keep() {}\npub fn f(x: u32) -> u32 {\n    todo!(\"add one\")\n\n}\n"
        );
    }

    #[test]
    fn the_solution_view_keeps_the_solution_and_drops_markers_and_stubs() {
        let out = transform(SOURCE, "//", Variant::Solution, "f.rs").unwrap();
        assert_eq!(
            out,
            "fn keep() {}\npub fn f(x: u32) -> u32 {\n    x + 1\n}\nfn helper() {}\n"
        );
    }

    #[test]
    fn toml_markers_use_hash_comments() {
        let toml = "[a]\n# exercise: solution\n[[bench]]\nname = \"x\"\n# exercise: end\n";
        assert_eq!(
            transform(toml, "#", Variant::Exercise, "Cargo.toml").unwrap(),
            "[a]\n"
        );
    }

    #[test]
    fn an_unclosed_region_names_the_file_and_line() {
        let err = transform(
            "a\n// exercise: solution\nb\n",
            "//",
            Variant::Exercise,
            "x.rs",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "x.rs:2: region is never closed with `exercise: end`");
    }

    #[test]
    fn nested_or_stray_markers_are_errors() {
        let nested = "// exercise: solution\n// exercise: solution\n// exercise: end\n";
        assert!(transform(nested, "//", Variant::Exercise, "x.rs").is_err());
        let stray_end = "// exercise: end\n";
        assert!(transform(stray_end, "//", Variant::Exercise, "x.rs").is_err());
        let stub_first = "// exercise: stub\n// exercise: end\n";
        assert!(transform(stub_first, "//", Variant::Exercise, "x.rs").is_err());
    }

    #[test]
    fn a_stub_line_that_is_not_a_comment_is_an_error() {
        let bad = "// exercise: solution\n// exercise: stub\ntodo!()\n// exercise: end\n";
        let err = format!(
            "{:#}",
            transform(bad, "//", Variant::Exercise, "x.rs").unwrap_err()
        );
        assert!(
            err.starts_with("x.rs:3: every line of a stub must be a comment"),
            "{err}"
        );
    }

    #[test]
    fn markers_inside_other_text_are_not_markers() {
        let text = "let s = \"// exercise: solution\";\n";
        assert_eq!(
            transform(text, "//", Variant::Exercise, "x.rs").unwrap(),
            text
        );
    }
}
