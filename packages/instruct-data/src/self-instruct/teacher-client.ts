import { TeacherError } from "./teacher-error.js";

/** Which OpenAI-compatible route the teacher is asked through. */
export type TeacherApi = "chat" | "completions";

export interface TeacherRequest {
  prompt: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  stop?: string[];
}

export interface TeacherAnswer {
  text: string;
  finishReason: string | null;
  promptTokens: number;
  completionTokens: number;
  /** Attempts it took, 1 when the first succeeded. */
  attempts: number;
}

export interface TeacherClientOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  api?: TeacherApi;
  fetch?: typeof fetch;
  /** A request that takes longer is aborted and retried (default 120 s). */
  requestTimeoutMs?: number;
  /** Retries after 429, 5xx, timeouts and network errors (default 5). */
  maxRetries?: number;
  /** First backoff delay; doubles each retry, with jitter, capped at 60 s (default 1000 ms). */
  retryBaseDelayMs?: number;
  log?: (line: string) => void;
}

interface OpenAIResponse {
  choices?: { text?: string; message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function endpointUrl(baseUrl: string, api: TeacherApi): string {
  const base = baseUrl.replace(/\/+$/, "");
  const root = /\/v\d+$/.test(base) ? base : `${base}/v1`;
  return `${root}/${api === "chat" ? "chat/completions" : "completions"}`;
}

function retryAfterMs(response: Response): number | null {
  const header = response.headers.get("retry-after");
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : null;
}

class RetryableFailure extends Error {
  constructor(
    message: string,
    readonly waitMs: number | null = null,
  ) {
    super(message);
  }
}

/** An OpenAI-compatible teacher: one prompt in, one answer out, with timeouts and retries with backoff. */
export class TeacherClient {
  private readonly url: string;
  private readonly api: TeacherApi;

  constructor(private readonly options: TeacherClientOptions) {
    this.api = options.api ?? "chat";
    this.url = endpointUrl(options.baseUrl, this.api);
  }

  private body(request: TeacherRequest): string {
    const common = {
      model: this.options.model,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      n: 1,
      ...(request.stop ? { stop: request.stop } : {}),
    };
    return JSON.stringify(
      this.api === "chat"
        ? { ...common, messages: [{ role: "user", content: request.prompt }] }
        : { ...common, prompt: request.prompt },
    );
  }

  private async attempt(
    request: TeacherRequest,
    signal: AbortSignal | undefined,
  ): Promise<Omit<TeacherAnswer, "attempts">> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 120_000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let response: Response;
    let json: OpenAIResponse;
    try {
      response = await (this.options.fetch ?? fetch)(this.url, {
        method: "POST",
        headers,
        body: this.body(request),
        signal: combined,
      });
      if (response.status === 429 || response.status >= 500) {
        await response.body?.cancel().catch(() => undefined);
        throw new RetryableFailure(`HTTP ${response.status}`, retryAfterMs(response));
      }
      if (!response.ok) {
        const detail = (await response.text().catch(() => "")).slice(0, 300);
        throw new TeacherError(`Teacher at ${this.url} answered HTTP ${response.status}: ${detail}`, {
          statusCode: response.status,
          url: this.url,
        });
      }
      json = (await response.json()) as OpenAIResponse;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof TeacherError || error instanceof RetryableFailure) throw error;
      if (timeout.aborted)
        throw new RetryableFailure(`no answer within ${this.options.requestTimeoutMs ?? 120_000} ms`);
      // fetch's network failures (refused, reset) and bodies that are not JSON.
      throw new RetryableFailure((error as Error).message);
    }
    const choice = json.choices?.[0];
    const text = this.api === "chat" ? choice?.message?.content : choice?.text;
    return {
      text: typeof text === "string" ? text : "",
      finishReason: choice?.finish_reason ?? null,
      promptTokens: json.usage?.prompt_tokens ?? 0,
      completionTokens: json.usage?.completion_tokens ?? 0,
    };
  }

  /** Sends one prompt; retries transient failures; throws TeacherError when the endpoint refuses or retries run out. */
  async complete(request: TeacherRequest, signal?: AbortSignal): Promise<TeacherAnswer> {
    const maxRetries = this.options.maxRetries ?? 5;
    const base = this.options.retryBaseDelayMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        return { ...(await this.attempt(request, signal)), attempts: attempt + 1 };
      } catch (error) {
        if (!(error instanceof RetryableFailure)) throw error;
        if (attempt >= maxRetries) {
          throw new TeacherError(`Teacher at ${this.url} failed ${attempt + 1} times; last: ${error.message}`, {
            url: this.url,
            cause: error,
          });
        }
        const backoff = Math.min(60_000, base * 2 ** attempt) * (0.5 + Math.random() / 2);
        const wait = Math.min(60_000, error.waitMs ?? backoff);
        this.options.log?.(`teacher: ${error.message}; retry ${attempt + 1}/${maxRetries} in ${Math.round(wait)} ms`);
        await sleep(wait, signal);
      }
    }
  }
}
