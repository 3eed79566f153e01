//! The invariants of ARCHITECTURE.md that can be read off the repository itself.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the runner sits in the workshop root")
        .to_path_buf()
}

fn dirs(parent: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", parent.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// `NN` of `steps/NN-slug` or `solutions/NN-slug`.
fn number(dir: &Path) -> u32 {
    let name = dir.file_name().unwrap().to_string_lossy();
    name[..2]
        .parse()
        .unwrap_or_else(|_| panic!("{name} does not start with a number"))
}

#[test]
fn a_step_depends_only_on_earlier_solutions_and_the_testkit() {
    for step in dirs(&root().join("steps")) {
        let manifest = std::fs::read_to_string(step.join("Cargo.toml")).unwrap();
        for line in manifest.lines().filter(|l| l.contains("path =")) {
            let path = line
                .split("path =")
                .nth(1)
                .and_then(|rest| rest.split('"').nth(1))
                .unwrap_or_else(|| panic!("cannot read the path in {line:?}"));
            if path == "../../testkit" {
                continue;
            }
            let target = path
                .strip_prefix("../../solutions/")
                .map(|dir| number(Path::new(dir)))
                .unwrap_or_else(|| {
                    panic!(
                        "{} depends on {path}: a step may depend only on solution crates",
                        step.display()
                    )
                });
            assert!(
                target < number(&step),
                "{} depends on solution {target:02}, which is not an earlier step",
                step.display()
            );
        }
    }
}

#[test]
fn chapters_include_code_from_steps_never_from_solutions() {
    let book = root().join("book/src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&book).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for include in text.split("{{#").skip(1) {
            let Some(target) = include.split_whitespace().nth(1) else {
                continue;
            };
            let target = target.split(':').next().unwrap_or(target);
            let target = target.trim_end_matches('}');
            let inside = target.trim_start_matches("../");
            assert!(
                // fragments/: prose shared between parts of a chapter (step
                // 14's fault run and benchmarks), no code of a solution.
                ["steps/", "proto/", "generated/", "fragments/"]
                    .iter()
                    .any(|allowed| inside.starts_with(allowed)),
                "{} includes {target}: chapters show the learner's starting point (steps/), \
                 not the solution",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no include found in {}", book.display());
}
