import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import chatPageHtml from "../../page/chat-page.html";

/** `GET /`: the web chat page, one self-contained file; the CSP allows only its own inline script and style. */
export function registerChatPageRoute(app: FastifyInstance): void {
  const csp = contentSecurityPolicy(chatPageHtml);
  app.get("/", async (_request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("Content-Security-Policy", csp)
      .header("X-Content-Type-Options", "nosniff")
      .header("Referrer-Policy", "no-referrer")
      .header("Cache-Control", "no-cache")
      .send(chatPageHtml),
  );
}

function contentSecurityPolicy(html: string): string {
  const hashes = (tag: "script" | "style"): string =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))]
      .map((match) => `'sha256-${createHash("sha256").update(match[1], "utf8").digest("base64")}'`)
      .join(" ");
  return [
    "default-src 'none'",
    `script-src ${hashes("script")}`,
    `style-src ${hashes("style")}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
