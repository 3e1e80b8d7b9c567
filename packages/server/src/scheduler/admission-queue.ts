/** Thrown by `AdmissionQueue.acquire` when every slot and every queue place is taken. */
export class QueueFullError extends Error {
  /** Seconds a client should wait before trying again. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options: { retryAfterSeconds: number }) {
    super(message);
    this.name = "QueueFullError";
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Thrown to a waiter whose signal was aborted or when the queue is closed. */
export class AdmissionCancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdmissionCancelledError";
  }
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: Error) => void;
  onAbort: () => void;
  signal: AbortSignal | undefined;
}

export interface AdmissionQueueOptions {
  /** How many generations run (interleaved) at once. */
  maxConcurrency: number;
  /** How many more may wait for a slot; beyond that `acquire` throws `QueueFullError`. */
  maxQueue: number;
}

export interface AdmissionStats {
  active: number;
  queued: number;
  maxConcurrency: number;
  maxQueue: number;
}

/** A concurrency limit with a bounded FIFO wait list: nothing waits without bound. */
export class AdmissionQueue {
  readonly maxConcurrency: number;
  readonly maxQueue: number;
  private active = 0;
  private readonly waiters: Waiter[] = [];
  private closed = false;
  // Recent generation durations, to tell a rejected client when a slot is likely free.
  private averageHoldMs = 1000;

  constructor(options: AdmissionQueueOptions) {
    if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new RangeError(`maxConcurrency must be an integer >= 1, got ${options.maxConcurrency}`);
    }
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0) {
      throw new RangeError(`maxQueue must be an integer >= 0, got ${options.maxQueue}`);
    }
    this.maxConcurrency = options.maxConcurrency;
    this.maxQueue = options.maxQueue;
  }

  stats(): AdmissionStats {
    return {
      active: this.active,
      queued: this.waiters.length,
      maxConcurrency: this.maxConcurrency,
      maxQueue: this.maxQueue,
    };
  }

  /** Resolves with a `release` function once a slot is free; call it exactly once when done. */
  acquire(options: { signal?: AbortSignal } = {}): Promise<() => void> {
    const { signal } = options;
    if (this.closed) return Promise.reject(new AdmissionCancelledError("The server is shutting down."));
    if (signal?.aborted) return Promise.reject(new AdmissionCancelledError("The request was cancelled."));
    if (this.active < this.maxConcurrency) {
      this.active += 1;
      return Promise.resolve(this.makeRelease());
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(
        new QueueFullError(
          `The server is busy: ${this.active} generations running and ${this.waiters.length} waiting. Retry later.`,
          { retryAfterSeconds: this.retryAfterSeconds() },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.removeWaiter(waiter);
          reject(new AdmissionCancelledError("The request was cancelled while waiting."));
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Rejects every waiter and every later `acquire`; running holders keep their slots. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.reject(new AdmissionCancelledError("The server is shutting down."));
    }
  }

  private retryAfterSeconds(): number {
    const rounds = Math.ceil((this.waiters.length + 1) / this.maxConcurrency);
    return Math.max(1, Math.min(60, Math.ceil((rounds * this.averageHoldMs) / 1000)));
  }

  private removeWaiter(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
  }

  private makeRelease(): () => void {
    const startedAt = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageHoldMs = 0.8 * this.averageHoldMs + 0.2 * (Date.now() - startedAt);
      const next = this.waiters.shift();
      if (next) {
        next.signal?.removeEventListener("abort", next.onAbort);
        next.resolve(this.makeRelease());
      } else {
        this.active -= 1;
      }
    };
  }
}
