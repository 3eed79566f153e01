//! `verify`, the one gate: what it catches beyond the tests, and advice that is
//! safe for whoever reads it.

mod common;

use common::*;

fn verify(root: &std::path::Path) -> (Option<i32>, String) {
    let out = workshop(root, &["verify", "--no-tests"]);
    (out.status.code(), text(&out))
}

#[test]
fn verify_fails_on_code_that_cargo_fmt_would_change() {
    let w = tiny_workshop();
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(0), "a fresh workshop passes: {shown}");
    write(
        w.path(),
        "solutions/00-tiny/tests/double.rs",
        &SOLUTION_TEST.replace("pub fn doubles() {", "pub fn doubles()   {"),
    );
    let out = workshop(w.path(), &["generate"]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("✗ cargo fmt --all --check"), "{shown}");
}

#[test]
fn verify_fails_when_summary_leaves_out_a_chapter_or_a_solution_page() {
    let w = tiny_workshop();
    write(
        w.path(),
        "book/src/SUMMARY.md",
        "# Summary\n\n- [Tiny](00-tiny.md)\n",
    );
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("missing: solutions/00-tiny.md"), "{shown}");
}

#[test]
fn verify_fails_on_a_stub_that_does_not_name_its_chapter() {
    let w = tiny_workshop();
    write(
        w.path(),
        "solutions/00-tiny/src/lib.rs",
        &SOLUTION_LIB.replace("double it (chapter 00)", "double it"),
    );
    assert!(workshop(w.path(), &["generate"]).status.success());
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains("every stub of step 00-tiny names (chapter 00); these do not: steps/00-tiny/src/lib.rs: todo!(\"double it\")"),
        "{shown}"
    );
}

#[test]
fn verify_fails_on_a_step_crate_with_doctests_on() {
    let w = tiny_workshop();
    let manifest = std::fs::read_to_string(w.path().join("solutions/00-tiny/Cargo.toml")).unwrap();
    write(
        w.path(),
        "solutions/00-tiny/Cargo.toml",
        &manifest.replace("doctest = false\n", ""),
    );
    assert!(workshop(w.path(), &["generate"]).status.success());
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains("✗ step00-tiny has `doctest = false`"),
        "{shown}"
    );
}

#[test]
fn verify_advice_about_a_learners_edits_does_not_tell_them_to_generate() {
    let w = tiny_workshop();
    write(
        w.path(),
        "steps/00-tiny/src/lib.rs",
        "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n",
    );
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains("Learners: that is your work, keep it"),
        "{shown}"
    );
    assert!(shown.contains("`cargo workshop check --all`"), "{shown}");
    assert!(
        shown.contains("Maintainers only: `cargo workshop generate`"),
        "generate must be addressed to maintainers only: {shown}"
    );
    assert!(
        !shown.contains("After changing a solution, `cargo workshop generate`"),
        "{shown}"
    );
}

#[test]
fn verify_fails_when_readme_promises_another_rust_than_the_workspace_declares() {
    let w = tiny_workshop();
    let manifest = std::fs::read_to_string(w.path().join("Cargo.toml")).unwrap();
    write(
        w.path(),
        "Cargo.toml",
        &format!("{manifest}\n[workspace.package]\nrust-version = \"1.88\"\n"),
    );
    write(w.path(), "README.md", "You need Rust (1.88 or newer).\n");
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(0), "the same version in both is kept: {shown}");
    assert!(
        shown.contains(
            "✓ README.md promises Rust 1.88 or newer, and the workspace's rust-version is 1.88"
        ),
        "{shown}"
    );

    write(w.path(), "README.md", "You need Rust (1.85 or newer).\n");
    let (code, shown) = verify(w.path());
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains(
            "✗ README.md promises Rust 1.85 or newer, and the workspace's rust-version is 1.88"
        ),
        "{shown}"
    );
}

#[test]
fn verify_fails_on_a_solution_whose_test_binary_crashes() {
    let w = tiny_workshop();
    write(
        w.path(),
        "solutions/00-tiny/tests/double.rs",
        &format!(
            "{SOLUTION_TEST}\n#[test]\nfn stops_the_binary() {{\n    std::process::abort();\n}}\n"
        ),
    );
    assert!(workshop(w.path(), &["generate"]).status.success());
    // The full verify: the tiny workshop has no runner or cross-step package, so
    // that check fails too; what matters is the solution's line.
    let out = workshop(w.path(), &["verify"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("✗ exercise 00-tiny/double has tests")
            && shown.contains("and they all ran: the test binary crashed"),
        "a solution whose tests abort must not pass verify:\n{shown}"
    );
}
