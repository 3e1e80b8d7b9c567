import { releaseBackend } from "@llamats/core";

/** Resolves once everything written to the stream so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((done) => {
    if (stream.destroyed || !stream.writable) done();
    else stream.write("", () => done());
  });
}

/**
 * Ends the process with `code`: frees the WebGPU device, lets stdout/stderr drain (at most `drainMs`), then exits
 * even if something (wasm pthread workers, a timer, a socket) would keep Node running.
 */
export async function exitProcess(code: number, options: { drainMs?: number } = {}): Promise<never> {
  try {
    releaseBackend();
  } catch {
    // Exiting anyway: the OS frees the device with the process.
  }
  const timeout = new Promise<void>((done) => setTimeout(done, options.drainMs ?? 500).unref());
  await Promise.race([Promise.all([drained(process.stdout), drained(process.stderr)]), timeout]);
  process.exit(code);
}

/** Exits now, without waiting for the streams (a second Ctrl-C, or a handler that must not return). */
export function exitProcessNow(code: number): never {
  try {
    releaseBackend();
  } catch {
    // As above.
  }
  process.exit(code);
}
