// The recorded demo: parsed as asciinema v2, and played back as the screens
// a terminal would show, at the recorded times.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCast, frames, animatedSvg, finalSvg } from "../lib/cast.mjs";

const cast = [
  JSON.stringify({ version: 2, width: 20, height: 3 }),
  JSON.stringify([0, "o", "$ run\r\n"]),
  JSON.stringify([1, "o", "\u001b[32mone\u001b[0m\r\n"]),
  JSON.stringify([2, "o", "two\r\nthree"]),
].join("\n");

test("a cast plays back as screens at their times, without colour codes, scrolling at its height", () => {
  const got = frames(parseCast(cast));
  assert.deepEqual(got.map((f) => f.time), [0, 1, 2], "one screen per recorded moment");
  assert.deepEqual(got[1].lines, ["$ run", "one", ""], "colour escapes are dropped");
  assert.deepEqual(got[2].lines, ["one", "two", "three"], "a three-line terminal scrolls the first line away");
});

test("long lines wrap at the recording's width", () => {
  const wide = [JSON.stringify({ version: 2, width: 4, height: 5 }), JSON.stringify([0, "o", "abcdefgh"])].join("\n");
  assert.deepEqual(frames(parseCast(wide))[0].lines, ["abcd", "efgh"]);
});

test("the animated SVG holds every screen and the PDF's SVG only the last one", () => {
  const parsed = parseCast(cast);
  const { svg, frames: count } = animatedSvg(parsed);
  assert.equal(count, 3);
  assert.match(svg, /@keyframes play/, "the HTML deck's recording moves");
  assert.ok(finalSvg(parsed).includes("three") && !finalSvg(parsed).includes("run<"), "the PDF shows the last screen");
});

test("a file that is not an asciinema v2 cast is refused", () => {
  assert.throws(() => parseCast(JSON.stringify({ version: 1 })), /not an asciinema v2 cast/);
});
