// The build script as CI runs it: a deck with a broken include must fail
// the build, and a good one must build. Needs Chromium (CHROME_PATH, or
// /usr/bin/chromium), like the real build.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkNotes } from "../build.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const build = (deck) => {
  const out = mkdtempSync(join(tmpdir(), "slides-test-"));
  const run = spawnSync(process.execPath, [join(here, "../build.mjs"), "--deck", join(here, "fixtures", deck),
    "--out", out, "--no-pdf", "--no-book"], { encoding: "utf8" });
  return { ...run, out };
};

test("the build fails on a deck whose include names a missing anchor", () => {
  const run = build("bad-anchor.md");
  assert.notEqual(run.status, 0, `the build must fail, it printed:\n${run.stdout}${run.stderr}`);
  assert.match(run.stderr, /bad-anchor\.md:8: no "ANCHOR: no_such_anchor"/, "the error names the deck line and the anchor");
  assert.ok(!existsSync(join(run.out, "unstoppable-events.html")), "no deck may be written when an include fails");
});

test("the build writes the HTML deck for a good deck and reports the timings", () => {
  const run = build("good.md");
  assert.equal(run.status, 0, `the build failed:\n${run.stderr}`);
  assert.ok(existsSync(join(run.out, "unstoppable-events.html")), "the HTML deck must be written");
  assert.match(run.stdout, /2 slides, .*talk 1\.0 min, workshop appendix 0\.5 min/);
});

test("a slide without speaker notes and a timing fails the notes check", () => {
  assert.throws(() => checkNotes("---\nmarp: true\n---\n\n## No notes here\n"), /slide 1 has no speaker notes/);
  assert.throws(() => checkNotes("## Notes without a timing\n\n<!-- say hello -->\n"), /slide 1 has no speaker notes/);
});
