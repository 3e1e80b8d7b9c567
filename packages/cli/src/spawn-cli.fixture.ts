// Test helper: runs the built CLI (dist/bin.js) in a child process, with a hard timeout so a hang fails the test.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const CLI_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

export interface CliRun {
  code: number | null;
  /** Set when the timeout killed it: the process hung. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  ms: number;
}

export interface SpawnedCli {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when stdout or stderr has printed text matching `pattern` (rejects if the process ends first). */
  printed(pattern: RegExp): Promise<void>;
  /** Milliseconds since spawn. */
  elapsed(): number;
  /** What it has printed to stdout so far. */
  stdout(): string;
  done: Promise<CliRun>;
}

export interface SpawnCliOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Flags for node itself, e.g. ['--import', hook]. */
  nodeArgs?: string[];
}

export function spawnCli(args: string[], options: SpawnCliOptions): SpawnedCli {
  if (!existsSync(CLI_BIN))
    throw new Error(`${CLI_BIN} is missing: build the CLI first (cd packages/cli && npx tsup).`);
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, HF_HUB_OFFLINE: "1", LLAMATS_DEBUG: "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<{ pattern: RegExp; resolve: () => void }>();
  const check = (): void => {
    for (const waiter of waiters) {
      if (waiter.pattern.test(stdout) || waiter.pattern.test(stderr)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    check();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    check();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  const done = new Promise<CliRun>((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, stdout, stderr, ms: performance.now() - started });
    });
  });
  return {
    child,
    elapsed: () => performance.now() - started,
    stdout: () => stdout,
    printed: (pattern) =>
      new Promise<void>((resolve, reject) => {
        waiters.add({ pattern, resolve });
        check();
        void done.then((run) =>
          reject(new Error(`the CLI ended (code ${run.code}) before printing ${pattern}:\n${run.stderr}${run.stdout}`)),
        );
      }),
    done,
  };
}

/** Runs the CLI to its end. */
export function runCliProcess(args: string[], options: SpawnCliOptions): Promise<CliRun> {
  const spawned = spawnCli(args, options);
  spawned.child.stdin.end();
  return spawned.done;
}
