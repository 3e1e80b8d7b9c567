import type {
  EngineGenerateOptions,
  EngineGenerateResult,
  GenerationEngine,
  ModelCard,
  PreparedPrompt,
  PromptFormat,
  PromptInput,
} from "./generation-engine.js";
import { seededRandom } from "@llamats/core";
import { renderChatPrompt } from "./prompt-format.js";
import { UnknownModelError } from "./unknown-model-error.js";
import { yieldToEventLoop } from "./yield-to-event-loop.js";

const WORDS = ["alpaca", "llama", "grass", "hill", "wool", "sun", "river", "stone", "song", "path", "cloud", "tea"];

export interface FakeEngineOptions {
  /** Model ids to serve; the first is the base. Default: `['fake-base']`. */
  models?: ReadonlyArray<{ id: string; promptFormat?: PromptFormat }>;
  /** Context window in tokens (one token per character). Default 2048. */
  contextLength?: number;
  /** Delay between tokens; 0 yields to the event loop only. */
  tokenDelayMs?: number;
  /** Words in a reply before the fake end-of-sequence, per prompt; default 6–21 chosen from the prompt. */
  replyWords?: (prompt: PreparedPrompt) => number;
}

export interface FakeEngineStats {
  started: number;
  finished: number;
  cancelled: number;
  active: number;
  /** The most generations that were ever running at the same time. */
  peakActive: number;
}

export interface FakeEngine extends GenerationEngine {
  stats(): FakeEngineStats;
}

/**
 * A deterministic stand-in for a model: one token per character of the prompt, replies of words
 * chosen by a hash of (model, prompt, seed, temperature). For tests, demos and load tests of the HTTP layer.
 */
export function createFakeEngine(options: FakeEngineOptions = {}): FakeEngine {
  const contextLength = options.contextLength ?? 2048;
  const created = Math.floor(Date.now() / 1000);
  const cards: ModelCard[] = (options.models ?? [{ id: "fake-base" }]).map((model, index) => ({
    id: model.id,
    kind: index === 0 ? "base" : "adapter",
    contextLength,
    promptFormat: model.promptFormat ?? "plain",
    created,
  }));
  const stats: FakeEngineStats = { started: 0, finished: 0, cancelled: 0, active: 0, peakActive: 0 };

  function preparePrompt(input: PromptInput): PreparedPrompt {
    const card = cards.find((candidate) => candidate.id === input.model);
    if (!card) throw new UnknownModelError(`The model '${input.model}' does not exist.`, { model: input.model });
    const rendered =
      "prompt" in input
        ? { text: input.prompt, impliedStops: [] }
        : renderChatPrompt({
            messages: input.messages,
            format: card.promptFormat === "chat-template" ? "plain" : card.promptFormat,
          });
    const tokenIds = Array.from(rendered.text, (char) => char.codePointAt(0) ?? 0);
    return { model: card.id, text: rendered.text, tokenIds, impliedStops: rendered.impliedStops };
  }

  async function generate(request: EngineGenerateOptions): Promise<EngineGenerateResult> {
    stats.started += 1;
    stats.active += 1;
    stats.peakActive = Math.max(stats.peakActive, stats.active);
    const random = seededRandom(
      hashString(
        `${request.prompt.model}\u0000${request.prompt.text}\u0000${request.seed ?? 0}\u0000${request.temperature}`,
      ),
    );
    const replyWords = options.replyWords?.(request.prompt) ?? 6 + Math.floor(random() * 16);
    let completionTokens = 0;
    let finishReason: EngineGenerateResult["finishReason"] = "length";
    try {
      while (completionTokens < request.maxTokens) {
        await (options.tokenDelayMs ? sleep(options.tokenDelayMs) : yieldToEventLoop());
        if (request.signal.aborted) {
          finishReason = "cancelled";
          break;
        }
        if (completionTokens >= replyWords) {
          finishReason = "stop";
          break;
        }
        const word = WORDS[Math.floor(random() * WORDS.length)];
        await request.onText(completionTokens === 0 ? word : ` ${word}`);
        completionTokens += 1;
      }
      return { finishReason, completionTokens };
    } finally {
      stats.active -= 1;
      if (finishReason === "cancelled") stats.cancelled += 1;
      else stats.finished += 1;
    }
  }

  return { listModels: () => cards, preparePrompt, generate, stats: () => ({ ...stats }) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hashString(text: string): number {
  let hash = 2166136261;
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 16777619);
  }
  return hash >>> 0;
}
