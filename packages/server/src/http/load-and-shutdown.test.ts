import { afterEach, describe, expect, it } from "vitest";
import { readSse } from "../load-test/read-sse.js";
import { runLoadTest } from "../load-test/run-load-test.js";
import { listenFakeServer, postJson, waitFor, type FakeServer } from "../testing/listen-fake-server.js";

const chatRequest = (fields: Record<string, unknown> = {}) => ({
  model: "fake-base",
  messages: [{ role: "user", content: "hello" }],
  max_tokens: 1000,
  ...fields,
});

describe("under load", () => {
  let fake: FakeServer | undefined;
  afterEach(async () => {
    await fake?.server.close({ graceMs: 50 });
    fake = undefined;
  });

  it("runs at most maxConcurrency generations, queues queueSize more, and answers the rest 429 with Retry-After", async () => {
    fake = await listenFakeServer({
      maxConcurrency: 2,
      queueSize: 3,
      engine: { tokenDelayMs: 2, replyWords: () => 30 },
    });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        postJson(fake!.baseUrl, "/v1/chat/completions", chatRequest({ seed: index })),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
    for (const response of responses.filter((candidate) => candidate.status === 429)) {
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      const body = (await response.json()) as { error: { type: string; code: string } };
      expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    }
    for (const response of responses.filter((candidate) => candidate.status === 200)) await response.json();
    expect(fake.engine.stats().peakActive).toBe(2);
    expect(fake.engine.stats().finished).toBe(5);
  });

  it("interleaves concurrent streams: each gets tokens before any finishes", async () => {
    fake = await listenFakeServer({ maxConcurrency: 3, queueSize: 0, engine: { replyWords: () => 40 } });
    const firstTokenAt: number[] = [];
    const doneAt: number[] = [];
    await Promise.all(
      [0, 1, 2].map(async (index) => {
        const response = await postJson(
          fake!.baseUrl,
          "/v1/chat/completions",
          chatRequest({ stream: true, seed: index }),
        );
        let seen = false;
        await readSse({
          body: response.body!,
          onEvent: () => {
            if (!seen) firstTokenAt.push(performance.now());
            seen = true;
          },
        });
        doneAt.push(performance.now());
      }),
    );
    expect(Math.max(...firstTokenAt)).toBeLessThan(Math.min(...doneAt));
  });

  it("cancels the generation of a streaming client that disconnects, and frees its slot", async () => {
    fake = await listenFakeServer({
      maxConcurrency: 1,
      queueSize: 0,
      engine: { tokenDelayMs: 5, replyWords: () => 2000 },
    });
    const controller = new AbortController();
    const response = await postJson(
      fake.baseUrl,
      "/v1/chat/completions",
      chatRequest({ stream: true, max_tokens: 2000 }),
      {
        signal: controller.signal,
      },
    );
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    expect(fake.engine.stats().active).toBe(1);
    controller.abort();
    await waitFor(() => fake!.engine.stats().cancelled === 1 && fake!.engine.stats().active === 0);
    await waitFor(() => fake!.server.stats().active === 0);
    const next = await postJson(fake.baseUrl, "/v1/chat/completions", chatRequest({ max_tokens: 2 }));
    expect(next.status).toBe(200);
  });

  it("cancels a non-streaming generation and a queued request when their clients disconnect", async () => {
    fake = await listenFakeServer({
      maxConcurrency: 1,
      queueSize: 1,
      engine: { tokenDelayMs: 5, replyWords: () => 2000 },
    });
    const running = new AbortController();
    const queued = new AbortController();
    const first = postJson(fake.baseUrl, "/v1/chat/completions", chatRequest({ max_tokens: 2000 }), {
      signal: running.signal,
    }).catch(() => null);
    await waitFor(() => fake!.engine.stats().active === 1);
    const second = postJson(fake.baseUrl, "/v1/chat/completions", chatRequest({ max_tokens: 2000 }), {
      signal: queued.signal,
    }).catch(() => null);
    await waitFor(() => fake!.server.stats().queued === 1);
    queued.abort();
    await waitFor(() => fake!.server.stats().queued === 0);
    running.abort();
    await waitFor(() => fake!.engine.stats().cancelled === 1 && fake!.server.stats().active === 0);
    expect(fake.engine.stats().started).toBe(1);
    await Promise.all([first, second]);
  });

  it("serves 50 concurrent streaming clients: each served or 429, none malformed", async () => {
    fake = await listenFakeServer({ maxConcurrency: 4, queueSize: 20, engine: { tokenDelayMs: 10 } });
    const report = await runLoadTest({
      baseUrl: fake.baseUrl,
      model: "fake-base",
      clients: 50,
      maxTokens: 12,
      timeoutMs: 20_000,
    });
    expect(report.problems).toEqual([]);
    expect(report.malformed + report.failed).toBe(0);
    expect(report.served + report.rejected).toBe(50);
    // 4 running + 20 waiting fit at once; clients arriving after the first ones finish may fit too.
    expect(report.served).toBeGreaterThanOrEqual(24);
    expect(report.rejected).toBeGreaterThan(0);
    expect(report.healthyAfter).toBe(true);
    expect(report.timeToFirstTokenMs.p50).not.toBeNull();
  });

  it("keeps heap memory flat over many requests", async () => {
    fake = await listenFakeServer({ maxConcurrency: 4, queueSize: 100 });
    const round = () =>
      Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          postJson(fake!.baseUrl, "/v1/chat/completions", chatRequest({ stream: index % 2 === 0, max_tokens: 8 })).then(
            (r) => r.text(),
          ),
        ),
      );
    for (let warmup = 0; warmup < 3; warmup += 1) await round();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let index = 0; index < 10; index += 1) await round();
    gc?.();
    const growth = process.memoryUsage().heapUsed - before;
    // 400 requests; a leak of even 50 KB per request would show as 20 MB.
    expect(growth).toBeLessThan(20 * 1024 * 1024);
    expect(fake.server.stats()).toMatchObject({ active: 0, queued: 0 });
  });
});

describe("shutdown", () => {
  it("stops taking requests, lets a short generation finish, and cancels queued ones", async () => {
    const fake = await listenFakeServer({
      maxConcurrency: 1,
      queueSize: 2,
      engine: { tokenDelayMs: 5, replyWords: () => 10 },
    });
    const streaming = postJson(fake.baseUrl, "/v1/chat/completions", chatRequest({ stream: true }));
    await waitFor(() => fake.engine.stats().active === 1);
    const queued = postJson(fake.baseUrl, "/v1/chat/completions", chatRequest());
    await waitFor(() => fake.server.stats().queued === 1);
    const closing = fake.server.close({ graceMs: 5000 });
    const refused = await fake.server.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: chatRequest(),
    });
    expect(refused.statusCode).toBe(503);
    expect((await fake.server.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(503);
    expect((await queued).status).toBe(503);
    const sse = await readSse({ body: (await streaming).body! });
    expect(sse.problem).toBeNull();
    const last = sse.events.at(-1) as { choices: Array<{ finish_reason: string }> };
    expect(last.choices[0].finish_reason).toBe("stop");
    expect(await closing).toEqual({ finished: 1, cancelled: 0 });
    await expect(fetch(`${fake.baseUrl}/health`)).rejects.toThrow();
  });

  it("cancels generations still running when the grace period ends, telling streaming clients why", async () => {
    const fake = await listenFakeServer({ maxConcurrency: 2, engine: { tokenDelayMs: 5, replyWords: () => 2000 } });
    const streaming = postJson(fake.baseUrl, "/v1/chat/completions", chatRequest({ stream: true, max_tokens: 2000 }));
    const plain = postJson(fake.baseUrl, "/v1/completions", { model: "fake-base", prompt: "x", max_tokens: 2000 });
    await waitFor(() => fake.engine.stats().active === 2);
    const result = await fake.server.close({ graceMs: 100 });
    expect(result).toEqual({ finished: 0, cancelled: 2 });
    const sse = await readSse({ body: (await streaming).body! });
    expect(sse.sawDone).toBe(true);
    expect((sse.events.at(-1) as { error: { code: string } }).error.code).toBe("server_shutting_down");
    expect((await plain).status).toBe(503);
    expect(fake.engine.stats()).toMatchObject({ active: 0, cancelled: 2 });
  });
});
