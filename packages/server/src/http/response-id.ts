import { randomBytes } from "node:crypto";

/** An id in OpenAI's shape, e.g. `chatcmpl-3f9a…`. */
export function responseId(prefix: "chatcmpl" | "cmpl"): string {
  return `${prefix}-${randomBytes(12).toString("hex")}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
