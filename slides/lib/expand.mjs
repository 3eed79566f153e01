// Expands the deck's include lines into plain Marp Markdown.
//
// The deck never holds a copy of code or of a measured figure: it names where
// they live, and this module reads them at build time.
//
//   {{#include PATH:ANCHOR}}         the lines between `// ANCHOR: ANCHOR` and
//                                    `// ANCHOR_END: ANCHOR` (mdBook's syntax);
//   {{#include PATH:ANCHOR nodoc}}   the same without whole-line comments: the
//                                    speaker says what the doc comments say;
//   {{#file PATH}}                   a whole small file (the demo's commands);
//   {{#table PATH#HEADING}}          the first Markdown table under that
//                                    heading of a book chapter;
//   {{#text PATH#HEADING}}           the first ```text block under that
//                                    heading (command output the book shows);
//   {{#mermaid PATH#HEADING}}        the first mermaid diagram under that
//                                    heading, rendered like the deck's own;
//   {{#steps PATH}}                  the step map from the book's SUMMARY.md;
//   {{#cast FILE}}                   a recorded terminal session (lib/cast.mjs).
//
// `| rows=1,2 cols=1,3` after a table and `| lines=1-8` after a text block
// pick parts of them; `| lines=6-9 table="a,b,c" cols=1,3` makes a table of
// column-aligned output (see `textTable`); `| height=400` caps a diagram's height on the slide.
// A ```mermaid block in the deck itself is rendered too.
//
// Paths are relative to the deck's folder. Anything that cannot be found (a
// file, an anchor, a heading, a table) is an error that names the deck line,
// so the build fails instead of shipping a slide with a hole in it.

import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";

/** The most lines a code snippet may have: more cannot be read from the back. */
export const MAX_SNIPPET_LINES = 15;

/** The widest line a snippet may have at the deck's code font size. */
export const MAX_SNIPPET_COLUMNS = 80;

export class IncludeError extends Error {
  constructor(where, message) {
    super(`${where}: ${message}`);
    this.name = "IncludeError";
  }
}

function readSource(baseDir, path, where) {
  const full = resolve(baseDir, path);
  try {
    return readFileSync(full, "utf8");
  } catch (error) {
    throw new IncludeError(where, `cannot read ${path} (${full}): ${error.code ?? error.message}`);
  }
}

/**
 * The lines of one anchor region, as the reference solution has them, minus
 * the workshop's marker lines: `// exercise: solution` keeps its region,
 * `// exercise: stub` .. `// exercise: end` is the exercise's version and is
 * left out, and nested `ANCHOR` lines never show (as in mdBook).
 */
export function anchorLines(text, anchor, where) {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => new RegExp(`ANCHOR:\\s*${anchor}\\b`).test(l));
  if (start < 0) throw new IncludeError(where, `no "ANCHOR: ${anchor}" in the file`);
  const end = lines.findIndex((l, i) => i > start && new RegExp(`ANCHOR_END:\\s*${anchor}\\b`).test(l));
  if (end < 0) throw new IncludeError(where, `"ANCHOR: ${anchor}" has no ANCHOR_END`);
  const out = [];
  let inStub = false;
  for (const line of lines.slice(start + 1, end)) {
    if (/ANCHOR(_END)?:/.test(line)) continue;
    if (/^\s*(\/\/|#) exercise: stub\b/.test(line)) { inStub = true; continue; }
    if (/^\s*(\/\/|#) exercise: end\b/.test(line)) { inStub = false; continue; }
    if (/^\s*(\/\/|#) exercise: solution\b/.test(line)) continue;
    if (!inStub) out.push(line);
  }
  return out;
}

/** Removes whole-line comments and the blank lines they leave doubled. */
export function withoutComments(lines) {
  const kept = lines.filter((l) => !/^\s*\/\//.test(l));
  return kept.filter((l, i) => !(l.trim() === "" && (i === 0 || kept[i - 1].trim() === "")));
}

function dedent(lines) {
  const indents = lines.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  while (lines.length && !lines[0].trim()) lines.shift();
  return lines.map((l) => l.slice(cut));
}

/** The snippet for `{{#include path:anchor [nodoc]}}`, checked for size. */
export function snippet(baseDir, spec, where) {
  const m = spec.match(/^(\S+):(\w+)(?:\s+(nodoc))?$/);
  if (!m) throw new IncludeError(where, `expected {{#include PATH:ANCHOR [nodoc]}}, got "${spec}"`);
  const [, path, anchor, nodoc] = m;
  let lines = anchorLines(readSource(baseDir, path, where), anchor, where);
  if (nodoc) lines = withoutComments(lines);
  lines = dedent(lines);
  if (lines.length === 0) throw new IncludeError(where, `anchor ${anchor} in ${path} is empty`);
  if (lines.length > MAX_SNIPPET_LINES) {
    throw new IncludeError(where, `${path}:${anchor} has ${lines.length} lines; a slide shows at most ` +
      `${MAX_SNIPPET_LINES}: add a shorter anchor in the solution`);
  }
  const wide = lines.find((l) => l.length > MAX_SNIPPET_COLUMNS);
  if (wide) {
    throw new IncludeError(where, `${path}:${anchor} has a line of ${wide.length} columns, more than ` +
      `${MAX_SNIPPET_COLUMNS} fit at the deck's code size: "${wide.trim()}"`);
  }
  return lines.join("\n");
}

/** The lines of a Markdown file under `heading` (any level), up to the next heading of that level or higher. */
export function section(text, heading, where, path) {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, "").trim() === heading);
  if (start < 0) throw new IncludeError(where, `no heading "${heading}" in ${path}`);
  const level = lines[start].match(/^#+/)[0].length;
  const rest = lines.slice(start + 1);
  const stop = rest.findIndex((l) => { const h = l.match(/^(#+) /); return h && h[1].length <= level; });
  return stop < 0 ? rest : rest.slice(0, stop);
}

/** The first Markdown table in a section, as its lines. */
export function firstTable(lines, where) {
  const start = lines.findIndex((l) => /^\|/.test(l));
  if (start < 0) throw new IncludeError(where, "the section has no table");
  const table = [];
  for (const l of lines.slice(start)) { if (!/^\|/.test(l)) break; table.push(l); }
  return table;
}

/** The first ```text block in a section, as its lines. */
export function firstTextBlock(lines, where) {
  const start = lines.findIndex((l) => l.trim() === "```text");
  if (start < 0) throw new IncludeError(where, "the section has no ```text block");
  const end = lines.findIndex((l, i) => i > start && l.trim() === "```");
  if (end < 0) throw new IncludeError(where, "the ```text block is not closed");
  return lines.slice(start + 1, end);
}

function sectionOf(baseDir, spec, where) {
  const m = spec.match(/^([^#\s]+)#([^|]+?)\s*(?:\|\s*(.*))?$/);
  if (!m) throw new IncludeError(where, `expected PATH#HEADING [| options], got "${spec}"`);
  const [, path, heading, options] = m;
  return { lines: section(readSource(baseDir, path, where), heading.trim(), where, path), options: options ?? "" };
}

/**
 * Picks table rows and columns: `rows=1,2,3` (1-based data rows) and
 * `cols=1,4` (1-based columns); the header and its rule stay.
 */
export function pickTable(table, options, where) {
  const cells = (row) => row.replace(/^\|/, "").replace(/\|\s*$/, "").split("|").map((c) => c.trim());
  let rows = table.map(cells);
  const rowsOpt = options.match(/rows=([\d,]+)/);
  const colsOpt = options.match(/cols=([\d,]+)/);
  if (rowsOpt) {
    const wanted = rowsOpt[1].split(",").map(Number);
    const data = rows.slice(2);
    for (const n of wanted) if (!data[n - 1]) throw new IncludeError(where, `the table has no row ${n}`);
    rows = [rows[0], rows[1], ...wanted.map((n) => data[n - 1])];
  }
  if (colsOpt) {
    const wanted = colsOpt[1].split(",").map(Number);
    for (const n of wanted) if (rows[0][n - 1] === undefined) throw new IncludeError(where, `the table has no column ${n}`);
    rows = rows.map((r) => wanted.map((n) => r[n - 1]));
  }
  return rows.map((r) => `| ${r.join(" | ")} |`);
}

/** Picks lines of a text block: `lines=1-6` (1-based, inclusive). */
export function pickLines(lines, options, where) {
  const m = options.match(/lines=(\d+)-(\d+)/);
  if (!m) return lines;
  const [from, to] = [Number(m[1]), Number(m[2])];
  if (to > lines.length) throw new IncludeError(where, `the block has ${lines.length} lines, not ${to}`);
  return lines.slice(from - 1, to);
}

/**
 * Turns column-aligned program output into a Markdown table: cells are
 * separated by `|` or by two or more spaces, and every line must have one
 * cell per header name, so a change in the output's shape fails the build.
 */
export function textTable(lines, header, where) {
  const rows = lines.map((line, i) => {
    const cells = line.split("|").flatMap((group) => group.trim().split(/\s{2,}/)).filter((c) => c !== "");
    if (cells.length !== header.length) {
      throw new IncludeError(where, `output line ${i + 1} has ${cells.length} columns, the slide names ` +
        `${header.length}: "${line.trim()}"`);
    }
    return cells;
  });
  const align = rows[0].map((c) => (/^[\d.]/.test(c) ? "---:" : "---"));
  return [header, align, ...rows].map((r) => `| ${r.join(" | ")} |`);
}

/**
 * The book's steps, from its SUMMARY.md ("- [05 Backpressure: ...](05-backpressure.md)"),
 * as a two-column table whose numbers link to the chapters (`book:` links).
 */
export function stepMap(summary, where) {
  const steps = [...summary.matchAll(/^- \[(\d\d) ([^\]:]+)[^\]]*\]\((\d\d-[\w-]+)\.md\)/gm)]
    .map(([, number, title, page]) => [`[${number}](book:${page})`, title.trim()]);
  if (steps.length === 0) throw new IncludeError(where, "the summary lists no steps");
  const half = Math.ceil(steps.length / 2);
  const rows = steps.slice(0, half).map((left, i) => [...left, ...(steps[half + i] ?? ["", ""])]);
  return ["| step | topic | step | topic |", "|---|---|---|---|", ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

/**
 * Expands every include line of a deck. `hooks` renders what needs more
 * than text: `hooks.mermaid(source, where)` and `hooks.cast(path, where)`
 * return Markdown (an image).
 */
export async function expandDeck(markdown, { baseDir, deckName = "deck", hooks = {} }) {
  const out = [];
  const lines = markdown.split("\n");
  const directive = /^\s*\{\{#(include|file|table|text|mermaid|steps|cast)\s+(.+?)\s*\}\}\s*$/;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const where = `${deckName}:${i + 1}`;
    if (line.trim() === "```mermaid") {
      const end = lines.findIndex((l, j) => j > i && l.trim() === "```");
      if (end < 0) throw new IncludeError(where, "the mermaid block is not closed");
      if (!hooks.mermaid) throw new IncludeError(where, "no mermaid renderer");
      out.push(await hooks.mermaid(lines.slice(i + 1, end).join("\n"), where));
      i = end;
      continue;
    }
    const m = line.match(directive);
    if (!m) {
      if (/\{\{#/.test(line)) throw new IncludeError(where, `not an include this build knows: "${line.trim()}"`);
      out.push(line);
      continue;
    }
    const [, kind, spec] = m;
    if (kind === "include") {
      out.push(snippet(baseDir, spec, where));
    } else if (kind === "file") {
      const lines = dedent(readSource(baseDir, spec, where).split("\n"));
      if (lines.length > MAX_SNIPPET_LINES) {
        throw new IncludeError(where, `${spec} has ${lines.length} lines; a slide shows at most ${MAX_SNIPPET_LINES}`);
      }
      out.push(lines.join("\n"));
    } else if (kind === "table") {
      const { lines: body, options } = sectionOf(baseDir, spec, where);
      out.push(pickTable(firstTable(body, where), options, where).join("\n"));
    } else if (kind === "text") {
      const { lines: body, options } = sectionOf(baseDir, spec, where);
      const picked = pickLines(firstTextBlock(body, where), options, where);
      const header = options.match(/table="([^"]+)"/);
      if (header) {
        const table = textTable(picked, header[1].split(","), where);
        out.push(pickTable(table, options.replace(/table="[^"]+"/, ""), where).join("\n"));
      } else {
        out.push(picked.join("\n"));
      }
    } else if (kind === "mermaid") {
      const { lines: body, options } = sectionOf(baseDir, spec, where);
      const start = body.findIndex((l) => l.trim() === "```mermaid");
      if (start < 0) throw new IncludeError(where, "the section has no mermaid block");
      const end = body.findIndex((l, j) => j > start && l.trim() === "```");
      const height = options.match(/height=(\d+)/);
      const source = (height ? [`%% height: ${height[1]}`] : []).concat(body.slice(start + 1, end)).join("\n");
      if (!hooks.mermaid) throw new IncludeError(where, "no mermaid renderer");
      out.push(await hooks.mermaid(source, where));
    } else if (kind === "steps") {
      out.push(stepMap(readSource(baseDir, spec, where), where).join("\n"));
    } else if (kind === "cast") {
      if (!hooks.cast) throw new IncludeError(where, "no cast renderer");
      out.push(await hooks.cast(spec, where));
    }
  }
  return out.join("\n");
}
