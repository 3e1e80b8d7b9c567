/** The `data:` payloads of one SSE response, checked against the OpenAI stream shape. */
export interface SseReadResult {
  /** Parsed JSON payloads in order (the final `[DONE]` is not included). */
  events: unknown[];
  /** True when the stream ended with `data: [DONE]` and nothing after it. */
  sawDone: boolean;
  /** Why the stream is malformed, or null when it is well formed. */
  problem: string | null;
}

/**
 * Reads an SSE body to the end. `onEvent` sees each JSON payload as it arrives (to time the first token).
 * Every event must be a single `data:` line holding JSON, and the last one `[DONE]`.
 */
export async function readSse(options: {
  body: ReadableStream<Uint8Array>;
  onEvent?: (event: unknown) => void;
}): Promise<SseReadResult> {
  const reader = options.body.getReader();
  const decoder = new TextDecoder();
  const events: unknown[] = [];
  let buffer = "";
  let sawDone = false;
  let problem: string | null = null;
  const fail = (why: string): void => {
    problem ??= why;
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let boundary: number;
    while ((boundary = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      if (sawDone) fail("an event came after [DONE]");
      if (!block.startsWith("data: ") || block.includes("\n")) {
        fail(`an event is not one 'data: ' line: ${JSON.stringify(block.slice(0, 80))}`);
        continue;
      }
      const data = block.slice("data: ".length);
      if (data === "[DONE]") {
        sawDone = true;
        continue;
      }
      try {
        const event: unknown = JSON.parse(data);
        events.push(event);
        options.onEvent?.(event);
      } catch {
        fail(`an event is not JSON: ${JSON.stringify(data.slice(0, 80))}`);
      }
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) fail(`the stream ended inside an event: ${JSON.stringify(buffer.slice(0, 80))}`);
  if (!sawDone) fail("the stream did not end with data: [DONE]");
  return { events, sawDone, problem };
}
