import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkChatStream } from "../load-test/check-chat-stream.js";
import { readSse } from "../load-test/read-sse.js";
import { listenFakeServer, postJson, type FakeServer } from "../testing/listen-fake-server.js";

describe("OpenAI-compatible API (fake engine)", () => {
  let fake: FakeServer;
  beforeAll(async () => {
    fake = await listenFakeServer({
      engine: { models: [{ id: "base" }, { id: "alpaca-adapter", promptFormat: "alpaca" }], contextLength: 400 },
    });
  });
  afterAll(async () => {
    await fake.server.close({ graceMs: 100 });
  });

  it("lists the base model and each adapter", async () => {
    const response = await fetch(`${fake.baseUrl}/v1/models`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      object: string;
      data: Array<{ id: string; object: string; kind: string; parent: string | null }>;
    };
    expect(body.object).toBe("list");
    expect(body.data.map((model) => [model.id, model.object, model.kind, model.parent])).toEqual([
      ["base", "model", "base", null],
      ["alpaca-adapter", "model", "adapter", "base"],
    ]);
    const one = await fetch(`${fake.baseUrl}/v1/models/alpaca-adapter`);
    expect(((await one.json()) as { id: string }).id).toBe("alpaca-adapter");
    expect((await fetch(`${fake.baseUrl}/v1/models/nope`)).status).toBe(404);
  });

  it("answers a non-streaming chat completion with usage", async () => {
    const response = await postJson(fake.baseUrl, "/v1/chat/completions", {
      model: "base",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 50,
      temperature: 0,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      id: string;
      object: string;
      model: string;
      choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe("base");
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0].message.role).toBe("assistant");
    expect(body.choices[0].message.content.length).toBeGreaterThan(0);
    expect(body.choices[0].finish_reason).toBe("stop");
    // The plain format renders "User: Hello\nAssistant:" — one fake token per character.
    expect(body.usage.prompt_tokens).toBe("User: Hello\nAssistant:".length);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it("is deterministic for a seed and stops at max_tokens with finish_reason length", async () => {
    const request = { model: "base", prompt: "Once upon a time", max_tokens: 3, temperature: 0.9, seed: 7 };
    const first = (await (await postJson(fake.baseUrl, "/v1/completions", request)).json()) as {
      object: string;
      choices: Array<{ text: string; finish_reason: string; index: number; logprobs: null }>;
      usage: { completion_tokens: number };
    };
    const second = (await (await postJson(fake.baseUrl, "/v1/completions", request)).json()) as typeof first;
    expect(first.object).toBe("text_completion");
    expect(first.choices[0].text).toBe(second.choices[0].text);
    expect(first.choices[0].finish_reason).toBe("length");
    expect(first.usage.completion_tokens).toBe(3);
    expect(first.choices[0].text.split(" ")).toHaveLength(3);
  });

  it("gives one choice per prompt for a list of prompts, and honours echo", async () => {
    const response = await postJson(fake.baseUrl, "/v1/completions", {
      model: "base",
      prompt: ["First task:", "Second task:"],
      max_tokens: 4,
      echo: true,
    });
    const body = (await response.json()) as { choices: Array<{ index: number; text: string }> };
    expect(body.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(body.choices[0].text.startsWith("First task:")).toBe(true);
    expect(body.choices[1].text.startsWith("Second task:")).toBe(true);
  });

  it("cuts the text before a stop string and reports finish_reason stop", async () => {
    const request = { model: "base", prompt: "Write words", max_tokens: 30, temperature: 0, seed: 1 };
    const full = (
      (await (await postJson(fake.baseUrl, "/v1/completions", request)).json()) as { choices: Array<{ text: string }> }
    ).choices[0].text;
    const words = full.split(" ");
    expect(words.length).toBeGreaterThan(3);
    const stop = ` ${words[2]}`;
    const cut = (await (await postJson(fake.baseUrl, "/v1/completions", { ...request, stop: [stop] })).json()) as {
      choices: Array<{ text: string; finish_reason: string }>;
    };
    expect(cut.choices[0].text).toBe(full.slice(0, full.indexOf(stop)));
    expect(cut.choices[0].finish_reason).toBe("stop");
  });

  it("streams a chat completion as SSE chunks ending with [DONE], with the same text as non-streaming", async () => {
    const request = {
      model: "alpaca-adapter",
      messages: [{ role: "user", content: "Name three animals." }],
      temperature: 0,
      max_tokens: 40,
    };
    const response = await postJson(fake.baseUrl, "/v1/chat/completions", {
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const sse = await readSse({ body: response.body! });
    expect(sse.problem).toBeNull();
    const checked = checkChatStream(sse.events);
    expect(checked.problem).toBeNull();
    expect(checked.contentChunks).toBeGreaterThan(1);
    const usage = (sse.events.at(-1) as { usage: { completion_tokens: number } }).usage;
    expect(usage.completion_tokens).toBe(checked.contentChunks);
    const plain = (await (await postJson(fake.baseUrl, "/v1/chat/completions", request)).json()) as {
      choices: Array<{ message: { content: string } }>;
    };
    expect(checked.text).toBe(plain.choices[0].message.content);
  });

  it("streams completions with text chunks and a final finish_reason", async () => {
    const response = await postJson(fake.baseUrl, "/v1/completions", {
      model: "base",
      prompt: "Hi",
      max_tokens: 5,
      stream: true,
    });
    const sse = await readSse({ body: response.body! });
    expect(sse.problem).toBeNull();
    const choices = sse.events.map(
      (event) => (event as { choices: Array<{ text: string; finish_reason: string | null }> }).choices[0],
    );
    expect(choices.at(-1)?.finish_reason).toBe("length");
    expect(choices.slice(0, -1).every((choice) => choice.finish_reason === null && choice.text.length > 0)).toBe(true);
    expect(choices).toHaveLength(6);
  });

  it("answers health with the models and queue state", async () => {
    const response = await fetch(`${fake.baseUrl}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; models: string[]; generations: { active: number } };
    expect(body.status).toBe("ok");
    expect(body.models).toEqual(["base", "alpaca-adapter"]);
    expect(body.generations.active).toBe(0);
  });

  it("serves the chat page at / as one self-contained HTML file with a strict CSP", async () => {
    const response = await fetch(`${fake.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toContain('<meta name="viewport"');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']https?:/);
  });
});
