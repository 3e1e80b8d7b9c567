// Test helper: a CommandContext whose stdout/stderr are collected into strings.
import { Writable } from "node:stream";
import type { CommandContext } from "../command.js";

export interface CapturedContext extends CommandContext {
  out(): string;
  err(): string;
}

function collector(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
}

export function captureContext(env: NodeJS.ProcessEnv = {}): CapturedContext {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: collector(out),
    stderr: collector(err),
    env,
    cwd: process.cwd(),
    signal: new AbortController().signal,
    out: () => out.join(""),
    err: () => err.join(""),
  };
}
