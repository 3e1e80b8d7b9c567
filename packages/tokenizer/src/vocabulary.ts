// A tokenizer's whole vocabulary as data: every token by id with its SentencePiece piece type (and score or merges),
// the special ids and whether BOS/EOS are added: what a converter to another runtime's format (GGUF) needs.
import { ConfigError } from "@llamats/core";
import { HfTokenizer } from "./hf/hf-tokenizer.js";
import type { JsonObject } from "./hf/json-fields.js";
import type { PieceType } from "./sentencepiece/model-proto.js";
import { SentencePieceTokenizer } from "./sentencepiece/sentencepiece-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";

interface VocabularyCommon {
  /** Token strings by id; ids no token holds are named `[PAD<id>]` and typed unused. */
  tokens: string[];
  types: PieceType[];
  bosTokenId: number | null;
  eosTokenId: number | null;
  unknownTokenId: number | null;
  paddingTokenId: number | null;
  /** Whether encode() with special tokens puts BOS first / EOS last (observed, not read from a setting). */
  addBosToken: boolean;
  addEosToken: boolean;
  chatTemplate: string | undefined;
}

/** SentencePiece BPE: pieces scored by merge priority (LLaMA 1/2, Mistral). */
export interface SentencePieceVocabulary extends VocabularyCommon {
  kind: "sentencepiece";
  scores: Float32Array;
}

/** GPT-2-style byte-level BPE (LLaMA 3): tokens in the byte alphabet, merges by rank, regex pre-tokenization. */
export interface ByteLevelBpeVocabulary extends VocabularyCommon {
  kind: "byte-level-bpe";
  /** "left right", highest priority first. */
  merges: string[];
  /** The pre-tokenizer's split regexes in order; GPT-2's own when ByteLevel splits with use_regex. */
  splitRegexes: string[];
  /** ByteLevel's use_regex: GPT-2's pattern splits the text (after any Split regexes). */
  byteLevelRegex: boolean;
  ignoreMerges: boolean;
}

export type TokenizerVocabulary = SentencePieceVocabulary | ByteLevelBpeVocabulary;

function observedSpecials(tokenizer: Tokenizer): { addBosToken: boolean; addEosToken: boolean } {
  const plain = tokenizer.encode("a", { addSpecialTokens: false });
  const full = tokenizer.encode("a", { addSpecialTokens: true });
  const bos = tokenizer.bosTokenId;
  const eos = tokenizer.eosTokenId;
  return {
    addBosToken: bos !== null && full[0] === bos && plain[0] !== bos,
    addEosToken: eos !== null && full[full.length - 1] === eos && plain[plain.length - 1] !== eos,
  };
}

function sentencePieceVocabulary(tokenizer: SentencePieceTokenizer): SentencePieceVocabulary {
  const pieces = tokenizer.model.pieces;
  const unknown = pieces.findIndex((p) => p.type === "unknown");
  return {
    kind: "sentencepiece",
    tokens: pieces.map((p) => p.piece),
    scores: Float32Array.from(pieces, (p) => p.score),
    types: pieces.map((p) => p.type),
    bosTokenId: tokenizer.bosTokenId,
    eosTokenId: tokenizer.eosTokenId,
    unknownTokenId: unknown >= 0 ? unknown : null,
    paddingTokenId: tokenizer.padTokenId,
    ...observedSpecials(tokenizer),
    chatTemplate: tokenizer.chatTemplate,
  };
}

function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter((v): v is JsonObject => typeof v === "object" && v !== null) : [];
}

function byteLevelVocabulary(tokenizer: HfTokenizer): ByteLevelBpeVocabulary {
  const { json, source } = tokenizer;
  const model = (json.model ?? {}) as JsonObject;
  const pre = (json.pre_tokenizer ?? {}) as JsonObject;
  const steps = pre.type === "Sequence" ? objects(pre.pretokenizers) : [pre];
  const byteLevel = steps.find((s) => s.type === "ByteLevel");
  if (!byteLevel || model.byte_fallback === true) {
    throw new ConfigError(
      `${source}: only byte-level BPE tokenizer.json files (a ByteLevel pre-tokenizer, no byte_fallback) can be exported as a vocabulary; ` +
        `found pre-tokenizer ${JSON.stringify(pre.type)} and byte_fallback ${JSON.stringify(model.byte_fallback ?? false)}. ` +
        `For a SentencePiece model load its tokenizer.model instead.`,
      { key: "pre_tokenizer" },
    );
  }
  const splitRegexes: string[] = [];
  for (const step of steps) {
    if (step.type === "ByteLevel") continue;
    const pattern = (step.pattern ?? {}) as JsonObject;
    if (step.type !== "Split" || typeof pattern.Regex !== "string") {
      throw new ConfigError(
        `${source}: pre-tokenizer step ${JSON.stringify(step.type)} cannot be exported (supported: Split with a Regex, ByteLevel)`,
        { key: "pre_tokenizer" },
      );
    }
    splitRegexes.push(pattern.Regex);
  }
  const addedById = new Map(objects(json.added_tokens).map((t) => [t.id as number, t]));
  const tokens: string[] = [];
  const types: PieceType[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const added = addedById.get(id);
    const token = tokenizer.idToToken(id);
    if (token === undefined) {
      tokens.push(`[PAD${id}]`);
      types.push("unused");
    } else {
      tokens.push(token);
      types.push(added ? (added.special === true ? "control" : "user-defined") : "normal");
    }
  }
  const merges = (Array.isArray(model.merges) ? model.merges : []).map((m: unknown) =>
    Array.isArray(m) ? m.join(" ") : String(m),
  );
  const unk = typeof model.unk_token === "string" ? (tokenizer.tokenToId(model.unk_token) ?? null) : null;
  return {
    kind: "byte-level-bpe",
    tokens,
    types,
    merges,
    splitRegexes,
    byteLevelRegex: byteLevel.use_regex !== false,
    ignoreMerges: model.ignore_merges === true,
    bosTokenId: tokenizer.bosTokenId,
    eosTokenId: tokenizer.eosTokenId,
    unknownTokenId: unk,
    paddingTokenId: tokenizer.padTokenId,
    ...observedSpecials(tokenizer),
    chatTemplate: tokenizer.chatTemplate,
  };
}

/**
 * The vocabulary of a SentencePiece tokenizer (tokenizer.model) or a byte-level BPE tokenizer.json, as data.
 * A SentencePiece-style tokenizer.json (Metaspace, byte_fallback) is refused: load the model's tokenizer.model.
 */
export function vocabularyOf(tokenizer: Tokenizer): TokenizerVocabulary {
  if (tokenizer instanceof SentencePieceTokenizer) return sentencePieceVocabulary(tokenizer);
  if (tokenizer instanceof HfTokenizer) return byteLevelVocabulary(tokenizer);
  throw new ConfigError(
    "vocabularyOf: the tokenizer must be a SentencePieceTokenizer or an HfTokenizer loaded by @llamats/tokenizer",
    { key: "tokenizer" },
  );
}
