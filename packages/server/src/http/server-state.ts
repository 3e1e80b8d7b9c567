import { setMaxListeners } from "node:events";
import { ApiError } from "../api-error.js";
import type { GenerationEngine, ModelCard } from "../engine/generation-engine.js";
import { UnknownModelError } from "../engine/unknown-model-error.js";
import type { AdmissionQueue } from "../scheduler/admission-queue.js";
import type { ServerLogger } from "./server-logger.js";

/** What the routes share: the engine, the admission queue, and whether the server is shutting down. */
export class ServerState {
  readonly engine: GenerationEngine;
  readonly admission: AdmissionQueue;
  readonly logger: ServerLogger;
  readonly drainTimeoutMs: number;
  /** Aborted when shutdown gives up waiting: every running generation stops. */
  readonly shutdownController = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private isDraining = false;

  constructor(options: {
    engine: GenerationEngine;
    admission: AdmissionQueue;
    logger: ServerLogger;
    drainTimeoutMs: number;
  }) {
    this.engine = options.engine;
    this.admission = options.admission;
    this.logger = options.logger;
    this.drainTimeoutMs = options.drainTimeoutMs;
    // Every request in flight listens for shutdown; hundreds of listeners here are expected, not a leak.
    setMaxListeners(0, this.shutdownController.signal);
  }

  get draining(): boolean {
    return this.isDraining;
  }

  get runningCount(): number {
    return this.running.size;
  }

  modelCard(id: string): ModelCard {
    const card = this.engine.listModels().find((candidate) => candidate.id === id);
    if (!card) throw new UnknownModelError(`The model '${id}' does not exist.`, { model: id });
    return card;
  }

  /** Throws 503 once shutdown has begun, so no new work starts. */
  assertAcceptingWork(): void {
    if (this.isDraining) throw shuttingDownError();
  }

  /** Keeps count of a generation so shutdown can wait for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const forget = (): void => {
      this.running.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  /** Stops taking work, lets running generations finish for up to `graceMs`, then cancels the rest. */
  async drain(options: { graceMs: number }): Promise<{ finished: number; cancelled: number }> {
    this.isDraining = true;
    this.admission.close();
    const atStart = this.running.size;
    const allDone = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      allDone.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), options.graceMs);
      }),
    ]);
    clearTimeout(timer);
    const cancelled = timedOut ? this.running.size : 0;
    if (timedOut) {
      this.shutdownController.abort(new Error("The server is shutting down."));
      await Promise.allSettled([...this.running]);
    }
    return { finished: atStart - cancelled, cancelled };
  }
}

export function shuttingDownError(): ApiError {
  return new ApiError("The server is shutting down; retry on another instance or in a moment.", {
    statusCode: 503,
    type: "service_unavailable",
    code: "server_shutting_down",
    headers: { Connection: "close", "Retry-After": "5" },
  });
}
