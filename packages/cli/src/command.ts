import type { Writable } from "node:stream";

/** What every command receives: streams and environment, injectable for tests. */
export interface CommandContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on Ctrl-C / SIGTERM by the bin; long commands should stop cleanly. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `llamats --help`. */
  summary: string;
  /** Full text for `llamats <name> --help`. */
  usage: string;
  /** True when `--help` after a sub-command is the command's own business (e.g. `llamats bench train --help`). */
  handlesSubcommandHelp?: boolean;
  /** Returns the process exit code. Throw a LlamatsError for a clear one-paragraph failure. */
  run(args: string[], ctx: CommandContext): Promise<number>;
}
