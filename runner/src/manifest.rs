//! `workshop.toml`: the single list of steps that every command reads.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The file name of the manifest at the workspace root. Finding it is also how the
/// runner finds the workshop when it is started from a subdirectory.
pub const MANIFEST_FILE: &str = "workshop.toml";

/// The parsed manifest: the steps in the order a learner takes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub steps: Vec<Step>,
}

/// One step: a chapter, a reference solution and the exercise generated from it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Position in the workshop, shown with two digits (`01`).
    pub number: u8,
    /// Lower-case words joined by `-`; with the number it names the directories,
    /// the crates and the chapter.
    pub slug: String,
    /// The chapter's title, shown in the progress view.
    pub title: String,
    /// The parts of the step a learner writes, in the order the chapter gives them.
    pub exercises: Vec<Exercise>,
    /// All the step's tests are one binary, `tests/exercises/main.rs`, with a
    /// module per exercise (`tests/exercises/<test>.rs`): for a step whose
    /// tests link a heavy client, one link per save instead of one per
    /// exercise (see `testrun::COMBINED_TARGET`).
    #[serde(default)]
    pub one_test_binary: bool,
    /// How many tests run at once (libtest's `RUST_TEST_THREADS`), for a step
    /// whose tests mostly wait on a real broker's timers (an AckWait, a
    /// redelivery delay) rather than on the CPU: libtest's default, one per
    /// core, would have them wait in turn.
    #[serde(default)]
    pub test_threads: Option<u16>,
}

/// One exercise of a step: a source file to edit and the test target that checks it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// A short name, used in the progress view and in `hint`.
    pub name: String,
    /// The file a learner edits, relative to the step's crate (`src/state.rs`).
    pub file: String,
    /// The integration test target that checks it: `tests/<test>.rs`.
    pub test: String,
    /// Hints from a nudge to nearly the answer; `hint` shows one more each time.
    pub hints: Vec<String>,
}

impl Step {
    /// `01-events`: the directory name under `steps/`, `solutions/` and `book/src/`.
    pub fn id(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// The exercise crate's package name, `step01-events`.
    pub fn exercise_crate(&self) -> String {
        format!("step{:02}-{}", self.number, self.slug)
    }

    /// The solution crate's package name, `solution01-events`.
    pub fn solution_crate(&self) -> String {
        format!("solution{:02}-{}", self.number, self.slug)
    }

    /// Where the learner works, relative to the workspace root.
    pub fn exercise_dir(&self) -> PathBuf {
        Path::new("steps").join(self.id())
    }

    /// Where the reference solution lives, relative to the workspace root.
    pub fn solution_dir(&self) -> PathBuf {
        Path::new("solutions").join(self.id())
    }

    /// The file that holds `exercise`'s tests, relative to the step's crate:
    /// `tests/<test>.rs`, or `tests/exercises/<test>.rs` in a step with
    /// [`Step::one_test_binary`].
    pub fn test_file(&self, exercise: &Exercise) -> PathBuf {
        let tests = Path::new("tests");
        let file = format!("{}.rs", exercise.test);
        if self.one_test_binary {
            tests.join(crate::testrun::COMBINED_TARGET).join(file)
        } else {
            tests.join(file)
        }
    }

    /// The chapter, found from the number and slug alone.
    pub fn chapter(&self) -> PathBuf {
        Path::new("book")
            .join("src")
            .join(format!("{}.md", self.id()))
    }

    /// Whether `query` names this step: `1`, `01`, `events`, `01-events`, or a
    /// crate name.
    fn answers_to(&self, query: &str) -> bool {
        let query = query.trim().to_ascii_lowercase();
        query == self.slug
            || query == self.id()
            || query == self.exercise_crate()
            || query == self.solution_crate()
            || query.parse::<u8>().is_ok_and(|n| n == self.number)
    }
}

/// The workshop: where it is on disk and what its manifest says.
#[derive(Debug, Clone)]
pub struct Workshop {
    /// The workspace root, the directory that holds `workshop.toml`.
    pub root: PathBuf,
    pub manifest: Manifest,
}

impl Workshop {
    /// Finds the workshop by walking up from `start` to the first directory that
    /// holds `workshop.toml`, so the runner works from any subdirectory.
    pub fn discover(start: &Path) -> Result<Self> {
        let mut dir = Some(start);
        while let Some(candidate) = dir {
            if candidate.join(MANIFEST_FILE).is_file() {
                return Self::load(candidate);
            }
            dir = candidate.parent();
        }
        bail!(
            "cannot find {MANIFEST_FILE} in {} or any parent directory: run this inside the workshop repository",
            start.display()
        )
    }

    /// Reads and checks the manifest at `root`.
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: Manifest = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid manifest", path.display()))?;
        validate(&manifest)
            .with_context(|| format!("{} is not a valid manifest", path.display()))?;
        Ok(Self {
            root: root.to_path_buf(),
            manifest,
        })
    }

    pub fn steps(&self) -> &[Step] {
        &self.manifest.steps
    }

    /// The step a learner means by `query`, or an error that lists the real ones.
    pub fn step(&self, query: &str) -> Result<&Step> {
        self.steps()
            .iter()
            .find(|step| step.answers_to(query))
            .ok_or_else(|| {
                let known: Vec<String> = self.steps().iter().map(Step::id).collect();
                anyhow::anyhow!(
                    "there is no step {query:?}; the steps are {} (a number like 1 or a slug like events works too)",
                    known.join(", ")
                )
            })
    }

    /// An absolute path for a path relative to the root.
    pub fn path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.root.join(relative)
    }
}

/// Catches manifest mistakes that would otherwise surface later as confusing
/// errors: duplicate steps, bad slugs, exercises with nothing to check them.
fn validate(manifest: &Manifest) -> Result<()> {
    if manifest.steps.is_empty() {
        bail!("it lists no steps");
    }
    for pair in manifest.steps.windows(2) {
        if pair[1].number <= pair[0].number {
            bail!(
                "steps must be listed in increasing order of number, but {} comes after {}",
                pair[1].id(),
                pair[0].id()
            );
        }
    }
    for step in &manifest.steps {
        let slug_ok = !step.slug.is_empty()
            && step
                .slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            bail!(
                "step {} has slug {:?}: use lower-case letters, digits and '-'",
                step.number,
                step.slug
            );
        }
        if step.exercises.is_empty() {
            bail!("step {} has no exercises", step.id());
        }
        for (i, exercise) in step.exercises.iter().enumerate() {
            if step.exercises[..i].iter().any(|e| e.name == exercise.name) {
                bail!(
                    "step {} lists exercise {:?} twice",
                    step.id(),
                    exercise.name
                );
            }
            if exercise.hints.iter().all(|h| h.trim().is_empty()) {
                bail!(
                    "exercise {:?} of step {} has no hint",
                    exercise.name,
                    step.id()
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workshop(toml_text: &str) -> Result<Workshop> {
        let manifest: Manifest = toml::from_str(toml_text)?;
        validate(&manifest)?;
        Ok(Workshop {
            root: PathBuf::from("/w"),
            manifest,
        })
    }

    const TWO_STEPS: &str = r#"
        [[steps]]
        number = 0
        slug = "welcome"
        title = "Welcome"
        [[steps.exercises]]
        name = "a"
        file = "src/lib.rs"
        test = "a"
        hints = ["h"]

        [[steps]]
        number = 1
        slug = "events"
        title = "Events"
        [[steps.exercises]]
        name = "b"
        file = "src/lib.rs"
        test = "b"
        hints = ["h"]
    "#;

    #[test]
    fn a_step_is_found_by_number_slug_id_or_crate_name() {
        let w = workshop(TWO_STEPS).unwrap();
        for query in [
            "1",
            "01",
            "events",
            "01-events",
            "step01-events",
            " Events ",
        ] {
            assert_eq!(w.step(query).unwrap().slug, "events", "query {query:?}");
        }
    }

    #[test]
    fn an_unknown_step_is_a_one_line_error_that_lists_the_steps() {
        let w = workshop(TWO_STEPS).unwrap();
        let message = w.step("17").unwrap_err().to_string();
        assert!(message.contains("\"17\""), "{message}");
        assert!(message.contains("00-welcome, 01-events"), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn paths_come_from_number_and_slug() {
        let w = workshop(TWO_STEPS).unwrap();
        let step = w.step("1").unwrap();
        assert_eq!(step.exercise_dir(), Path::new("steps/01-events"));
        assert_eq!(step.solution_dir(), Path::new("solutions/01-events"));
        assert_eq!(step.chapter(), Path::new("book/src/01-events.md"));
        assert_eq!(step.exercise_crate(), "step01-events");
    }

    #[test]
    fn steps_out_of_order_are_rejected() {
        let swapped = TWO_STEPS.replace("number = 1", "number = 0");
        let err = workshop(&swapped).unwrap_err().to_string();
        assert!(err.contains("increasing order"), "{err}");
    }

    #[test]
    fn an_exercise_without_hints_is_rejected() {
        let no_hint = TWO_STEPS.replacen("hints = [\"h\"]", "hints = []", 1);
        let err = workshop(&no_hint).unwrap_err().to_string();
        assert!(err.contains("no hint"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let typo = TWO_STEPS.replacen("hints", "hintz", 1);
        assert!(workshop(&typo).is_err());
    }
}
