import * as tf from "@tensorflow/tfjs-core";
import { ValidationError } from "@llamats/core";
import { positionsFromMask } from "./attention-mask.js";
import type { GenerationTokenizer } from "./generation-tokenizer.js";
import { KvCache } from "./kv-cache.js";
import { isVocabularyId } from "./model-inputs.js";
import { chooseNextTokens } from "./next-token.js";
import { seededRandom } from "./sampling.js";
import type { LlamaForCausalLM } from "./llama-for-causal-lm.js";

export interface GeneratedToken {
  tokenId: number;
  /** The text this token completes (empty while a multi-byte character is incomplete; '' without a tokenizer). */
  text: string;
  batchIndex: number;
}

export type StreamedToken = Omit<GeneratedToken, "batchIndex">;

export interface GenerateOptions {
  maxNewTokens: number;
  /** Sample instead of greedy decoding (HF's do_sample). */
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Ids that end a row; defaults to the config's eos_token_id. */
  eosTokenId?: number | number[];
  /** Texts that end a row once generated (needs tokenizer). */
  stopStrings?: string[];
  tokenizer?: GenerationTokenizer;
  seed?: number;
  /** Written after a row ends and used to left-pad ragged prompts; defaults to pad, then eos, then 0. */
  padTokenId?: number;
  /** 1 = real token, 0 = left padding, for prompts given already padded to one length. */
  attentionMask?: number[][];
  onToken?: (event: GeneratedToken) => void;
  signal?: AbortSignal;
  /**
   * Prefill from these embeddings [batch, prefix + promptLen, hidden] instead of the prompt ids' own (HF's
   * inputs_embeds): the first `prefix` positions (e.g. prompt tuning's virtual tokens) are attended as real
   * tokens but not returned; prompts may then be empty and must be of one length (pass attentionMask for pads).
   * The caller keeps ownership of the tensor.
   */
  inputsEmbeds?: tf.Tensor3D;
}

function checkOptions(options: GenerateOptions): void {
  const bad = (field: string, why: string): never => {
    throw new ValidationError(`generate: ${field} ${why}.`, { location: field });
  };
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 0)
    bad("maxNewTokens", `must be a non-negative integer, got ${options.maxNewTokens}`);
  if (options.temperature !== undefined && !(options.temperature > 0))
    bad("temperature", `must be > 0, got ${options.temperature}`);
  if (options.topP !== undefined && !(options.topP > 0 && options.topP <= 1))
    bad("topP", `must be in (0, 1], got ${options.topP}`);
  if (options.topK !== undefined && !(Number.isInteger(options.topK) && options.topK >= 0))
    bad("topK", `must be a non-negative integer, got ${options.topK}`);
  if (options.repetitionPenalty !== undefined && !(options.repetitionPenalty > 0))
    bad("repetitionPenalty", `must be > 0, got ${options.repetitionPenalty}`);
  if (options.stopStrings?.length && !options.tokenizer)
    bad("stopStrings", "need a tokenizer to turn tokens into text");
}

/** Prompts as rows of one length with a mask: ragged rows are left-padded, as generation needs. */
function padPrompts(
  inputIds: readonly number[] | readonly (readonly number[])[],
  options: GenerateOptions,
  padId: number,
  vocabSize: number,
) {
  const rows = (
    typeof inputIds[0] === "number" ? [inputIds as readonly number[]] : (inputIds as readonly (readonly number[])[])
  ).map((r) => [...r]);
  if (rows.length === 0 || (!options.inputsEmbeds && rows.some((r) => r.length === 0)))
    throw new ValidationError("generate: every prompt needs at least one token.", { location: "inputIds" });
  rows.forEach((row, b) =>
    row.forEach((id, t) => {
      // A tokenizer bigger than the model (or a stray id) would otherwise fail deep inside a gather.
      if (!isVocabularyId(id, vocabSize))
        throw new ValidationError(
          `generate: prompt ${b}, token ${t} is ${id}, outside the model's vocabulary [0, ${vocabSize}) (is the tokenizer the model's?).`,
          { location: "inputIds" },
        );
    }),
  );
  if (options.attentionMask) {
    const mask = options.attentionMask;
    if (mask.length !== rows.length || mask.some((m, b) => m.length !== rows[b].length)) {
      throw new ValidationError("generate: attentionMask must have the shape of inputIds.", {
        location: "attentionMask",
      });
    }
    if (rows.some((r) => r.length !== rows[0].length))
      throw new ValidationError("generate: with attentionMask, rows must be padded to one length.", {
        location: "inputIds",
      });
    return { rows, mask: mask.map((m) => [...m]), padded: rows.map(() => 0) };
  }
  const width = Math.max(...rows.map((r) => r.length));
  if (options.inputsEmbeds && rows.some((r) => r.length !== width)) {
    throw new ValidationError(
      "generate: with inputsEmbeds, prompts must be of one length (left-pad them and pass attentionMask).",
      { location: "inputIds" },
    );
  }
  const padded = rows.map((r) => width - r.length);
  return {
    rows: rows.map((r, b) => [...new Array<number>(padded[b]).fill(padId), ...r]),
    mask: rows.map((r, b) => [...new Array<number>(padded[b]).fill(0), ...new Array<number>(r.length).fill(1)]),
    padded,
  };
}

/** How many leading positions of inputsEmbeds precede the prompt (0 without inputsEmbeds); checks its shape. */
function prefixLength(model: LlamaForCausalLM, options: GenerateOptions, batch: number, promptLen: number): number {
  const embeds = options.inputsEmbeds;
  if (!embeds) return 0;
  const [b, seq, hidden] = embeds.shape;
  if (embeds.rank !== 3 || b !== batch || hidden !== model.config.hiddenSize || seq < promptLen || seq === 0) {
    throw new ValidationError(
      `generate: inputsEmbeds must be [${batch}, >= ${Math.max(promptLen, 1)}, ${model.config.hiddenSize}] for these prompts, found [${embeds.shape.join(", ")}].`,
      { location: "inputsEmbeds" },
    );
  }
  return seq - promptLen;
}

function eosSet(model: LlamaForCausalLM, options: GenerateOptions): Set<number> {
  const eos = options.eosTokenId ?? model.config.eosTokenId ?? [];
  return new Set(Array.isArray(eos) ? eos : [eos]);
}

/**
 * The decoding loop behind generate and generateStream: prefill the prompt into a KV cache, then one token
 * per step. Yields each chosen token per unfinished row; returns the rows (prompt + new, HF padding rules).
 */
async function* decodeLoop(
  model: LlamaForCausalLM,
  inputIds: readonly number[] | readonly (readonly number[])[],
  options: GenerateOptions,
) {
  checkOptions(options);
  const padId =
    options.padTokenId ??
    model.config.padTokenId ??
    (typeof model.config.eosTokenId === "number" ? model.config.eosTokenId : model.config.eosTokenId?.[0]) ??
    0;
  const prompts = padPrompts(inputIds, options, padId, model.config.vocabSize);
  const { rows, padded } = prompts;
  const batch = rows.length;
  const promptLen = rows[0].length;
  const prefix = prefixLength(model, options, batch, promptLen);
  // The model's mask covers the prefix too: attended like real tokens, never returned.
  const mask = prompts.mask.map((m) => [...new Array<number>(prefix).fill(1), ...m]);
  const eos = eosSet(model, options);
  const sampling = options.doSample ?? false;
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const needsPenalty = options.repetitionPenalty !== undefined && options.repetitionPenalty !== 1;
  const anyPadding = mask.some((m) => m.includes(0));
  const decoders = options.tokenizer
    ? rows.map(() => options.tokenizer!.createStreamDecoder({ skipSpecialTokens: true }))
    : null;
  const texts = rows.map(() => "");
  const finished = rows.map(() => false);
  // Room for the whole generation up front (never past the model's context; a longer one grows as it goes).
  const reserve = Math.min(prefix + promptLen + options.maxNewTokens, model.config.maxPositionEmbeddings);
  const cache = new KvCache(model.config.numHiddenLayers, reserve);
  try {
    let stepIds = rows;
    let start = 0;
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (options.signal?.aborted) break;
      const embeds = step === 0 ? options.inputsEmbeds : undefined;
      const length = embeds ? embeds.shape[1] : stepIds[0].length;
      const positions = positionsFromMask(mask, start, length);
      const seenIds = needsPenalty ? rows.map((row, b) => row.slice(padded[b])) : [];
      const uniforms = sampling ? rows.map(() => random()) : undefined;
      const chosen = tf.tidy(() => {
        const input = embeds
          ? { inputsEmbeds: embeds }
          : { inputIds: tf.tensor2d(stepIds.flat(), [batch, length], "int32") };
        const logits = model.forwardCached({
          ...input,
          positions,
          attentionMask: anyPadding ? mask : null,
          cache,
          lastOnly: true,
        }) as tf.Tensor2D;
        return chooseNextTokens(logits, { ...options, sampling, seenIds, ...(uniforms ? { uniforms } : {}) });
      });
      // The only read per step: one id per row.
      let next: number[];
      try {
        next = Array.from(await chosen.data());
      } finally {
        chosen.dispose();
      }
      start += length;
      for (let b = 0; b < batch; b++) {
        const token = finished[b] ? padId : next[b];
        rows[b].push(token);
        mask[b].push(1);
        if (finished[b]) continue;
        const text = decoders ? decoders[b].push(token) : "";
        texts[b] += text;
        if (eos.has(token) || options.stopStrings?.some((s) => texts[b].includes(s))) finished[b] = true;
        yield { tokenId: token, text, batchIndex: b };
      }
      if (finished.every(Boolean)) break;
      stepIds = rows.map((r) => [r[r.length - 1]]);
      // Lets abort signals and other work run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (decoders) {
      for (let b = 0; b < batch; b++) {
        const rest = decoders[b].flush();
        if (rest) yield { tokenId: -1, text: rest, batchIndex: b };
      }
    }
  } finally {
    cache.dispose();
  }
  return rows.map((r, b) => r.slice(padded[b]));
}

/** Runs generation to the end; onToken sees every new token. Returns prompt + new ids per row. */
export async function generateIds(
  model: LlamaForCausalLM,
  inputIds: readonly number[] | readonly (readonly number[])[],
  options: GenerateOptions,
): Promise<number[][]> {
  const loop = decodeLoop(model, inputIds, options);
  for (;;) {
    const item = await loop.next();
    if (item.done) return item.value;
    if (item.value.tokenId >= 0 || item.value.text) options.onToken?.(item.value);
  }
}

/** Streams one prompt's new tokens; a final { tokenId: -1, text } carries text the decoder held back, if any. */
export async function* generateStream(
  model: LlamaForCausalLM,
  inputIds: readonly number[],
  options: GenerateOptions,
): AsyncGenerator<StreamedToken> {
  for await (const { tokenId, text, batchIndex } of decodeLoop(model, inputIds, options)) {
    options.onToken?.({ tokenId, text, batchIndex });
    yield { tokenId, text };
  }
}
