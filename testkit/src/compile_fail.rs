//! Compile-fail checks that hold on every stable compiler.
//!
//! A typestate lesson has two halves: legal transitions compile, illegal ones do
//! not. The second half needs a program that must be rejected. Comparing the
//! compiler's whole message (what trybuild does) ties the test to one exact
//! rustc: the wording changes between releases, and a correct exercise would fail
//! on a learner's slightly older or newer toolchain. What the lesson is about is
//! smaller and stable: the program does not compile, and it is rejected for the
//! right reason, named by an error code (`E0599`) and a key phrase
//! (`` no method named `expire` ``).
//!
//! The case is compiled with `rustc` directly against the library the test was
//! built with, type-checking only (`--emit=metadata`): a fraction of a second per
//! case, and no second build of the dependencies.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The edition the cases are written in (the workspace's edition).
const EDITION: &str = "2024";

/// Asserts that the program in `case` does not compile, with error `code` and a
/// message that contains `phrase`.
///
/// Call it through [`expect_compile_error!`](crate::expect_compile_error), which
/// fills in the package from the calling test; `case` is relative to the package
/// (`"tests/ui/expire_after_pay.rs"`). The case may `use` the package's library
/// by its crate name.
///
/// Panics with a message that names the case when it compiles, when it fails for
/// another reason (the compiler's output is shown), or when the check itself
/// cannot run.
#[track_caller]
pub fn expect_error(manifest_dir: &str, package: &str, case: &str, code: &str, phrase: &str) {
    let crate_name = package.replace('-', "_");
    let source = Path::new(manifest_dir).join(case);
    assert!(
        source.is_file(),
        "the compile-fail case `{case}` is missing: it should be at {}",
        source.display()
    );
    let deps = deps_dir();
    let library = newest_library(&deps, &crate_name);
    let out_dir = scratch_dir(case);
    let output = Command::new(rustc())
        .arg(&source)
        .args(["--edition", EDITION, "--crate-type", "bin"])
        .args(["--emit=metadata", "--color", "never", "-A", "warnings"])
        .arg("--crate-name")
        .arg(case_crate_name(case))
        .arg("--out-dir")
        .arg(&out_dir)
        .arg("-L")
        .arg(dependency_arg(&deps))
        .arg("--extern")
        .arg(extern_arg(&crate_name, &library))
        .env_remove("RUSTC_WRAPPER")
        .output();
    let _ = std::fs::remove_dir_all(&out_dir);
    let output = output.unwrap_or_else(|error| {
        panic!(
            "cannot run rustc to compile `{case}`: {error}. \
             Is rustc on your PATH? (`cargo workshop doctor` checks)"
        )
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("error[{code}]");
    assert!(
        !output.status.success(),
        "`{case}` compiled, but it must not: the compiler must reject it with \
         error {code} ({phrase}). The comment at the top of the case says \
         what your types must forbid."
    );
    if ["E0460", "E0463", "E0514"]
        .iter()
        .any(|setup| stderr.contains(&format!("error[{setup}]")))
    {
        panic!(
            "`{case}` could not be checked: rustc did not accept the compiled \
             library {} (built by another compiler, or removed). \
             Run `cargo clean -p {package}` and try again. rustc said:\n{stderr}",
            library.display()
        );
    }
    assert!(
        stderr.contains(&expected) && stderr.contains(phrase),
        "`{case}` does not compile, as it must, but not for the reason the \
         lesson is about: the compiler should report error {code} with \
         \"{phrase}\". The comment at the top of the case says what your \
         types must forbid. The compiler said:\n{stderr}"
    );
}

/// Checks one compile-fail case of the calling package; see [`expect_error`].
///
/// ```ignore
/// workshop_testkit::expect_compile_error!(
///     "tests/ui/expire_after_pay.rs",
///     "E0599",
///     "no method named `expire`"
/// );
/// ```
#[macro_export]
macro_rules! expect_compile_error {
    ($case:expr, $code:expr, $phrase:expr $(,)?) => {
        $crate::compile_fail::expect_error(
            env!("CARGO_MANIFEST_DIR"),
            env!("CARGO_PKG_NAME"),
            $case,
            $code,
            $phrase,
        )
    };
}

/// The `deps` directory of the running test binary: the package's library and
/// every dependency it was built with are there.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe()
        .unwrap_or_else(|error| panic!("cannot locate the running test binary: {error}"));
    exe.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("the test binary {} has no directory", exe.display()))
}

/// The newest `lib<crate>-<hash>.rlib`: the one `cargo test` just built (older
/// ones, from other feature sets, may still lie around).
fn newest_library(deps: &Path, crate_name: &str) -> PathBuf {
    let prefix = format!("lib{crate_name}-");
    let entries = std::fs::read_dir(deps)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", deps.display()));
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".rlib")
        })
        .filter_map(|entry| {
            let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, entry.path()))
        })
        .max_by_key(|(modified, _): &(SystemTime, PathBuf)| *modified)
        .map(|(_, path)| path)
        .unwrap_or_else(|| {
            panic!(
                "cannot find the compiled library of `{crate_name}` in {}: \
                 run the tests with `cargo test` or `cargo workshop check`",
                deps.display()
            )
        })
}

/// The compiler that built the tests: the `rustc` next to the `cargo` that runs
/// them (cargo sets `CARGO`), so a rustup toolchain override is respected; else
/// `RUSTC`, else `rustc` from the PATH.
fn rustc() -> OsString {
    let name = format!("rustc{}", std::env::consts::EXE_SUFFIX);
    let beside_cargo = std::env::var_os("CARGO")
        .and_then(|cargo| Some(Path::new(&cargo).parent()?.join(&name)))
        .filter(|rustc| rustc.is_file());
    if let Some(rustc) = beside_cargo {
        return rustc.into_os_string();
    }
    std::env::var_os("RUSTC").unwrap_or_else(|| name.into())
}

fn dependency_arg(deps: &Path) -> OsString {
    let mut arg = OsString::from("dependency=");
    arg.push(deps);
    arg
}

fn extern_arg(crate_name: &str, library: &Path) -> OsString {
    let mut arg = OsString::from(format!("{crate_name}="));
    arg.push(library);
    arg
}

/// A crate name for the case: its file stem, made into an identifier.
fn case_crate_name(case: &str) -> String {
    let stem = Path::new(case)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("compile_fail_{name}")
}

/// A fresh directory for rustc's output, one per case and process, so cases
/// checked in parallel never share one.
fn scratch_dir(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "workshop-{}-{}",
        case_crate_name(case),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
    dir
}
