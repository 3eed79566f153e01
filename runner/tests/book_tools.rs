//! The book builds with the tools README tells a learner to install, and CI still
//! checks its links. These read the repository's own files.

use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the runner is a directory of the repository")
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repository().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The programs README's "Read the book" section installs with `cargo install`.
fn tools_readme_installs() -> Vec<String> {
    let readme = read("README.md");
    let section = readme
        .split("## Read the book")
        .nth(1)
        .expect("README.md has a section `## Read the book`");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|line| line.trim().strip_prefix("cargo install "))
        .filter_map(|rest| rest.split_whitespace().find(|word| !word.starts_with('-')))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_book_tool_a_learner_lacks_is_optional() {
    let installed = tools_readme_installs();
    assert!(
        installed.iter().any(|tool| tool == "mdbook"),
        "README installs mdbook: {installed:?}"
    );
    let config: toml::Table = read("book/book.toml").parse().expect("book.toml is TOML");
    for kind in ["preprocessor", "output"] {
        let Some(table) = config.get(kind).and_then(toml::Value::as_table) else {
            continue;
        };
        for (name, settings) in table {
            // Built into mdbook itself.
            if kind == "output" && (name == "html" || name == "markdown") {
                continue;
            }
            let command = settings
                .get("command")
                .and_then(toml::Value::as_str)
                .map_or_else(|| format!("mdbook-{name}"), str::to_owned);
            let optional = settings
                .get("optional")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            assert!(
                installed.contains(&command) || optional,
                "[{kind}.{name}] runs `{command}`, which README's book commands do not install: \
                 a learner's `mdbook build` fails unless it is `optional = true`"
            );
        }
    }
}

#[test]
fn ci_makes_link_checking_required_again() {
    let ci = read(".ci/run");
    assert!(
        ci.contains("MDBOOK_OUTPUT__LINKCHECK2__OPTIONAL=false mdbook build book"),
        "with linkcheck2 optional in book.toml, CI must make it required, or a CI \
         without it would pass with broken links"
    );
    assert!(
        ci.contains("install_tool mdbook-linkcheck2"),
        "CI installs the link checker"
    );
}
