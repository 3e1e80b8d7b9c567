import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../api-error.js";
import { sendApiError } from "./error-handler.js";

// Paths anyone may call: a load balancer's health probe carries no key.
const PUBLIC_PATHS = new Set(["/health"]);

/**
 * With an API key, every request but `/health` must carry it: `Authorization: Bearer <key>` for API
 * clients, or HTTP Basic with the key as password, which is how a browser opens the chat page.
 */
export function createAuthHook(apiKey: string) {
  const expected = digest(apiKey);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = request.url.split("?")[0];
    if (PUBLIC_PATHS.has(path)) return;
    const presented = presentedKey(request.headers.authorization);
    if (presented !== null && timingSafeEqual(digest(presented), expected)) return;
    const isPage = request.method === "GET" && path === "/";
    const message =
      presented === null
        ? "You didn't provide an API key. Send it in the header 'Authorization: Bearer YOUR_KEY'."
        : "Incorrect API key provided.";
    reply.header("WWW-Authenticate", isPage ? 'Basic realm="llamats", charset="UTF-8"' : 'Bearer realm="llamats"');
    sendApiError(
      reply,
      new ApiError(message, { statusCode: 401, type: "authentication_error", code: "invalid_api_key" }),
    );
    return reply;
  };
}

function presentedKey(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === "bearer") return value;
  if (scheme.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

// Comparing fixed-length digests keeps the comparison constant-time whatever the key's length.
function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
