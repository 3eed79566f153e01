//! Redraws the benchmark charts of `book/src/generated/` from the CSV files
//! the benchmarks wrote, without running them again: after a change to the
//! charts' code, or to check that the committed charts match their figures.
//!
//! ```sh
//! cargo run -p capstone-bench --bin charts
//! ```

use std::process::ExitCode;

use capstone_bench::figures;

fn main() -> ExitCode {
    let dir = figures::generated_dir();
    let mut failed = false;
    for (name, result) in [
        ("end-to-end", figures::write_end_to_end_charts(&dir)),
        ("in-memory", figures::write_in_memory_chart(&dir)),
    ] {
        match result {
            Ok(()) => println!("{name} charts written to {}", dir.display()),
            Err(error) => {
                eprintln!("{name} charts: {error}");
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    eprintln!("  because: {cause}");
                    source = cause.source();
                }
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
