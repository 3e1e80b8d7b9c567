#!/usr/bin/env node
// Runs one benchmark and commits its JSON output with how it was made: bench/results/<name>.json holds the command,
// the date, the machine and the benchmark's own JSON. The README's "Where we stand" table is rendered from these
// files (scripts/readme-table.mjs), so every figure in it comes from a run.
// Usage: node scripts/bench-record.mjs <name> -- <command …>   e.g.
//   node scripts/bench-record.mjs tokenizer -- node packages/cli/dist/bin.js bench tokenizer --json
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

const root = fileURLToPath(new URL("..", import.meta.url));
const [name, separator, ...command] = process.argv.slice(2);
if (!name || separator !== "--" || command.length === 0 || !/^[\w-]+$/.test(name)) {
  console.error("usage: node scripts/bench-record.mjs <name> -- <command …>");
  process.exit(2);
}

/** The command's JSON: all of stdout, else its last line that is a JSON object. */
function parseOutput(stdout) {
  try {
    return JSON.parse(stdout);
  } catch {
    const line = stdout
      .trim()
      .split("\n")
      .reverse()
      .find((l) => l.trim().startsWith("{"));
    if (line) return JSON.parse(line);
    throw new Error(`the command printed no JSON object:\n${stdout.slice(-2000)}`);
  }
}

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  freeMemoryGiBAtStart: Math.round(freemem() / 2 ** 30),
  loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  platform: `${process.platform} ${process.arch}`,
  node: process.version,
};
const startedAt = new Date().toISOString();
const run = spawnSync(command[0], command.slice(1), {
  cwd: root,
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
  maxBuffer: 64 << 20,
});
if (run.status !== 0) {
  console.error(`${command.join(" ")} exited with ${run.status ?? run.error?.message}`);
  process.exit(1);
}
const record = {
  name,
  command: command.join(" "),
  startedAt,
  finishedAt: new Date().toISOString(),
  machine: { ...machine, loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
  result: parseOutput(run.stdout),
};
const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `${name}.json`);
// Written as Prettier writes JSON, so that the repository's format check passes on it as it is.
const text = await prettier.format(JSON.stringify(record), { ...(await prettier.resolveConfig(file)), filepath: file });
writeFileSync(`${file}.tmp`, text);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
