import { describe, expect, it } from "vitest";
import { AdmissionCancelledError, AdmissionQueue, QueueFullError } from "./admission-queue.js";

describe("AdmissionQueue", () => {
  it("admits up to maxConcurrency, queues up to maxQueue in order, and refuses the rest", async () => {
    const queue = new AdmissionQueue({ maxConcurrency: 2, maxQueue: 2 });
    const first = await queue.acquire();
    const second = await queue.acquire();
    const order: string[] = [];
    const third = queue.acquire().then((release) => (order.push("third"), release));
    const fourth = queue.acquire().then((release) => (order.push("fourth"), release));
    await expect(queue.acquire()).rejects.toBeInstanceOf(QueueFullError);
    expect(queue.stats()).toMatchObject({ active: 2, queued: 2 });
    first();
    first(); // a second call must not free a second slot
    const releaseThird = await third;
    expect(queue.stats()).toMatchObject({ active: 2, queued: 1 });
    second();
    const releaseFourth = await fourth;
    expect(order).toEqual(["third", "fourth"]);
    releaseThird();
    releaseFourth();
    expect(queue.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it("gives a Retry-After of at least one second", async () => {
    const queue = new AdmissionQueue({ maxConcurrency: 1, maxQueue: 0 });
    await queue.acquire();
    const error = await queue.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it("drops a waiter whose signal aborts, and rejects waiters on close", async () => {
    const queue = new AdmissionQueue({ maxConcurrency: 1, maxQueue: 5 });
    const release = await queue.acquire();
    const controller = new AbortController();
    const aborted = queue.acquire({ signal: controller.signal });
    const closed = queue.acquire();
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AdmissionCancelledError);
    expect(queue.stats().queued).toBe(1);
    queue.close();
    await expect(closed).rejects.toBeInstanceOf(AdmissionCancelledError);
    await expect(queue.acquire()).rejects.toBeInstanceOf(AdmissionCancelledError);
    release();
    expect(queue.stats().active).toBe(0);
  });

  it("rejects nonsense limits", () => {
    expect(() => new AdmissionQueue({ maxConcurrency: 0, maxQueue: 1 })).toThrow(RangeError);
    expect(() => new AdmissionQueue({ maxConcurrency: 1, maxQueue: -1 })).toThrow(RangeError);
  });
});
