import type {
  EngineGenerateOptions,
  EngineGenerateResult,
  GenerationEngine,
  ModelCard,
  PreparedPrompt,
  PromptFormat,
  PromptInput,
} from "./generation-engine.js";
import type { AdapterSwitcher, EngineModel, EngineTokenizer } from "./llama-engine-types.js";
import { renderChatPrompt } from "./prompt-format.js";
import { StepLock } from "./step-lock.js";
import { UnknownModelError } from "./unknown-model-error.js";
import { yieldToEventLoop } from "./yield-to-event-loop.js";

// Adapter names become model ids in URLs and JSON, never file paths.
const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

export interface CreateLlamaEngineOptions {
  /** The model; with adapters, the model whose linears the `PeftModel` wrapped (or the `PeftModel` itself). */
  model: EngineModel;
  tokenizer: EngineTokenizer;
  /** The id clients use for the base model, e.g. the repo id or folder name. */
  modelId: string;
  /** How chat messages are rendered for the base model. Default: the chat template if the tokenizer has one, else `plain`. */
  promptFormat?: PromptFormat;
  /** LoRA adapters loaded into one `PeftModel`, each served as its own model id. */
  adapters?: {
    switcher: AdapterSwitcher;
    /** Adapter names as loaded into the PeftModel; `alpaca` is their default prompt format. */
    entries: ReadonlyArray<{ name: string; promptFormat?: PromptFormat }>;
  };
  /** Context window in tokens. Default: the config's `maxPositionEmbeddings`. */
  contextLength?: number;
}

/**
 * Serves a LLaMA model and its adapters. Generations interleave one step at a time under a FIFO lock,
 * and the lock also switches the adapter each step needs, so requests for different adapters can run together.
 */
export function createLlamaEngine(options: CreateLlamaEngineOptions): GenerationEngine {
  const { model, tokenizer } = options;
  const contextLength = options.contextLength ?? model.config.maxPositionEmbeddings;
  const created = Math.floor(Date.now() / 1000);
  const hasTemplate = typeof tokenizer.chatTemplate === "string" && tokenizer.chatTemplate.length > 0;
  const baseFormat = options.promptFormat ?? (hasTemplate ? "chat-template" : "plain");
  checkFormat(baseFormat, hasTemplate, options.modelId);
  const cards: ModelCard[] = [
    { id: checkId(options.modelId), kind: "base", contextLength, promptFormat: baseFormat, created },
  ];
  for (const entry of options.adapters?.entries ?? []) {
    const format = entry.promptFormat ?? "alpaca";
    checkFormat(format, hasTemplate, entry.name);
    if (cards.some((card) => card.id === entry.name)) {
      throw new TypeError(`Two models would have the id '${entry.name}'; give the adapter another name.`);
    }
    cards.push({ id: checkId(entry.name), kind: "adapter", contextLength, promptFormat: format, created });
  }
  const stepLock = new StepLock();
  const switcher = options.adapters?.switcher;

  function activate(card: ModelCard): void {
    if (!switcher) return;
    if (card.kind === "base") {
      switcher.disableAdapters();
    } else {
      switcher.setAdapter(card.id);
      switcher.enableAdapters();
    }
  }

  function cardFor(id: string): ModelCard {
    const card = cards.find((candidate) => candidate.id === id);
    if (!card) throw new UnknownModelError(`The model '${id}' does not exist.`, { model: id });
    return card;
  }

  function preparePrompt(input: PromptInput): PreparedPrompt {
    const card = cardFor(input.model);
    if ("prompt" in input) {
      return {
        model: card.id,
        text: input.prompt,
        tokenIds: tokenizer.encode(input.prompt, { addSpecialTokens: true }),
        impliedStops: [],
      };
    }
    const rendered = renderChatPrompt({
      messages: input.messages,
      format: card.promptFormat,
      applyChatTemplate: (messages) => tokenizer.applyChatTemplate([...messages], { addGenerationPrompt: true }),
    });
    // A chat template writes the BOS token itself, as transformers' apply_chat_template assumes.
    const addSpecialTokens = card.promptFormat !== "chat-template";
    return {
      model: card.id,
      text: rendered.text,
      tokenIds: tokenizer.encode(rendered.text, { addSpecialTokens }),
      impliedStops: rendered.impliedStops,
    };
  }

  async function generate(request: EngineGenerateOptions): Promise<EngineGenerateResult> {
    const card = cardFor(request.prompt.model);
    const greedy = request.temperature === 0 || request.topP === 0;
    const stream = model.generateStream(request.prompt.tokenIds, {
      maxNewTokens: request.maxTokens,
      doSample: !greedy,
      temperature: greedy ? undefined : request.temperature,
      topP: greedy ? undefined : request.topP,
      seed: request.seed,
      tokenizer,
      signal: request.signal,
    });
    const iterator = stream[Symbol.asyncIterator]();
    const eos = eosIds(model, tokenizer);
    let completionTokens = 0;
    let lastTokenId = -1;
    let finished = false;
    try {
      while (!request.signal.aborted) {
        const item = await stepLock.run(async () => {
          activate(card);
          return iterator.next();
        });
        if (item.done) {
          finished = true;
          break;
        }
        if (item.value.tokenId >= 0) {
          completionTokens += 1;
          lastTokenId = item.value.tokenId;
        }
        if (item.value.text) await request.onText(item.value.text);
        await yieldToEventLoop();
      }
    } finally {
      // Ends the model's loop so it frees its KV cache, also when we stopped early.
      if (!finished) await iterator.return?.();
    }
    if (request.signal.aborted && !finished) return { finishReason: "cancelled", completionTokens };
    const finishReason = eos.has(lastTokenId) || completionTokens < request.maxTokens ? "stop" : "length";
    return { finishReason, completionTokens };
  }

  return { listModels: () => cards, preparePrompt, generate };
}

function eosIds(model: EngineModel, tokenizer: EngineTokenizer): Set<number> {
  const fromConfig = model.config.eosTokenId;
  const ids = fromConfig == null ? [] : typeof fromConfig === "number" ? [fromConfig] : [...fromConfig];
  if (typeof tokenizer.eosTokenId === "number") ids.push(tokenizer.eosTokenId);
  return new Set(ids);
}

function checkId(id: string): string {
  if (!MODEL_ID_PATTERN.test(id)) {
    throw new TypeError(
      `'${id}' cannot be a model id: use letters, digits and . _ - : / (at most 128), starting with a letter or digit.`,
    );
  }
  return id;
}

function checkFormat(format: PromptFormat, hasTemplate: boolean, id: string): void {
  if (format === "chat-template" && !hasTemplate) {
    throw new TypeError(`'${id}' asks for the chat-template prompt format, but the tokenizer has no chat template.`);
  }
}
