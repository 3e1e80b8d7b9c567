import type { EngineGenerateResult, GenerationEngine, PreparedPrompt } from "../engine/generation-engine.js";
import { StopSequenceMatcher } from "./stop-sequence-matcher.js";

export interface RunGenerationOptions {
  engine: GenerationEngine;
  prompt: PreparedPrompt;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed?: number;
  /** Stop strings from the request; the prompt format may add its own. */
  stop: readonly string[];
  signal: AbortSignal;
  /** A returned promise is awaited before the next token (backpressure). */
  onText?: (text: string) => void | Promise<void>;
}

export interface GenerationOutcome {
  text: string;
  finishReason: EngineGenerateResult["finishReason"];
  promptTokens: number;
  completionTokens: number;
}

/** Runs one generation with OpenAI stop-string semantics; ends early (saving compute) once a stop string appears. */
export async function runGeneration(options: RunGenerationOptions): Promise<GenerationOutcome> {
  const { engine, prompt, signal } = options;
  const matcher = new StopSequenceMatcher([...options.stop, ...prompt.impliedStops]);
  const engineAbort = new AbortController();
  const forwardAbort = (): void => engineAbort.abort(signal.reason);
  if (signal.aborted) forwardAbort();
  else signal.addEventListener("abort", forwardAbort, { once: true });

  let text = "";
  let settled = false;
  const emit = (piece: string): void | Promise<void> => {
    if (piece.length === 0 || settled) return;
    text += piece;
    return options.onText?.(piece);
  };
  try {
    const result = await engine.generate({
      prompt,
      maxTokens: options.maxTokens,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      signal: engineAbort.signal,
      onText: (piece) => {
        const written = emit(matcher.push(piece));
        if (matcher.isStopped && !engineAbort.signal.aborted) engineAbort.abort();
        return written;
      },
    });
    await emit(matcher.flush());
    const finishReason = matcher.isStopped ? "stop" : signal.aborted ? "cancelled" : result.finishReason;
    return { text, finishReason, promptTokens: prompt.tokenIds.length, completionTokens: result.completionTokens };
  } finally {
    settled = true;
    signal.removeEventListener("abort", forwardAbort);
  }
}
