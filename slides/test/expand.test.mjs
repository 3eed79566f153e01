// The include rules: what a slide may take from the sources, and that
// anything missing stops the build with a message naming the deck line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { expandDeck, IncludeError, textTable } from "../lib/expand.mjs";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const expand = (markdown) => expandDeck(markdown, { baseDir: fixtures, deckName: "test.md" });

test("an anchor's lines are included without the marker lines and without the exercise's stub", async () => {
  const got = await expand("{{#include source.rs:short}}");
  assert.equal(got, [
    "/// A doc comment the `nodoc` option leaves out.",
    "pub fn seats_left(capacity: u32, sold: u32) -> u32 {",
    "    capacity.saturating_sub(sold)",
    "}",
  ].join("\n"), "a slide shows the reference solution, never a stub or an ANCHOR line");
});

test("nodoc leaves out whole-line comments", async () => {
  const got = await expand("{{#include source.rs:short nodoc}}");
  assert.ok(!got.includes("///"), `doc comments must go with nodoc, got:\n${got}`);
  assert.ok(got.includes("saturating_sub"), "the code itself must stay");
});

test("a missing anchor fails and names the deck line", async () => {
  await assert.rejects(expand("\n{{#include source.rs:gone}}"), (error) => {
    assert.ok(error instanceof IncludeError, "a missing anchor is an IncludeError");
    assert.match(error.message, /test\.md:2: no "ANCHOR: gone"/, "the message names the deck line and the anchor");
    return true;
  });
});

test("a missing file fails", async () => {
  await assert.rejects(expand("{{#include nowhere.rs:short}}"), /cannot read nowhere\.rs/);
});

test("a snippet longer than a slide can show fails", async () => {
  await assert.rejects(expand("{{#include source.rs:long}}"), /16 lines; a slide shows at most 15/);
});

test("an include line this build does not know fails instead of showing up on a slide", async () => {
  await assert.rejects(expand("{{#includ source.rs:short}}"), /not an include this build knows/);
});

test("a table is taken from under its heading, with the rows and columns asked for", async () => {
  const got = await expand("{{#table chapter.md#Measured | rows=2 cols=2}}");
  assert.equal(got, "| records/s |\n| ---: |\n| 10 |", "row 2 is the second data row, column 2 the figures");
});

test("a missing heading or row fails", async () => {
  await assert.rejects(expand("{{#table chapter.md#Not measured}}"), /no heading "Not measured"/);
  await assert.rejects(expand("{{#table chapter.md#Measured | rows=3}}"), /no row 3/);
});

test("column-aligned output becomes a table, and a change in its shape fails", async () => {
  const got = await expand('{{#text chapter.md#Measured | lines=2-3 table="mode,sent,p50"}}');
  assert.equal(got, "| mode | sent | p50 |\n| --- | ---: | ---: |\n| fast | 100 | 1 ms |\n| slow | 10 | 9 ms |");
  assert.throws(() => textTable(["fast 100 | 1 ms"], ["mode", "sent", "p50"], "x"), /2 columns, the slide names 3/);
});

test("the step map lists the book's steps with links to their chapters", async () => {
  const got = await expand("{{#steps summary.md}}");
  assert.equal(got, [
    "| step | topic | step | topic |",
    "|---|---|---|---|",
    "| [00](book:00-welcome) | Welcome | [02](book:02-protobuf) | Protobuf |",
    "| [01](book:01-events) | Events |  |  |",
  ].join("\n"), "steps in order, split in two columns, titles up to the colon");
});
