#!/usr/bin/env bash
# Regenerates the runner output that the book shows, from a real run:
#
#   book/src/generated/check-fresh.txt   `cargo workshop check 00` on a fresh step 00
#   book/src/generated/check-solved.txt  the same command once step 00 is solved
#
# Run it from the repository root after changing the runner's output or step 00:
#
#   book/capture-output.sh
#
# It never touches your steps/: it clones the committed repository into a temporary
# directory and runs there (commit first if you changed the runner). "Solved" means
# the reference solution's code with its marker lines and stub removed, copied over
# the exercise. Colours are switched off and timings are replaced by "N.NNs", so that
# the files only change when the output really changes. The clone builds into
# target/capture-output (kept between runs, so the second run is fast).
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
out="$repo/book/src/generated"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git clone --quiet "$repo" "$work/workshop"
cd "$work/workshop"
export CARGO_TARGET_DIR="$repo/target/capture-output"
export NO_COLOR=1

# Prints the command as a learner types it, then its output with the temporary path,
# ANSI escapes and timings made stable.
capture() {
    echo "\$ cargo workshop $*"
    # A failing check exits with 1; the output is what we want either way.
    cargo workshop "$@" 2>&1 || true
}
stable() {
    sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' \
        -e "s#$work/workshop#.#g" \
        -e 's/[0-9][0-9]*\.[0-9][0-9]*s\b/N.NNs/g' \
        -e 's/in [0-9][0-9]*ms\b/in N.NNs/g'
}

# Build first, so that cargo's compile lines are not part of the capture.
cargo build --quiet --package workshop
cargo test --quiet --no-run --package step00-welcome 2>/dev/null

capture check 00 | stable >"$out/check-fresh.txt"

# Solve step 00 the way the reference does: the solution region kept, the stub
# region and every marker line dropped.
awk '
    /\/\/ exercise: solution/ { next }
    /\/\/ exercise: stub/     { skip = 1; next }
    /\/\/ exercise: end/      { skip = 0; next }
    !skip
' solutions/00-welcome/src/lib.rs >steps/00-welcome/src/lib.rs

capture check 00 | stable >"$out/check-solved.txt"

echo "wrote $out/check-fresh.txt and $out/check-solved.txt"
