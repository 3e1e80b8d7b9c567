import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the test's handler returns for one request: a status and JSON body, or 'stall' (never answer). */
export type MockReply = { status: number; body: unknown; headers?: Record<string, string> } | "stall" | "destroy";

export interface MockOpenAIServer {
  baseUrl: string;
  requests: { path: string; body: Record<string, unknown>; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** A tiny OpenAI-compatible server on 127.0.0.1 for tests; `reply` decides each answer. */
export async function startMockOpenAIServer(
  reply: (body: Record<string, unknown>, n: number) => MockReply,
): Promise<MockOpenAIServer> {
  const requests: MockOpenAIServer["requests"] = [];
  const stalled: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = "";
    req.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
    req.on("end", () => {
      const body = JSON.parse(data || "{}") as Record<string, unknown>;
      requests.push({ path: req.url ?? "", body, authorization: req.headers.authorization });
      const answer = reply(body, requests.length - 1);
      if (answer === "stall") {
        stalled.push(res);
        return;
      }
      if (answer === "destroy") {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A chat-completions body with `content`. */
export function chatCompletion(
  content: string,
  usage = { prompt_tokens: 100, completion_tokens: 50 },
  finishReason = "stop",
): unknown {
  return {
    id: "x",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finishReason }],
    usage,
  };
}
