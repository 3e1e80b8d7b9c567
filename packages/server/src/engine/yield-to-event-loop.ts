/** Lets pending I/O (SSE writes, socket closes, new requests) run before the next generation step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
