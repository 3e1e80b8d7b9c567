// The tokenizer.json and tokenizer_config.json transformers writes for a LLaMA SentencePiece BPE model
// (LlamaConverter: Metaspace + BPE with byte_fallback, merges recovered from piece scores).
import type { SentencePieceModelProto } from "./model-proto.js";

const METASPACE = "\u2581";

/** Merges as transformers' SentencePieceExtractor derives them: every split of a piece into two pieces, best score first. */
export function mergesFromPieces(model: SentencePieceModelProto): Array<[string, string]> {
  const vocab = new Map<string, number>();
  model.pieces.forEach((p, id) => {
    if (!vocab.has(p.piece)) vocab.set(p.piece, id);
  });
  const merges: Array<[string, string, number]> = [];
  for (const p of model.pieces) {
    const local: Array<[string, string, number]> = [];
    const chars = Array.from(p.piece);
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join("");
      const right = chars.slice(k).join("");
      if (vocab.has(left) && vocab.has(right)) local.push([left, right, p.score]);
    }
    // transformers 5 keeps the splits of one piece in split-position order.
    merges.push(...local);
  }
  // Array.prototype.sort is stable, like Python's sorted.
  merges.sort((a, b) => b[2] - a[2]);
  return merges.map(([a, b]) => [a, b]);
}

function addedToken(id: number, content: string, special: boolean): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

export interface TokenizerJsonOptions {
  addBosToken?: boolean;
  addEosToken?: boolean;
}

/**
 * The tokenizer.json object for `model`: plain JSON data (`JSON.stringify` gives a loadable file).
 * `tokenizerJsonToString` writes it byte for byte as transformers does (vocab in id order).
 */
export function sentencePieceToTokenizerJson(
  model: SentencePieceModelProto,
  options: TokenizerJsonOptions = {},
): Record<string, unknown> {
  const spec = model.trainerSpec;
  const pieceAt = (id: number): string | undefined =>
    id >= 0 && id < model.pieces.length ? model.pieces[id]!.piece : undefined;
  const added = model.pieces
    .map((p, id) => ({ p, id }))
    .filter(({ p }) => p.type === "control" || p.type === "unknown" || p.type === "user-defined")
    .map(({ p, id }) => addedToken(id, p.piece, p.type !== "user-defined"));
  const vocab = new Map<string, number>();
  model.pieces.forEach((p, id) => {
    if (!vocab.has(p.piece)) vocab.set(p.piece, id);
  });
  const bos = (options.addBosToken ?? true) ? pieceAt(spec.bosId) : undefined;
  const eos = (options.addEosToken ?? false) ? pieceAt(spec.eosId) : undefined;
  const special = (piece: string, typeId: number): Record<string, unknown> => ({
    SpecialToken: { id: piece, type_id: typeId },
  });
  const sequence = (id: "A" | "B", typeId: number): Record<string, unknown> => ({ Sequence: { id, type_id: typeId } });
  const single = [...(bos ? [special(bos, 0)] : []), sequence("A", 0), ...(eos ? [special(eos, 0)] : [])];
  const pair = [...single, ...(bos ? [special(bos, 1)] : []), sequence("B", 1), ...(eos ? [special(eos, 1)] : [])];
  const specialTokens: Record<string, unknown> = {};
  for (const piece of [bos, eos]) {
    if (piece !== undefined) specialTokens[piece] = { id: piece, ids: [vocab.get(piece)], tokens: [piece] };
  }
  const addDummyPrefix = model.normalizerSpec.addDummyPrefix;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: "Metaspace",
      replacement: METASPACE,
      prepend_scheme: addDummyPrefix ? "always" : "never",
      split: false,
    },
    post_processor: { type: "TemplateProcessing", single, pair, special_tokens: specialTokens },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: METASPACE }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        ...(addDummyPrefix ? [{ type: "Strip", content: " ", start: 1, stop: 0 }] : []),
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: spec.byteFallback,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: mergesFromPieces(model),
    },
  };
}

export interface TokenizerConfigJsonOptions extends TokenizerJsonOptions {
  chatTemplate?: string;
  modelMaxLength?: number;
}

/** A tokenizer_config.json for a LLaMA tokenizer (the fields transformers reads). */
export function tokenizerConfigJsonFor(
  model: SentencePieceModelProto,
  options: TokenizerConfigJsonOptions = {},
): Record<string, unknown> {
  const spec = model.trainerSpec;
  const pieceAt = (id: number): string | null => (id >= 0 && id < model.pieces.length ? model.pieces[id]!.piece : null);
  const addedTokensDecoder: Record<string, unknown> = {};
  model.pieces.forEach((p, id) => {
    if (p.type === "control" || p.type === "unknown" || p.type === "user-defined") {
      addedTokensDecoder[String(id)] = {
        content: p.piece,
        lstrip: false,
        normalized: false,
        rstrip: false,
        single_word: false,
        special: p.type !== "user-defined",
      };
    }
  });
  const padPiece = spec.padId >= 0 && spec.padId !== spec.unkId ? pieceAt(spec.padId) : null;
  return {
    add_bos_token: options.addBosToken ?? true,
    add_eos_token: options.addEosToken ?? false,
    added_tokens_decoder: addedTokensDecoder,
    bos_token: pieceAt(spec.bosId),
    ...(options.chatTemplate !== undefined ? { chat_template: options.chatTemplate } : {}),
    clean_up_tokenization_spaces: false,
    eos_token: pieceAt(spec.eosId),
    legacy: false,
    model_max_length: options.modelMaxLength ?? 2048,
    pad_token: padPiece,
    sp_model_kwargs: {},
    tokenizer_class: "LlamaTokenizer",
    unk_token: pieceAt(spec.unkId),
    use_default_system_prompt: false,
  };
}
