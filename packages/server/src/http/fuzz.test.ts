import { connect } from "node:net";
import { seededRandom } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenFakeServer, type FakeServer } from "../testing/listen-fake-server.js";

// A seeded generator, so a failing case can be replayed.
const FUZZ_SEED = 20240613;
const random = seededRandom(FUZZ_SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

function randomValue(depth = 0): unknown {
  const kinds = ["int", "float", "bigNumber", "string", "longString", "bool", "null", "array", "object", "negative"];
  switch (pick(depth > 2 ? kinds.slice(0, 7) : kinds)) {
    case "int":
      return Math.floor(random() * 10) - 3;
    case "float":
      return random() * 4 - 1;
    case "bigNumber":
      return pick([1e308, -1e308, 2 ** 53 + 2, 1e21, Number.MAX_SAFE_INTEGER]);
    case "string":
      return pick([
        "",
        "base",
        "user",
        "system",
        "assistant",
        "tool",
        "../../etc/passwd",
        "\u0000",
        "🦙",
        "1",
        "true",
        "null",
        "<script>",
      ]);
    case "longString":
      return "x".repeat(Math.floor(random() * 3000));
    case "bool":
      return random() < 0.5;
    case "null":
      return null;
    case "negative":
      return -Math.floor(random() * 1e6);
    case "array":
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, (_, i) => [
          pick(["role", "content", "type", "text", `k${i}`]),
          randomValue(depth + 1),
        ]),
      );
  }
}

const CHAT_FIELDS = [
  "model",
  "messages",
  "max_tokens",
  "temperature",
  "top_p",
  "n",
  "stream",
  "stop",
  "seed",
  "stream_options",
  "max_completion_tokens",
  "logprobs",
];
const COMPLETION_FIELDS = [
  "model",
  "prompt",
  "max_tokens",
  "temperature",
  "top_p",
  "n",
  "stop",
  "seed",
  "echo",
  "best_of",
  "suffix",
  "logprobs",
];

function validChat(): Record<string, unknown> {
  return { model: "base", messages: [{ role: "user", content: "hello" }], max_tokens: 3 };
}
function validCompletion(): Record<string, unknown> {
  return { model: "base", prompt: "hello", max_tokens: 3 };
}

interface FuzzRequest {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS";
  url: string;
  contentType: string;
  payload: string;
}

function mutatedBody(): { url: string; payload: string } {
  const isChat = random() < 0.6;
  const body = isChat ? validChat() : validCompletion();
  const fields = isChat ? CHAT_FIELDS : COMPLETION_FIELDS;
  const mutations = 1 + Math.floor(random() * 3);
  for (let m = 0; m < mutations; m += 1) {
    const action = random();
    const field = pick(fields);
    if (action < 0.5) body[field] = randomValue();
    else if (action < 0.65) delete body[field];
    else if (action < 0.8 && isChat) body.messages = [{ role: randomValue(), content: randomValue() }];
    else body[`unknown_${m}`] = randomValue();
  }
  // Keep bodies that happen to be valid cheap to serve.
  if (typeof body.max_tokens === "number" && body.max_tokens > 8) body.max_tokens = 3;
  let payload = JSON.stringify(body);
  const framing = random();
  if (framing < 0.12) payload = payload.slice(0, Math.floor(random() * payload.length));
  else if (framing < 0.17) payload = payload.replace(/[{}[\]":,]/, pick(["", "}", "\u0000", "'"]));
  return { url: isChat ? "/v1/chat/completions" : "/v1/completions", payload };
}

function fuzzRequest(): FuzzRequest {
  const kind = random();
  if (kind < 0.75) {
    return { method: "POST", contentType: "application/json", ...mutatedBody() };
  }
  if (kind < 0.82) {
    const bytes = Array.from({ length: Math.floor(random() * 200) }, () =>
      String.fromCharCode(Math.floor(random() * 256)),
    ).join("");
    return {
      method: "POST",
      url: pick(["/v1/chat/completions", "/v1/completions"]),
      contentType: "application/json",
      payload: bytes,
    };
  }
  if (kind < 0.88) {
    return {
      method: "POST",
      url: "/v1/chat/completions",
      contentType: pick([
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "",
      ]),
      payload: JSON.stringify(validChat()),
    };
  }
  if (kind < 0.92) {
    const depth = 500 + Math.floor(random() * 5000);
    return {
      method: "POST",
      url: "/v1/chat/completions",
      contentType: "application/json",
      payload: `{"model":"base","x":${"[".repeat(depth)}${"]".repeat(depth)},"messages":[{"role":"user","content":"hi"}],"max_tokens":2}`,
    };
  }
  return {
    method: pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "POST"] as const),
    url: pick([
      "/v1/models/%00",
      "/v1/models/..%2F..%2Fetc%2Fpasswd",
      "/v1/chat/completions?x=%zz",
      `/${"a".repeat(3000)}`,
      "/v1//models",
      "/health/../v1/models",
      "/v1/models/🦙",
    ]),
    contentType: "application/json",
    payload: pick(["", "{}", '{"model":"base"}']),
  };
}

describe(`fuzz: 1,000 malformed requests (seed ${FUZZ_SEED})`, () => {
  let fake: FakeServer;
  beforeAll(async () => {
    fake = await listenFakeServer({
      engine: { models: [{ id: "base" }], contextLength: 512 },
      maxBodyBytes: 32 * 1024,
      maxConcurrency: 2,
      queueSize: 64,
    });
  });
  afterAll(async () => {
    await fake.server.close({ graceMs: 100 });
  });

  it("never answers 5xx, always with an error body, and stays healthy", async () => {
    const statuses = new Map<number, number>();
    for (let index = 0; index < 1000; index += 1) {
      const request = fuzzRequest();
      const response = await fake.server.app.inject({
        method: request.method,
        url: request.url,
        headers: request.contentType ? { "content-type": request.contentType } : {},
        payload: request.payload,
      });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      const context = `request ${index}: ${request.method} ${request.url.slice(0, 60)} ${request.payload.slice(0, 200)}`;
      expect(response.statusCode, context).toBeLessThan(500);
      if (response.statusCode >= 400) {
        const body = response.json<{ error?: { message?: unknown; type?: unknown } }>();
        expect(typeof body.error?.message, context).toBe("string");
        expect(typeof body.error?.type, context).toBe("string");
      }
    }
    // Most requests must be rejected, or the fuzzer is not exercising validation.
    const rejected = [...statuses].filter(([status]) => status >= 400).reduce((sum, [, count]) => sum + count, 0);
    expect(rejected).toBeGreaterThan(700);
    const health = await fetch(`${fake.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(fake.engine.stats().active).toBe(0);
  });

  it("answers garbage on the socket itself with 400 and keeps serving", async () => {
    const { port } = new URL(fake.baseUrl);
    const garbage = [
      "GARBAGE\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "\u0000\u0001\u0002\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n",
    ];
    for (const raw of garbage) {
      const answer = await new Promise<string>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port: Number(port) });
        let data = "";
        socket.on("data", (chunk) => {
          data += chunk.toString("latin1");
        });
        socket.on("close", () => resolve(data));
        socket.on("error", () => resolve(data));
        socket.write(raw);
        setTimeout(() => socket.end(), 200);
      });
      expect(answer === "" || /^HTTP\/1\.1 4\d\d/.test(answer), `${JSON.stringify(raw)} → ${answer.slice(0, 40)}`).toBe(
        true,
      );
    }
    expect((await fetch(`${fake.baseUrl}/health`)).status).toBe(200);
  });
});
