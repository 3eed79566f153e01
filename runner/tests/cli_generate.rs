//! `generate` in a workshop where someone has worked: it must never destroy the
//! work without being told to, and a maintainer's regeneration must not need
//! `--force`.

mod common;

use common::*;

const MINE: &str = "pub fn double(x: u32) -> u32 { x + x }\n";

#[test]
fn generate_refuses_to_overwrite_a_learners_edits_and_names_them() {
    let w = tiny_workshop();
    write(w.path(), "steps/00-tiny/src/lib.rs", MINE);
    write(
        w.path(),
        "steps/00-tiny/tests/mine.rs",
        "#[test]\nfn mine() {}\n",
    );

    let out = workshop(w.path(), &["generate"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "a refusal is an error: {shown}");
    assert!(
        shown.contains("step 00-tiny holds work"),
        "the refusal must name the step: {shown}"
    );
    assert!(
        shown.contains("steps/00-tiny/src/lib.rs (edited)"),
        "{shown}"
    );
    assert!(
        shown.contains("steps/00-tiny/tests/mine.rs (not made by the workshop"),
        "{shown}"
    );
    assert!(
        shown.contains("`cargo workshop generate --force`"),
        "the refusal must give the exact command that goes ahead: {shown}"
    );
    let lib = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert_eq!(lib, MINE, "the learner's edit must be untouched");
    assert!(
        w.path().join("steps/00-tiny/tests/mine.rs").is_file(),
        "the learner's own test file must not be deleted"
    );

    let one = workshop(w.path(), &["generate", "0"]);
    assert_eq!(one.status.code(), Some(2), "{}", text(&one));
    assert!(
        text(&one).contains("`cargo workshop generate 00 --force`"),
        "for one step, the command names that step: {}",
        text(&one)
    );
}

#[test]
fn generate_force_replaces_the_work_after_backing_it_up() {
    let w = tiny_workshop();
    write(w.path(), "steps/00-tiny/src/lib.rs", MINE);
    write(
        w.path(),
        "steps/00-tiny/tests/mine.rs",
        "#[test]\nfn mine() {}\n",
    );

    let out = workshop(w.path(), &["generate", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    let lib = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert!(lib.contains("todo!"), "--force must regenerate: {lib}");
    assert!(!w.path().join("steps/00-tiny/tests/mine.rs").exists());
    let backed_up: Vec<String> = walk(w.path())
        .into_iter()
        .filter(|p| !p.starts_with(w.path().join("steps")))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert!(
        backed_up.iter().any(|t| t == MINE),
        "the edited file must be in a backup"
    );
    assert!(
        backed_up.iter().any(|t| t == "#[test]\nfn mine() {}\n"),
        "the deleted file must be in a backup"
    );
}

#[test]
fn a_maintainer_who_changed_a_solution_regenerates_without_force() {
    let w = tiny_workshop();
    let changed = SOLUTION_LIB.replace("double it (chapter 00)", "double x (chapter 00)");
    write(w.path(), "solutions/00-tiny/src/lib.rs", &changed);
    let first = workshop(w.path(), &["generate"]);
    assert!(
        first.status.success(),
        "the previous generation is not work: {}",
        text(&first)
    );
    // Twice in a row, without committing in between.
    let again = changed.replace("double x (chapter 00)", "double the number (chapter 00)");
    write(w.path(), "solutions/00-tiny/src/lib.rs", &again);
    let second = workshop(w.path(), &["generate", "0"]);
    assert!(second.status.success(), "{}", text(&second));
    let lib = std::fs::read_to_string(w.path().join("steps/00-tiny/src/lib.rs")).unwrap();
    assert!(lib.contains("double the number (chapter 00)"), "{lib}");
}

#[test]
fn without_the_record_the_committed_version_is_not_mistaken_for_work() {
    let w = tiny_workshop();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(w.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
    };
    let Ok(init) = git(&["init", "-q"]) else {
        eprintln!("git is not installed: skipping");
        return;
    };
    assert!(init.status.success());
    assert!(
        git(&[
            "add",
            "workshop.toml",
            "Cargo.toml",
            "solutions",
            "steps",
            "book"
        ])
        .unwrap()
        .status
        .success()
    );
    assert!(
        git(&["commit", "-q", "-m", "workshop"])
            .unwrap()
            .status
            .success()
    );
    // A fresh clone has no record (it lives under target/, which is not committed).
    std::fs::remove_dir_all(w.path().join("target")).unwrap();

    let changed = SOLUTION_LIB.replace("double it (chapter 00)", "double x (chapter 00)");
    write(w.path(), "solutions/00-tiny/src/lib.rs", &changed);
    let out = workshop(w.path(), &["generate"]);
    assert!(out.status.success(), "{}", text(&out));

    // But uncommitted edits in a clone are still work.
    std::fs::remove_dir_all(w.path().join("target")).unwrap();
    write(w.path(), "steps/00-tiny/src/lib.rs", MINE);
    let refused = workshop(w.path(), &["generate"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));

    // And so are edits a learner committed: they are the committed version, but
    // not what generation makes of the committed solution.
    assert!(git(&["add", "-A"]).unwrap().status.success());
    assert!(
        git(&["commit", "-q", "-m", "my work"])
            .unwrap()
            .status
            .success()
    );
    let _ = std::fs::remove_dir_all(w.path().join("target"));
    let refused = workshop(w.path(), &["generate"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "a learner's committed edits must not be overwritten: {}",
        text(&refused)
    );
}
