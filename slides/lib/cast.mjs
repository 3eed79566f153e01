// Turns an asciinema v2 recording (a .cast file) into an SVG the deck can
// show: animated for the HTML deck, with the recording's own timings, and the
// last screen for the PDF. A small terminal model is enough, because the
// recorded commands print plain lines: it handles \n, \r, \b, tabs, line
// wrapping at the recording's width, and drops colour escape sequences.

import { readFileSync } from "node:fs";

/** Parses a v2 cast: a JSON header line, then one [time, "o", text] per line. */
export function parseCast(text, where = "cast") {
  const lines = text.split("\n").filter((l) => l.trim());
  if (lines.length === 0) throw new Error(`${where}: the cast is empty`);
  const header = JSON.parse(lines[0]);
  if (header.version !== 2) throw new Error(`${where}: not an asciinema v2 cast (version ${header.version})`);
  const events = lines.slice(1).map((l, i) => {
    const event = JSON.parse(l);
    if (!Array.isArray(event) || typeof event[0] !== "number") {
      throw new Error(`${where}: event ${i + 1} is not [time, type, data]`);
    }
    return event;
  }).filter((e) => e[1] === "o");
  return { header, events };
}

/** A screen of `rows` lines of at most `cols` characters; the cursor is always on the last line written. */
class Screen {
  constructor(cols, rows) {
    this.cols = cols;
    this.rows = rows;
    this.lines = [""];
    this.col = 0;
  }
  write(data) {
    // Colour and cursor escapes carry nothing the slide needs.
    const text = data.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\x1b\][^\x07]*\x07/g, "");
    for (const ch of text) {
      if (ch === "\n") { this.newline(); }
      else if (ch === "\r") { this.col = 0; }
      else if (ch === "\b") { this.col = Math.max(0, this.col - 1); }
      else if (ch === "\t") { do { this.put(" "); } while (this.col % 8); }
      else if (ch >= " ") { this.put(ch); }
    }
  }
  put(ch) {
    if (this.col >= this.cols) { this.newline(); this.col = 0; }
    const line = this.lines[this.lines.length - 1].padEnd(this.col, " ");
    this.lines[this.lines.length - 1] = line.slice(0, this.col) + ch + line.slice(this.col + 1);
    this.col += 1;
  }
  newline() {
    this.lines.push("");
    if (this.lines.length > this.rows) this.lines.shift();
  }
  snapshot() {
    return [...this.lines];
  }
}

/** Screens over time: [{ time, lines }], one per moment the screen changed, merged within `step` seconds. */
export function frames({ header, events }, step = 0.05) {
  const screen = new Screen(header.width, header.height);
  const out = [];
  for (const [time, , data] of events) {
    screen.write(data);
    const last = out[out.length - 1];
    if (last && time - last.time < step) last.lines = screen.snapshot();
    else out.push({ time, lines: screen.snapshot() });
  }
  return out;
}

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const FONT = 18;
const LINE = 24;
const CHAR = 10.85; // DejaVu Sans Mono's advance at 18px
const PAD = 16;

function frameText(lines, y0) {
  return lines.map((l, i) => {
    const prompt = l.startsWith("$ ");
    const text = escape(l.replace(/\s+$/, ""));
    return text ? `<text x="${PAD}" y="${y0 + PAD + (i + 1) * LINE - 6}"${prompt ? ' class="p"' : ""}>${text}</text>` : "";
  }).join("");
}

function svgShell(width, height, body, style = "") {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<style>text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:${FONT}px;fill:#d8dee9;white-space:pre}` +
    `.p{fill:#a3e635}${style}</style>` +
    `<rect width="100%" height="100%" rx="10" fill="#1b1f27"/>${body}</svg>`;
}

/**
 * An animated SVG: every frame is stacked below the last, and a CSS animation
 * moves the stack one frame up at each frame's recorded time, then holds the
 * last screen for `holdSeconds` and starts again.
 */
export function animatedSvg(cast, { holdSeconds = 6, maxIdle = 2.5 } = {}) {
  const list = frames(cast);
  const { width: cols, height: rows } = cast.header;
  const width = Math.ceil(cols * CHAR + 2 * PAD);
  const height = rows * LINE + 2 * PAD;
  // Long idle gaps are shortened, as asciinema's idle_time_limit does.
  let shift = 0;
  const times = list.map((f, i) => {
    if (i > 0) shift += Math.max(0, f.time - list[i - 1].time - maxIdle);
    return f.time - shift;
  });
  const total = times[times.length - 1] + holdSeconds;
  const pct = (t) => ((t / total) * 100).toFixed(3);
  const keyframes = list.map((_, i) => `${pct(times[i])}%{transform:translateY(${-i * height}px)}`).join("");
  const body = `<svg x="0" y="0" width="${width}" height="${height}"><g class="reel">` +
    list.map((f, i) => frameText(f.lines, i * height)).join("") + "</g></svg>";
  const style = `.reel{animation:play ${total.toFixed(2)}s steps(1,end) infinite}` +
    `@keyframes play{${keyframes}100%{transform:translateY(${-(list.length - 1) * height}px)}}`;
  return { svg: svgShell(width, height, body, style), seconds: total, frames: list.length };
}

/** The last screen of the recording, for the PDF, where nothing moves. */
export function finalSvg(cast) {
  const list = frames(cast);
  const { width: cols, height: rows } = cast.header;
  const width = Math.ceil(cols * CHAR + 2 * PAD);
  const height = rows * LINE + 2 * PAD;
  return svgShell(width, height, frameText(list[list.length - 1].lines, 0));
}

export function readCast(path) {
  return parseCast(readFileSync(path, "utf8"), path);
}
