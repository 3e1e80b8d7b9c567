import { spawn } from "node:child_process";
import { NoiseFilter } from "./native-noise.js";

const FILTERED = "LLAMATS_NATIVE_STDERR_FILTERED";

/** The backend named on the command line (`--backend webgpu` or `--backend=webgpu`), if any. */
function backendArgument(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--backend") return argv[i + 1];
    if (argv[i].startsWith("--backend=")) return argv[i].slice("--backend=".length);
  }
  return undefined;
}

/**
 * Whether this run should go through a child whose stderr is filtered: Dawn is started in-process only for
 * webgpu, and it (with Mesa and the Vulkan loader) writes warnings from native code that no JS hook can catch.
 * LLAMATS_DEBUG shows them.
 */
export function wantsQuietNativeStderr(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return !env.LLAMATS_DEBUG && !env[FILTERED] && backendArgument(argv) === "webgpu";
}

/** In the filtered child: stderr is a pipe, but progress bars draw as on the parent's terminal. */
export function inheritedStderrTty(env: NodeJS.ProcessEnv): { isTTY: boolean; columns?: number } | null {
  if (!env[FILTERED]) return null;
  const columns = Number(env.LLAMATS_STDERR_COLUMNS);
  return { isTTY: env.LLAMATS_STDERR_TTY === "1", ...(columns > 0 ? { columns } : {}) };
}

/**
 * Runs this same command in a child with stderr piped through NoiseFilter; stdin and stdout stay the terminal's.
 * Signals sent to this process are passed on (the child ignores a repeat within a moment, as a terminal's Ctrl-C
 * reaches both). Resolves with the child's exit code (128 + signal number when it died of a signal).
 */
export function runWithQuietNativeStderr(script: string, argv: readonly string[]): Promise<number> {
  const stderr = process.stderr as NodeJS.WriteStream;
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    stdio: ["inherit", "inherit", "pipe"],
    env: {
      ...process.env,
      [FILTERED]: "1",
      LLAMATS_STDERR_TTY: stderr.isTTY ? "1" : "0",
      ...(stderr.columns ? { LLAMATS_STDERR_COLUMNS: String(stderr.columns) } : {}),
    },
  });
  const filter = new NoiseFilter((text) => stderr.write(text));
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => filter.push(chunk));
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      filter.flush();
      for (const [name, handler] of handlers) process.off(name, handler);
      resolve(code ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1));
    });
    child.on("error", (error) => {
      stderr.write(`llamats: could not start the command: ${error.message}\n`);
      resolve(1);
    });
  });
}
