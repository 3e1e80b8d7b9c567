import { checkChatStream } from "./check-chat-stream.js";
import { readSse } from "./read-sse.js";

export interface LoadTestOptions {
  /** e.g. `http://127.0.0.1:8000` */
  baseUrl: string;
  model: string;
  /** Concurrent streaming clients, all started at once. Default 50. */
  clients?: number;
  maxTokens?: number;
  apiKey?: string;
  /** Each client gives up after this long and counts as failed. Default 120 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface ClientOutcome {
  kind: "served" | "rejected" | "malformed" | "failed";
  status: number | null;
  detail: string | null;
  timeToFirstTokenMs: number | null;
  contentChunks: number;
  durationMs: number;
}

export interface LoadTestReport {
  clients: number;
  served: number;
  /** Answered 429 with a Retry-After header and an error body. */
  rejected: number;
  malformed: number;
  /** Network errors, timeouts and any other status. */
  failed: number;
  timeToFirstTokenMs: { p50: number | null; p95: number | null };
  /** Streamed content chunks (≈ tokens) per second, summed over all served clients, over the wall time. */
  tokensPerSecond: number;
  wallMs: number;
  healthyAfter: boolean;
  problems: string[];
  outcomes: ClientOutcome[];
}

/** Starts `clients` streaming chat requests at once and checks that each is served or answered 429. */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestReport> {
  const doFetch = options.fetch ?? fetch;
  const clients = options.clients ?? 50;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (options.apiKey) headers.Authorization = `Bearer ${options.apiKey}`;
  const startedAt = performance.now();

  const runClient = async (index: number): Promise<ClientOutcome> => {
    const clientStart = performance.now();
    let timeToFirstTokenMs: number | null = null;
    const outcome = (
      kind: ClientOutcome["kind"],
      status: number | null,
      detail: string | null,
      contentChunks = 0,
    ): ClientOutcome => ({
      kind,
      status,
      detail,
      timeToFirstTokenMs,
      contentChunks,
      durationMs: performance.now() - clientStart,
    });
    try {
      const response = await doFetch(`${options.baseUrl}/v1/chat/completions`, {
        method: "POST",
        headers,
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
        body: JSON.stringify({
          model: options.model,
          messages: [{ role: "user", content: `Client ${index}: tell me about alpacas.` }],
          stream: true,
          max_tokens: options.maxTokens ?? 16,
          temperature: 0.8,
          seed: index,
        }),
      });
      if (response.status === 429) {
        const body = (await response.json()) as { error?: { message?: unknown } };
        const retryAfter = Number(response.headers.get("retry-after"));
        if (!(retryAfter >= 1) || typeof body.error?.message !== "string") {
          return outcome("malformed", 429, "429 without Retry-After or error body");
        }
        return outcome("rejected", 429, null);
      }
      if (response.status !== 200 || !response.body) {
        return outcome("failed", response.status, (await response.text()).slice(0, 200));
      }
      if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
        return outcome("malformed", 200, `content-type ${response.headers.get("content-type")}`);
      }
      const sse = await readSse({
        body: response.body,
        onEvent: (event) => {
          const delta = (event as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
          if (timeToFirstTokenMs === null && delta) timeToFirstTokenMs = performance.now() - clientStart;
        },
      });
      const checked = checkChatStream(sse.events);
      const problem = sse.problem ?? checked.problem;
      return problem
        ? outcome("malformed", 200, problem, checked.contentChunks)
        : outcome("served", 200, null, checked.contentChunks);
    } catch (error) {
      return outcome("failed", null, error instanceof Error ? error.message : String(error));
    }
  };

  const outcomes = await Promise.all(Array.from({ length: clients }, (_, index) => runClient(index)));
  const wallMs = performance.now() - startedAt;
  let healthyAfter = false;
  try {
    healthyAfter = (await doFetch(`${options.baseUrl}/health`)).status === 200;
  } catch {
    healthyAfter = false;
  }
  const ttfts = outcomes
    .map((outcome) => outcome.timeToFirstTokenMs)
    .filter((value): value is number => value !== null)
    .sort((a, b) => a - b);
  const count = (kind: ClientOutcome["kind"]): number => outcomes.filter((outcome) => outcome.kind === kind).length;
  const tokens = outcomes.reduce((sum, outcome) => sum + (outcome.kind === "served" ? outcome.contentChunks : 0), 0);
  return {
    clients,
    served: count("served"),
    rejected: count("rejected"),
    malformed: count("malformed"),
    failed: count("failed"),
    timeToFirstTokenMs: { p50: percentile(ttfts, 0.5), p95: percentile(ttfts, 0.95) },
    tokensPerSecond: tokens / (wallMs / 1000),
    wallMs,
    healthyAfter,
    problems: [
      ...new Set(outcomes.map((outcome) => outcome.detail).filter((detail): detail is string => detail !== null)),
    ],
    outcomes,
  };
}

function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}
