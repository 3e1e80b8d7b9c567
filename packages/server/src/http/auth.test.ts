import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeEngine } from "../engine/fake-engine.js";
import { createServer, type LlamatsServer } from "./create-server.js";

describe("API key", () => {
  let server: LlamatsServer;
  beforeAll(async () => {
    server = await createServer({ engine: createFakeEngine(), apiKey: "sk-test-123" });
  });
  afterAll(async () => {
    await server.close({ graceMs: 100 });
  });

  const chatRequest = { model: "fake-base", messages: [{ role: "user", content: "hi" }], max_tokens: 2 };

  it("leaves /health open", async () => {
    expect((await server.app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
  });

  it.each([
    ["GET", "/v1/models"],
    ["GET", "/"],
    ["POST", "/v1/chat/completions"],
    ["POST", "/v1/completions"],
    ["GET", "/no-such-path"],
  ] as const)("rejects %s %s without a key with 401", async (method, url) => {
    const response = await server.app.inject({ method, url, payload: method === "POST" ? chatRequest : undefined });
    expect(response.statusCode).toBe(401);
    expect(response.json<{ error: { code: string } }>().error.code).toBe("invalid_api_key");
  });

  it("rejects a wrong key and a key with the wrong scheme", async () => {
    for (const authorization of [
      "Bearer sk-wrong",
      "Bearer ",
      "Token sk-test-123",
      "Bearer sk-test-1234",
      "sk-test-123",
    ]) {
      const response = await server.app.inject({ method: "GET", url: "/v1/models", headers: { authorization } });
      expect(response.statusCode, authorization).toBe(401);
    }
  });

  it("accepts the key as a Bearer token", async () => {
    const headers = { authorization: "Bearer sk-test-123" };
    expect((await server.app.inject({ method: "GET", url: "/v1/models", headers })).statusCode).toBe(200);
    const chat = await server.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers,
      payload: chatRequest,
    });
    expect(chat.statusCode).toBe(200);
  });

  it("asks a browser for Basic credentials on the page and accepts the key as the password", async () => {
    const challenge = await server.app.inject({ method: "GET", url: "/" });
    expect(challenge.headers["www-authenticate"]).toMatch(/^Basic realm="llamats"/);
    const basic = `Basic ${Buffer.from("anyone:sk-test-123").toString("base64")}`;
    expect((await server.app.inject({ method: "GET", url: "/", headers: { authorization: basic } })).statusCode).toBe(
      200,
    );
    const wrong = `Basic ${Buffer.from("anyone:nope").toString("base64")}`;
    expect((await server.app.inject({ method: "GET", url: "/", headers: { authorization: wrong } })).statusCode).toBe(
      401,
    );
  });
});

describe("listening address", () => {
  it("binds 127.0.0.1 unless told otherwise", async () => {
    const server = await createServer({ engine: createFakeEngine() });
    const url = await server.listen({ port: 0 });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const address = server.app.server.address();
    expect(typeof address === "object" && address?.address).toBe("127.0.0.1");
    await server.close({ graceMs: 100 });
  });
});
