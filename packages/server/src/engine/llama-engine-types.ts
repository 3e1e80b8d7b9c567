// The parts of @llamats/tokenizer, @llamats/llama-model and @llamats/peft-lora the engine uses,
// written structurally so the server does not depend on their classes' private details.

export interface EngineChatMessage {
  role: string;
  content: string;
}

export interface EngineTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  createStreamDecoder(options?: { skipSpecialTokens?: boolean }): { push(id: number): string; flush(): string };
  readonly eosTokenId?: number | null;
  readonly padTokenId?: number | null;
  readonly chatTemplate?: string | undefined;
  applyChatTemplate(messages: EngineChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
}

export interface EngineStreamOptions {
  maxNewTokens: number;
  doSample?: boolean;
  temperature?: number;
  topP?: number;
  seed?: number;
  tokenizer?: EngineTokenizer;
  signal?: AbortSignal;
}

/** A causal LM that streams tokens: `LlamaForCausalLM` (or a `PeftModel` around one). */
export interface EngineModel {
  readonly config: { readonly maxPositionEmbeddings: number; readonly eosTokenId?: number | readonly number[] | null };
  generateStream(
    inputIds: readonly number[],
    options: EngineStreamOptions,
  ): AsyncIterable<{ tokenId: number; text: string }>;
}

/** How the engine picks an adapter for a step: `PeftModel`'s switching methods. */
export interface AdapterSwitcher {
  setAdapter(name: string): void;
  enableAdapters(): void;
  disableAdapters(): void;
}
