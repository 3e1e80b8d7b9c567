import type { ServerResponse } from "node:http";
import { ApiError } from "../api-error.js";

/**
 * Server-sent events on a raw response, with backpressure: `send` resolves once the client has taken
 * the bytes (or the connection is gone), so a slow reader slows its own generation instead of growing memory.
 */
export class SseStream {
  private readonly response: ServerResponse;
  private readonly drainTimeoutMs: number;
  private closed = false;

  constructor(options: { response: ServerResponse; drainTimeoutMs: number; headers?: Record<string, string> }) {
    this.response = options.response;
    this.drainTimeoutMs = options.drainTimeoutMs;
    this.response.on("close", () => {
      this.closed = true;
    });
    this.response.writeHead(200, {
      ...options.headers,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      // Tells nginx-style proxies not to buffer the stream.
      "X-Accel-Buffering": "no",
    });
    this.response.flushHeaders();
  }

  get isClosed(): boolean {
    return this.closed || this.response.destroyed;
  }

  /**
   * Runs `produce` (which sends the events), turns a failure into an OpenAI-style error event,
   * and always ends the stream with `data: [DONE]`.
   */
  async sendAll(options: {
    what: string;
    logger: { error(message: string): void };
    produce: () => Promise<void>;
  }): Promise<void> {
    try {
      await options.produce();
    } catch (error) {
      options.logger.error(`${options.what} stream failed: ${error instanceof Error ? error.message : String(error)}`);
      await this.send(
        new ApiError("The server had an error while generating.", { statusCode: 500, type: "server_error" }).toBody(),
      );
    } finally {
      await this.send("[DONE]");
      this.end();
    }
  }

  /** Sends one `data:` event; a JSON value is serialized, a string (like `[DONE]`) is sent as is. */
  send(data: unknown): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    const payload = typeof data === "string" ? data : JSON.stringify(data);
    if (this.response.write(`data: ${payload}\n\n`)) return Promise.resolve();
    return this.waitForDrain();
  }

  end(): void {
    if (!this.isClosed && !this.response.writableEnded) this.response.end();
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.response.off("drain", done);
        this.response.off("close", done);
        resolve();
      };
      // A client that stops reading for this long is treated as gone, so it cannot hold a slot forever.
      const timer = setTimeout(() => {
        this.response.destroy();
        done();
      }, this.drainTimeoutMs);
      this.response.on("drain", done);
      this.response.on("close", done);
    });
  }
}
