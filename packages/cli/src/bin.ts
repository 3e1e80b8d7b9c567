#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { errorLine } from "./error-line.js";
import { exitProcess, exitProcessNow } from "./exit-process.js";
import { listenForInterrupts } from "./interrupts.js";
import { inheritedStderrTty, runWithQuietNativeStderr, wantsQuietNativeStderr } from "./quiet-native-stderr.js";
import { runCli } from "./run-cli.js";

const argv = process.argv.slice(2);
// webgpu starts Dawn in this process, whose native warnings only a parent can filter out of stderr.
if (wantsQuietNativeStderr(argv, process.env))
  process.exit(await runWithQuietNativeStderr(fileURLToPath(import.meta.url), argv));
const tty = inheritedStderrTty(process.env);
if (tty)
  for (const [key, value] of Object.entries(tty))
    Object.defineProperty(process.stderr, key, { value, configurable: true });

const debug = process.env.LLAMATS_DEBUG === "1";
const describe = (error: unknown): string =>
  debug && error instanceof Error && error.stack ? error.stack : errorLine(error);

// Registered before any backend loads: tfjs-backend-wasm's own handlers rethrow, which Node reports as exit code 7.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (error: unknown) => {
    process.stderr.write(`llamats: ${describe(error)}\n`);
    exitProcessNow(1);
  });
}

const interrupts = listenForInterrupts({ onSecondSignal: (code) => exitProcessNow(code) });

let code: number;
try {
  code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: interrupts.signal,
  });
} catch (error) {
  // runCli rethrows only under LLAMATS_DEBUG=1 (for the stack trace) or for a value that is not an Error.
  process.stderr.write(`llamats: ${describe(error)}\n`);
  code = 1;
}
// A signal decides the status (130 / 143), as a shell expects of an interrupted program.
await exitProcess(interrupts.exitCode() ?? code);
