// Test support (not exported): a server on a fake engine, listening on 127.0.0.1 with a free port.
import { createFakeEngine, type FakeEngine, type FakeEngineOptions } from "../engine/fake-engine.js";
import { createServer, type CreateServerOptions, type LlamatsServer } from "../http/create-server.js";

export interface FakeServer {
  server: LlamatsServer;
  engine: FakeEngine;
  baseUrl: string;
}

export async function listenFakeServer(
  options: { engine?: FakeEngineOptions } & Omit<Partial<CreateServerOptions>, "engine"> = {},
): Promise<FakeServer> {
  const { engine: engineOptions, ...serverOptions } = options;
  const engine = createFakeEngine(engineOptions);
  const server = await createServer({ engine, ...serverOptions });
  const baseUrl = await server.listen({ host: "127.0.0.1", port: 0 });
  return { server, engine, baseUrl };
}

export function postJson(baseUrl: string, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: "POST",
    ...init,
    headers: { "Content-Type": "application/json", ...(init.headers as Record<string, string> | undefined) },
    body: JSON.stringify(body),
  });
}

/** Resolves once `check` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
