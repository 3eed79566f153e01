#!/usr/bin/env node
// Records the live demo's fallback: runs each command of a demo script in the
// repository root and writes an asciinema v2 cast with the commands' real
// output at the real times it arrived. Only the typing of each command is
// made up (one character every 40 ms), so the audience can read it.
//
//   node tools/record.mjs demo/demo.sh demo/demo.cast
//
// The script is a list of shell commands, one per line; lines starting with
// `#` are shown as comments, and the recording stops at the first command
// that fails (a fallback that shows a failure is no fallback).

import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const [scriptPath, castPath] = process.argv.slice(2);
if (!scriptPath || !castPath) {
  console.error("usage: node tools/record.mjs DEMO_SCRIPT OUT.cast");
  process.exit(2);
}
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const commands = readFileSync(scriptPath, "utf8").split("\n").filter((l) => l.trim());

const WIDTH = 100;
const HEIGHT = 22;
const TYPING = 0.04;
const events = [];
let clock = 0; // seconds since the start of the recording
const start = process.hrtime.bigint();
const now = () => Number(process.hrtime.bigint() - start) / 1e9;
const emit = (text, at = clock) => events.push([Number(at.toFixed(6)), "o", text]);

function run(command) {
  return new Promise((resolvePromise, reject) => {
    // Output is read from pipes, not a terminal, so cargo prints no colours
    // and no progress bars: what is recorded is exactly the lines printed.
    const child = spawn("bash", ["-c", command], { cwd: repo, env: { ...process.env, CARGO_TERM_COLOR: "never" } });
    const offset = clock - now();
    const record = (chunk) => emit(chunk.toString("utf8").replace(/\r?\n/g, "\r\n"), now() + offset);
    child.stdout.on("data", record);
    child.stderr.on("data", record);
    child.on("error", reject);
    child.on("close", (code) => {
      clock = now() + offset;
      if (code === 0) resolvePromise();
      else reject(new Error(`"${command}" exited with ${code}: the recording is not written`));
    });
  });
}

for (const command of commands) {
  emit("$ ");
  for (const ch of command) { clock += TYPING; emit(ch); }
  clock += 0.4;
  emit("\r\n");
  if (command.startsWith("#")) { clock += 1.2; continue; }
  await run(command);
  clock += 1.5;
}
emit("$ ");

const header = {
  version: 2,
  width: WIDTH,
  height: HEIGHT,
  timestamp: Math.floor(Date.now() / 1000),
  title: "Unstoppable Events: the live demo, recorded",
  env: { SHELL: "/bin/bash", TERM: "xterm-256color" },
};
writeFileSync(castPath, [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))].join("\n") + "\n");
console.log(`${castPath}: ${events.length} events, ${clock.toFixed(1)} s`);
