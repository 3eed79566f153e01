#!/usr/bin/env node
// Builds the talk: deck.md -> dist/unstoppable-events.html (one self-contained
// file, presenter view with notes: press P) and dist/unstoppable-events.pdf
// (notes as PDF annotations), and copies both into book/src/slides/ so that
// the book's HTML carries the deck and its links to the chapters work.
//
//   npm ci && npm run build            (from slides/; needs Chromium: CHROME_PATH)
//   node build.mjs --deck FILE --out DIR --no-pdf --no-book   (tests use these)
//
// Every code snippet, measured figure and diagram is made here from the
// sources (lib/expand.mjs), and the build fails on anything it cannot find:
// a file, an anchor, a heading, a table row, a chapter a link names, a slide
// without speaker notes or without a timing in them.

import { mkdirSync, readFileSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { resolve, dirname, basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Marp } from "@marp-team/marp-core";
import { marpCli } from "@marp-team/marp-cli";
import { expandDeck, IncludeError } from "./lib/expand.mjs";
import { startMermaid, chromePath } from "./lib/mermaid.mjs";
import { readCast, animatedSvg, finalSvg } from "./lib/cast.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const deckPath = resolve(option("--deck", join(here, "deck.md")));
const outDir = resolve(option("--out", join(here, "dist")));
const wantPdf = !args.includes("--no-pdf");
const wantBook = !args.includes("--no-book");
const bookSrc = resolve(here, "../book/src");
/** Where chapter links point: the deck is served from book/html/slides/. */
const bookBase = "../";
const NAME = "unstoppable-events";

const dataUri = (svg) => `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;

/**
 * Makes mermaid's SVG a file of its own: XML (mermaid writes HTML's `<br>`),
 * and a real size instead of width="100%", which an <img> cannot scale.
 */
function fixedSize(svg) {
  svg = svg.replace(/<br\s*>/g, "<br/>");
  const box = svg.match(/viewBox="([\d.\-]+) ([\d.\-]+) ([\d.]+) ([\d.]+)"/);
  if (!box) return svg;
  return svg.replace(/<svg([^>]*?)width="100%"/, `<svg$1width="${box[3]}" height="${box[4]}"`)
    .replace(/style="max-width:[^"]*"/, "");
}

/**
 * `](book:05-backpressure)` or `](book:05-backpressure#heading)` becomes a
 * link into the built book; a chapter that does not exist fails the build.
 */
function bookLinks(markdown) {
  return markdown.replace(/\]\(book:([\w-]+)(#[\w-]+)?\)/g, (_, page, anchor = "") => {
    if (!existsSync(join(bookSrc, `${page}.md`))) {
      throw new IncludeError(basename(deckPath), `a link names the chapter ${page}, but book/src/${page}.md does not exist`);
    }
    return `](${bookBase}${page}.html${anchor})`;
  });
}

/**
 * Every slide has notes, and its notes start with its timing: "[m:ss]" for
 * the talk, "[m:ss workshop]" for the workshop appendix. Returns the sums.
 */
export function checkNotes(markdown, deckName = "deck") {
  const marp = new Marp({ html: true });
  const { comments } = marp.render(markdown);
  const seconds = { talk: 0, workshop: 0 };
  comments.forEach((notes, i) => {
    const text = notes.join("\n").trim();
    const timing = text.match(/^\[(\d+):([0-5]\d)( workshop)?\]/);
    if (!timing) {
      throw new IncludeError(deckName, `slide ${i + 1} has no speaker notes starting with its timing, e.g. "[1:30] ..."`);
    }
    seconds[timing[3] ? "workshop" : "talk"] += Number(timing[1]) * 60 + Number(timing[2]);
  });
  return { slides: comments.length, seconds };
}

async function expand(mode, mermaid, diagramCache) {
  const source = readFileSync(deckPath, "utf8");
  return bookLinks(await expandDeck(source, {
    baseDir: dirname(deckPath),
    deckName: basename(deckPath),
    hooks: {
      async mermaid(code, where) {
        // `%% height: 420` in a diagram caps its height on the slide (pixels).
        const height = (code.match(/^%% height: (\d+)/m) ?? [])[1] ?? "470";
        if (!diagramCache.has(code)) diagramCache.set(code, fixedSize(await mermaid.render(code, where)));
        return `<p class="diagram"><img alt="diagram" style="max-height:${height}px" src="${dataUri(diagramCache.get(code))}"></p>`;
      },
      async cast(path, where) {
        const file = resolve(dirname(deckPath), path);
        if (!existsSync(file)) throw new IncludeError(where, `no recording at ${path}`);
        const cast = readCast(file);
        const svg = mode === "pdf" ? finalSvg(cast) : animatedSvg(cast).svg;
        return `<p class="terminal"><img alt="the recorded demo" src="${dataUri(svg)}"></p>`;
      },
    },
  }));
}

async function marp(input, output, extra) {
  const theme = join(here, "theme/unstoppable.css");
  const code = await marpCli([input, "--theme-set", theme, "--html", "-o", output, ...extra]);
  if (code !== 0) throw new Error(`marp-cli failed (exit ${code}) on ${output}`);
}

async function main() {
  const started = Date.now();
  process.env.CHROME_PATH = chromePath();
  mkdirSync(outDir, { recursive: true });
  const mermaid = await startMermaid();
  const diagrams = new Map();
  let htmlDeck, pdfDeck;
  try {
    htmlDeck = await expand("html", mermaid, diagrams);
    pdfDeck = wantPdf ? await expand("pdf", mermaid, diagrams) : null;
  } finally {
    await mermaid.close();
  }
  const { slides, seconds } = checkNotes(htmlDeck, basename(deckPath));

  const work = join(outDir, "work");
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, `${NAME}.md`), htmlDeck);
  const html = join(outDir, `${NAME}.html`);
  await marp(join(work, `${NAME}.md`), html, []);
  const outputs = [html];
  if (wantPdf) {
    writeFileSync(join(work, `${NAME}.pdf.md`), pdfDeck);
    const pdf = join(outDir, `${NAME}.pdf`);
    await marp(join(work, `${NAME}.pdf.md`), pdf, ["--pdf", "--pdf-notes"]);
    outputs.push(pdf);
  }
  if (wantBook) {
    const target = join(bookSrc, "slides");
    mkdirSync(target, { recursive: true });
    for (const file of outputs) copyFileSync(file, join(target, basename(file)));
  }
  const minutes = (s) => (s / 60).toFixed(1);
  console.log(`${slides} slides, ${diagrams.size} diagrams; the notes' timings: talk ${minutes(seconds.talk)} min, ` +
    `workshop appendix ${minutes(seconds.workshop)} min`);
  for (const file of outputs) console.log(`wrote ${file}`);
  if (wantBook) console.log(`copied to ${join(bookSrc, "slides")}/ (the book serves the deck from there)`);
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch((error) => {
  console.error(`slides build failed: ${error.message}`);
  process.exit(1);
});
