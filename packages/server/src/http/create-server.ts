import Fastify, { type FastifyInstance } from "fastify";
import { ApiError } from "../api-error.js";
import type { GenerationEngine } from "../engine/generation-engine.js";
import { AdmissionQueue, type AdmissionStats } from "../scheduler/admission-queue.js";
import { createAuthHook } from "./auth.js";
import { createErrorHandler, sendApiError } from "./error-handler.js";
import { registerChatCompletionsRoute } from "./routes/chat-completions.js";
import { registerChatPageRoute } from "./routes/chat-page.js";
import { registerCompletionsRoute } from "./routes/completions.js";
import { registerHealthRoute } from "./routes/health.js";
import { registerModelsRoutes } from "./routes/models.js";
import { silentLogger, type ServerLogger } from "./server-logger.js";
import { ServerState } from "./server-state.js";

export interface CreateServerOptions {
  engine: GenerationEngine;
  /** When set, every request but `GET /health` needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Generations that run (interleaved) at once. Default 4. */
  maxConcurrency?: number;
  /** Requests that may wait for a slot; beyond that the answer is 429. Default 32. */
  queueSize?: number;
  /** Largest accepted request body. Default 1 MiB. */
  maxBodyBytes?: number;
  /** A streaming client that reads nothing for this long is dropped. Default 30 s. */
  drainTimeoutMs?: number;
  /** Serve the web chat page at `/`. Default true. */
  chatPage?: boolean;
  logger?: ServerLogger;
}

export interface LlamatsServer {
  /** The Fastify instance, e.g. for `app.inject` in tests. */
  readonly app: FastifyInstance;
  /** Starts listening; the host defaults to 127.0.0.1 (this machine only). Returns the base URL. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  /**
   * Stops taking requests (503), lets running generations finish for up to `graceMs`, cancels the rest,
   * then closes every connection.
   */
  close(options?: { graceMs?: number }): Promise<{ finished: number; cancelled: number }>;
  stats(): AdmissionStats & { draining: boolean };
}

/** Builds the OpenAI-compatible server around a generation engine. */
export async function createServer(options: CreateServerOptions): Promise<LlamatsServer> {
  const logger = options.logger ?? silentLogger;
  const admission = new AdmissionQueue({
    maxConcurrency: options.maxConcurrency ?? 4,
    maxQueue: options.queueSize ?? 32,
  });
  const state = new ServerState({
    engine: options.engine,
    admission,
    logger,
    drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
  });
  if (options.apiKey !== undefined && options.apiKey.length === 0) {
    throw new TypeError("apiKey must not be empty; leave it out to serve without a key.");
  }

  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes ?? 1024 * 1024,
    // Wrong types are errors, never silently coerced ("0.5" is not a temperature).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    return503OnClosing: true,
    // close() runs after our own drain, when no generation is left: nothing is cut short.
    forceCloseConnections: true,
  });
  app.setErrorHandler(createErrorHandler(logger));
  app.setNotFoundHandler((request, reply) => {
    sendApiError(
      reply,
      new ApiError(`Unknown request URL: ${request.method} ${request.url.split("?")[0]}.`, {
        statusCode: 404,
        type: "invalid_request_error",
        code: "unknown_url",
      }),
    );
  });
  if (options.apiKey !== undefined) app.addHook("onRequest", createAuthHook(options.apiKey));

  registerHealthRoute(app, state);
  registerModelsRoutes(app, state);
  registerChatCompletionsRoute(app, state);
  registerCompletionsRoute(app, state);
  if (options.chatPage ?? true) registerChatPageRoute(app);
  await app.ready();

  let closing: Promise<{ finished: number; cancelled: number }> | null = null;
  return {
    app,
    async listen(listenOptions = {}) {
      const host = listenOptions.host ?? "127.0.0.1";
      await app.listen({ host, port: listenOptions.port ?? 8000 });
      const address = app.server.address();
      const port = typeof address === "object" && address ? address.port : listenOptions.port;
      const shownHost = host.includes(":") ? `[${host}]` : host;
      logger.info(`llamats server listening on http://${shownHost}:${port}`);
      return `http://${shownHost}:${port}`;
    },
    close(closeOptions = {}) {
      closing ??= (async () => {
        const result = await state.drain({ graceMs: closeOptions.graceMs ?? 10_000 });
        await app.close();
        options.engine.dispose?.();
        return result;
      })();
      return closing;
    },
    stats: () => ({ ...admission.stats(), draining: state.draining }),
  };
}
