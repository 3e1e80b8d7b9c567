/**
 * A FIFO mutex around one generation step: interleaved generations take turns on the single tensor
 * engine (round-robin), and the active adapter cannot change in the middle of a step.
 */
export class StepLock {
  private held = false;
  private readonly queue: Array<() => void> = [];

  async run<T>(step: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await step();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.held = false;
  }
}
