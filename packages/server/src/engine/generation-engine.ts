/** One message of a chat conversation, as the OpenAI API sends it (text content only). */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** How a model id turns chat messages into one prompt string. */
export type PromptFormat = "chat-template" | "alpaca" | "plain";

/** A model id the engine can serve: the base model or one of its adapters. */
export interface ModelCard {
  id: string;
  /** `base` for the model itself, `adapter` for a LoRA adapter on top of it. */
  kind: "base" | "adapter";
  /** The maximum prompt + completion length in tokens. */
  contextLength: number;
  promptFormat: PromptFormat;
  /** Unix seconds when the model was loaded. */
  created: number;
}

/** A prompt rendered and tokenized for one model, ready to generate from. */
export interface PreparedPrompt {
  readonly model: string;
  readonly text: string;
  readonly tokenIds: readonly number[];
  /** Stop strings the prompt format implies (e.g. the next `### Instruction:` of the Alpaca template). */
  readonly impliedStops: readonly string[];
}

export type PromptInput = { model: string; prompt: string } | { model: string; messages: readonly ChatMessage[] };

export interface EngineGenerateOptions {
  prompt: PreparedPrompt;
  maxTokens: number;
  /** 0 means greedy decoding. */
  temperature: number;
  topP: number;
  seed?: number;
  /** Aborting ends the generation after the current token; the promise then resolves with `cancelled`. */
  signal: AbortSignal;
  /** Called with each new piece of decoded text, in order; a returned promise is awaited (backpressure from slow clients). */
  onText: (text: string) => void | Promise<void>;
}

export interface EngineGenerateResult {
  /** `stop`: end-of-sequence token; `length`: maxTokens reached; `cancelled`: the signal was aborted. */
  finishReason: "stop" | "length" | "cancelled";
  completionTokens: number;
}

/**
 * What the HTTP layer needs from a model: the ids it serves, prompt preparation and streamed generation.
 * `createLlamaEngine` wraps a real model; `createFakeEngine` is a deterministic stand-in for tests.
 */
export interface GenerationEngine {
  listModels(): readonly ModelCard[];
  /** Renders and tokenizes; throws `UnknownModelError` for an id not in `listModels()`. */
  preparePrompt(input: PromptInput): PreparedPrompt;
  generate(options: EngineGenerateOptions): Promise<EngineGenerateResult>;
  /** Frees what the engine holds (tensors, adapters). */
  dispose?(): void;
}
