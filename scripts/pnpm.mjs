#!/usr/bin/env node
// Runs the pinned pnpm: a global one of the right version if present, else `npx pnpm@<pinned>`,
// so the README's commands work on a machine that has only Node.js and npm.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const pinned = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).packageManager.split("@")[1];
const args = process.argv.slice(2);
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", npm_config_update_notifier: "false" };

function run(cmd, cmdArgs) {
  return spawnSync(cmd, cmdArgs, { stdio: "inherit", env, cwd: root, shell: false });
}

const probe = spawnSync("pnpm", ["--version"], { encoding: "utf8", env });
const haveLocal = probe.status === 0 && probe.stdout.trim() === pinned;
const result = haveLocal ? run("pnpm", args) : run("npx", ["--yes", `pnpm@${pinned}`, ...args]);
if (result.error) {
  console.error(`Could not start pnpm ${pinned}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
