//! The throwaway one-step workshop that the runner's end-to-end tests run the real
//! binary in. Shared by every file under `runner/tests/`.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub const MANIFEST: &str = r#"
[[steps]]
number = 0
slug = "tiny"
title = "A tiny step"

[[steps.exercises]]
name = "double"
file = "src/lib.rs"
test = "double"
hints = ["Multiply by two.", "`x * 2`."]
"#;

pub const SOLUTION_LIB: &str = "\
// exercise: solution
// exercise: stub
// #![allow(unused_variables)]
// exercise: end

pub fn double(x: u32) -> u32 {
    // exercise: solution
    x * 2
    // exercise: stub
    // todo!(\"double it (chapter 00)\")
    // exercise: end
}
";

pub const SOLUTION_TEST: &str = "\
#[test]
pub fn doubles() {
    assert_eq!(solution00_tiny::double(21), 42, \"21 doubled is 42\");
}
";

/// A workshop with one step, generated, in a fresh temporary directory.
pub fn tiny_workshop() -> tempfile::TempDir {
    tiny_workshop_with_tests(SOLUTION_TEST)
}

pub fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub fn workshop(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_workshop"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("the runner starts")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Two tests of `double`, so that one can pass while the other crashes or hangs.
pub const TWO_TESTS: &str = "\
#[test]
fn doubles() {
    assert_eq!(solution00_tiny::double(21), 42, \"21 doubled is 42\");
}

#[test]
fn zero_doubled_is_zero() {
    assert_eq!(solution00_tiny::double(0), 0, \"0 doubled is 0\");
}
";

/// Like [`tiny_workshop`], with `solution_test` as the solution's
/// `tests/double.rs`, generated into the step before anything else happens.
pub fn tiny_workshop_with_tests(solution_test: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    write(root, "workshop.toml", MANIFEST);
    write(
        root,
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"solutions/*\", \"steps/*\"]\n",
    );
    write(
        root,
        "solutions/00-tiny/Cargo.toml",
        "[package]\nname = \"solution00-tiny\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ndoctest = false\ntest = false\n",
    );
    write(root, "solutions/00-tiny/src/lib.rs", SOLUTION_LIB);
    write(root, "solutions/00-tiny/tests/double.rs", solution_test);
    write(root, "book/src/00-tiny.md", "# Tiny\n");
    write(root, "book/src/SUMMARY.md", TINY_SUMMARY);
    std::fs::create_dir_all(root.join("steps")).unwrap();
    let out = workshop(root, &["generate"]);
    assert!(out.status.success(), "generate failed: {}", text(&out));
    dir
}

/// The tiny workshop's table of contents: its chapter and its solution page.
pub const TINY_SUMMARY: &str =
    "# Summary\n\n- [Tiny](00-tiny.md)\n- [Solution](solutions/00-tiny.md)\n";

/// A second step for tests that move between steps: `half`, in chapter 01.
pub const SECOND_STEP: &str = r#"
[[steps]]
number = 1
slug = "half"
title = "Half of it"

[[steps.exercises]]
name = "half"
file = "src/lib.rs"
test = "half"
hints = ["Divide by two."]
"#;

/// The tiny workshop with a second step after the first, generated.
pub fn two_step_workshop() -> tempfile::TempDir {
    let dir = tiny_workshop();
    let root = dir.path();
    write(root, "workshop.toml", &format!("{MANIFEST}{SECOND_STEP}"));
    write(
        root,
        "solutions/01-half/Cargo.toml",
        "[package]\nname = \"solution01-half\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ndoctest = false\ntest = false\n",
    );
    write(
        root,
        "solutions/01-half/src/lib.rs",
        "pub fn half(x: u32) -> u32 {\n    // exercise: solution\n    x / 2\n    // exercise: stub\n    // todo!(\"halve it (chapter 01)\")\n    // exercise: end\n}\n",
    );
    write(
        root,
        "solutions/01-half/tests/half.rs",
        "#[test]\nfn halves() {\n    assert_eq!(solution01_half::half(42), 21, \"42 halved is 21\");\n}\n",
    );
    write(root, "book/src/01-half.md", "# Half\n");
    write(
        root,
        "book/src/SUMMARY.md",
        &format!("{TINY_SUMMARY}- [Half](01-half.md)\n- [Solution](solutions/01-half.md)\n"),
    );
    let out = workshop(root, &["generate"]);
    assert!(out.status.success(), "generate failed: {}", text(&out));
    dir
}

/// The tiny workshop whose step depends on a crate of its own (`helper`), so that
/// a first check compiles more than the step: a small stand-in for a real
/// step's dependencies.
pub fn workshop_with_a_dependency() -> tempfile::TempDir {
    let dir = tiny_workshop();
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"solutions/*\", \"steps/*\", \"helper\"]\n",
    );
    write(
        root,
        "helper/Cargo.toml",
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(
        root,
        "helper/src/lib.rs",
        "pub fn two() -> u32 {\n    2\n}\n",
    );
    write(
        root,
        "solutions/00-tiny/Cargo.toml",
        "[package]\nname = \"solution00-tiny\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ndoctest = false\ntest = false\n\n[dependencies]\nhelper = { path = \"../../helper\" }\n",
    );
    let out = workshop(root, &["generate"]);
    assert!(out.status.success(), "generate failed: {}", text(&out));
    dir
}
