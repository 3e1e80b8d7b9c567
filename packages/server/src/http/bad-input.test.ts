import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeEngine } from "../engine/fake-engine.js";
import { createServer, type LlamatsServer } from "./create-server.js";

interface Case {
  name: string;
  url?: string;
  body: string;
  contentType?: string;
  status: number;
  param?: string | null;
  code?: string;
}

const chat = (fields: Record<string, unknown>): string =>
  JSON.stringify({ model: "base", messages: [{ role: "user", content: "hi" }], ...fields });

const CASES: Case[] = [
  { name: "malformed JSON", body: '{"model": "base", "messages": [', status: 400, code: "invalid_json" },
  { name: "empty body", body: "", status: 400, code: "invalid_json" },
  { name: "a JSON array instead of an object", body: "[]", status: 400, code: "invalid_type" },
  { name: "a JSON null", body: "null", status: 400 },
  {
    name: "missing model",
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
    status: 400,
    param: "model",
    code: "missing_required_parameter",
  },
  { name: "missing messages", body: JSON.stringify({ model: "base" }), status: 400, param: "messages" },
  { name: "empty messages", body: chat({ messages: [] }), status: 400, param: "messages" },
  { name: "model of the wrong type", body: chat({ model: 42 }), status: 400, param: "model", code: "invalid_type" },
  { name: "temperature as a string", body: chat({ temperature: "0.5" }), status: 400, param: "temperature" },
  {
    name: "temperature out of range",
    body: chat({ temperature: 2.5 }),
    status: 400,
    param: "temperature",
    code: "invalid_value",
  },
  { name: "top_p out of range", body: chat({ top_p: 1.5 }), status: 400, param: "top_p" },
  { name: "max_tokens zero", body: chat({ max_tokens: 0 }), status: 400, param: "max_tokens" },
  { name: "max_tokens negative", body: chat({ max_tokens: -5 }), status: 400, param: "max_tokens" },
  { name: "max_tokens fractional", body: chat({ max_tokens: 2.5 }), status: 400, param: "max_tokens" },
  {
    name: "max_tokens beyond the context",
    body: chat({ max_tokens: 5000 }),
    status: 400,
    param: "max_tokens",
    code: "context_length_exceeded",
  },
  { name: "n other than 1", body: chat({ n: 2 }), status: 400, param: "n" },
  { name: "stream not a boolean", body: chat({ stream: "yes" }), status: 400, param: "stream" },
  { name: "more than four stop strings", body: chat({ stop: ["a", "b", "c", "d", "e"] }), status: 400, param: "stop" },
  { name: "seed as a float", body: chat({ seed: 1.5 }), status: 400, param: "seed" },
  {
    name: "an unknown role",
    body: chat({ messages: [{ role: "wizard", content: "hi" }] }),
    status: 400,
    param: "messages[0].role",
    code: "invalid_value",
  },
  {
    name: "content of the wrong type",
    body: chat({ messages: [{ role: "user", content: 42 }] }),
    status: 400,
    param: "messages[0].content",
  },
  {
    name: "a message without content",
    body: chat({ messages: [{ role: "user" }] }),
    status: 400,
    param: "messages[0].content",
  },
  {
    name: "no user message",
    body: chat({ messages: [{ role: "system", content: "be nice" }] }),
    status: 400,
    param: "messages",
  },
  { name: "an unknown model", body: chat({ model: "gpt-4" }), status: 404, param: "model", code: "model_not_found" },
  {
    name: "a prompt longer than the context window",
    body: chat({ messages: [{ role: "user", content: "x".repeat(300) }] }),
    status: 400,
    param: "messages",
    code: "context_length_exceeded",
  },
  {
    name: "a completion prompt longer than the context",
    url: "/v1/completions",
    body: JSON.stringify({ model: "base", prompt: "y".repeat(300) }),
    status: 400,
    param: "prompt",
    code: "context_length_exceeded",
  },
  {
    name: "a completion prompt of the wrong type",
    url: "/v1/completions",
    body: JSON.stringify({ model: "base", prompt: 12 }),
    status: 400,
    param: "prompt",
  },
  {
    name: "a completion prompt list with a number",
    url: "/v1/completions",
    body: JSON.stringify({ model: "base", prompt: ["a", 3] }),
    status: 400,
    param: "prompt",
  },
  {
    name: "a form body instead of JSON",
    body: "model=base",
    contentType: "application/x-www-form-urlencoded",
    status: 415,
  },
  {
    name: "a body over the size cap",
    body: chat({ messages: [{ role: "user", content: "z".repeat(70_000) }] }),
    status: 413,
  },
  {
    name: "prototype poisoning",
    body: '{"model":"base","messages":[{"role":"user","content":"hi"}],"__proto__":{"x":1}}',
    status: 400,
  },
];

describe("bad input gets a 4xx with an OpenAI-style error body", () => {
  let server: LlamatsServer;
  beforeAll(async () => {
    server = await createServer({
      engine: createFakeEngine({ models: [{ id: "base" }], contextLength: 256 }),
      maxBodyBytes: 64 * 1024,
    });
  });
  afterAll(async () => {
    await server.close({ graceMs: 100 });
  });

  it.each(CASES)("$name → $status", async (testCase) => {
    const response = await server.app.inject({
      method: "POST",
      url: testCase.url ?? "/v1/chat/completions",
      headers: { "content-type": testCase.contentType ?? "application/json" },
      payload: testCase.body,
    });
    expect(response.statusCode).toBe(testCase.status);
    const body = response.json<{
      error: { message: string; type: string; param: string | null; code: string | null };
    }>();
    expect(typeof body.error.message).toBe("string");
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(body.error.type).toBe("invalid_request_error");
    if (testCase.param !== undefined) expect(body.error.param).toBe(testCase.param);
    if (testCase.code !== undefined) expect(body.error.code).toBe(testCase.code);
    // The server keeps serving after every bad request.
    const ok = await server.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: JSON.parse(chat({ max_tokens: 2 })) as object,
    });
    expect(ok.statusCode).toBe(200);
  });

  it("answers an unknown URL with a 404 error body", async () => {
    const response = await server.app.inject({ method: "GET", url: "/v2/nothing" });
    expect(response.statusCode).toBe(404);
    expect(response.json<{ error: { code: string } }>().error.code).toBe("unknown_url");
  });
});
