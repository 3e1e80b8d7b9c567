import { ApiError } from "../api-error.js";
import type { SamplingFields } from "./schemas.js";

export interface SamplingSettings {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed?: number;
  stop: string[];
}

/**
 * Reads the sampling fields with OpenAI's defaults and checks the prompt and `max_tokens` against
 * the context window. `defaultMaxTokens` undefined means "whatever room the context has left".
 */
export function resolveSamplingSettings(options: {
  body: SamplingFields;
  maxTokens: number | null | undefined;
  maxTokensParam: string;
  promptTokens: number;
  contextLength: number;
  defaultMaxTokens?: number;
  promptParam: string;
}): SamplingSettings {
  const { promptTokens, contextLength } = options;
  const room = contextLength - promptTokens;
  if (room < 1) {
    throw ApiError.invalidRequest(
      `This model's maximum context length is ${contextLength} tokens, but your prompt is ${promptTokens} tokens, leaving no room for a reply. Shorten the prompt.`,
      { param: options.promptParam, code: "context_length_exceeded" },
    );
  }
  const requested = options.maxTokens ?? undefined;
  if (requested !== undefined && requested > room) {
    throw ApiError.invalidRequest(
      `This model's maximum context length is ${contextLength} tokens. However, you requested ${promptTokens + requested} tokens (${promptTokens} in the prompt, ${requested} for the completion). Reduce the prompt or '${options.maxTokensParam}'.`,
      { param: options.maxTokensParam, code: "context_length_exceeded" },
    );
  }
  const stop = options.body.stop ?? [];
  return {
    maxTokens: requested ?? Math.min(room, options.defaultMaxTokens ?? room),
    temperature: options.body.temperature ?? 1,
    topP: options.body.top_p ?? 1,
    seed: options.body.seed ?? undefined,
    stop: typeof stop === "string" ? [stop] : stop,
  };
}
