// A tokenizer that behaves exactly like SentencePieceProcessor on a BPE tokenizer.model.
import { ConfigError } from "@llamats/core";
import { BaseTokenizer, type DecodeOptions, type EncodeOptions, type SpecialTokenStrings } from "../tokenizer.js";
import type { TokenizerConfig } from "../tokenizer-config.js";
import { bytePieceValue, utf8DecodeSentencePiece } from "../utf8.js";
import { SentencePieceBpeEncoder } from "./bpe-encoder.js";
import { parseModelProto, type PieceType, type SentencePieceModelProto } from "./model-proto.js";
import { SPACE_SYMBOL, SentencePieceNormalizer } from "./normalizer.js";

export interface SentencePieceTokenizerOptions {
  /** tokenizer_config.json contents: special tokens, add_bos_token / add_eos_token, chat_template. */
  config?: TokenizerConfig;
  /** Where the model came from, for error messages (a path or repo id). */
  source?: string;
}

export class SentencePieceTokenizer extends BaseTokenizer {
  readonly model: SentencePieceModelProto;
  readonly source: string;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly chatTemplate: string | undefined;
  readonly addBosToken: boolean;
  readonly addEosToken: boolean;
  private readonly normalizer: SentencePieceNormalizer;
  private readonly denormalizer: SentencePieceNormalizer | undefined;
  private readonly encoder: SentencePieceBpeEncoder;
  private readonly pieceToId = new Map<string, number>();
  private readonly types: PieceType[];
  private readonly byteValues: Int16Array;
  private readonly config: TokenizerConfig | undefined;

  /** Loads a serialized ModelProto (the bytes of a tokenizer.model). */
  static fromModelProto(bytes: Uint8Array, options: SentencePieceTokenizerOptions = {}): SentencePieceTokenizer {
    return new SentencePieceTokenizer(parseModelProto(bytes, options.source), options);
  }

  constructor(model: SentencePieceModelProto, options: SentencePieceTokenizerOptions = {}) {
    super();
    const source = options.source ?? "<memory>";
    if (model.trainerSpec.modelType !== "bpe") {
      throw new ConfigError(
        `${source}: SentencePiece model_type is ${model.trainerSpec.modelType}; only BPE models (the LLaMA family) are supported`,
        { key: "trainer_spec.model_type" },
      );
    }
    this.model = model;
    this.source = source;
    this.config = options.config;
    this.vocabSize = model.pieces.length;
    this.types = model.pieces.map((p) => p.type);
    this.byteValues = Int16Array.from(model.pieces, (p) => (p.type === "byte" ? bytePieceValue(p.piece) : -1));
    model.pieces.forEach((p, id) => {
      if (!this.pieceToId.has(p.piece)) this.pieceToId.set(p.piece, id);
    });
    const userDefined = model.pieces.filter((p) => p.type === "user-defined").map((p) => p.piece);
    this.normalizer = new SentencePieceNormalizer({
      spec: model.normalizerSpec,
      treatWhitespaceAsSuffix: model.trainerSpec.treatWhitespaceAsSuffix,
      userDefinedSymbols: userDefined,
      file: source,
    });
    const denorm = model.denormalizerSpec;
    this.denormalizer =
      denorm && denorm.precompiledCharsmap.length > 0
        ? new SentencePieceNormalizer({
            spec: denorm,
            treatWhitespaceAsSuffix: false,
            userDefinedSymbols: [],
            file: source,
          })
        : undefined;
    this.encoder = new SentencePieceBpeEncoder(model, source);

    const spec = model.trainerSpec;
    const config = options.config;
    const idOf = (token: string | undefined, specId: number, allowUnk = false): number | null => {
      if (token !== undefined) return this.pieceToId.get(token) ?? null;
      if (specId < 0 || specId >= model.pieces.length) return null;
      if (!allowUnk && model.pieces[specId]!.type === "unknown") return null;
      return specId;
    };
    this.bosTokenId = idOf(config?.bosToken, spec.bosId);
    this.eosTokenId = idOf(config?.eosToken, spec.eosId);
    this.padTokenId = config?.padToken !== undefined ? idOf(config.padToken, -1) : idOf(undefined, spec.padId);
    this.addBosToken = config?.addBosToken ?? true;
    this.addEosToken = config?.addEosToken ?? false;
    this.chatTemplate = config?.chatTemplate;
  }

  /** SentencePiece's normalized form of `text` (▁ for spaces, dummy prefix added). */
  normalize(text: string): string {
    return this.normalizer.normalize(text);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    const addSpecial = options.addSpecialTokens ?? true;
    if (addSpecial && this.addBosToken && this.bosTokenId !== null) out.push(this.bosTokenId);
    const normalized = this.normalizer.normalize(text);
    if (normalized.length > 0) this.encoder.encodeNormalized(normalized, out);
    if (addSpecial && this.addEosToken && this.eosTokenId !== null) out.push(this.eosTokenId);
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? false;
    const pieces = this.model.pieces;
    const unkSurface = this.model.trainerSpec.unkSurface;
    const stripBosSpace = this.model.normalizerSpec.addDummyPrefix || this.model.normalizerSpec.removeExtraWhitespaces;
    const removeExtra = this.model.normalizerSpec.removeExtraWhitespaces;
    let text = "";
    let bytes: number[] = [];
    let isBosWs = true;
    let bosWsSeen = false;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      // Ids outside the vocabulary decode to nothing, as in the tokenizers library.
      if (!(id >= 0 && id < pieces.length)) continue;
      const byte = this.byteValues[id]!;
      if (byte >= 0) {
        bytes.push(byte);
        continue;
      }
      if (bytes.length > 0) {
        text += utf8DecodeSentencePiece(Uint8Array.from(bytes));
        bytes = [];
      }
      if (bosWsSeen || text.length > 0) isBosWs = false;
      const type = this.types[id]!;
      bosWsSeen = false;
      if (type === "control") {
        // SentencePiece renders control pieces as nothing; transformers shows them unless asked to skip.
        if (!skipSpecial) text += pieces[id]!.piece;
        continue;
      }
      if (type === "unknown") {
        if (!skipSpecial) text += unkSurface;
        continue;
      }
      let piece = pieces[id]!.piece;
      if (isBosWs && stripBosSpace && piece.startsWith(SPACE_SYMBOL)) {
        piece = piece.slice(SPACE_SYMBOL.length);
        bosWsSeen = !removeExtra;
      }
      text += piece.replaceAll(SPACE_SYMBOL, " ");
    }
    if (bytes.length > 0) text += utf8DecodeSentencePiece(Uint8Array.from(bytes));
    return this.denormalizer ? this.denormalizer.normalize(text) : text;
  }

  idToToken(id: number): string | undefined {
    return this.model.pieces[id]?.piece;
  }

  tokenToId(token: string): number | undefined {
    return this.pieceToId.get(token);
  }

  protected specialTokenStrings(): SpecialTokenStrings {
    const piece = (id: number | null): string | undefined => (id === null ? undefined : this.model.pieces[id]?.piece);
    const unkId = this.model.trainerSpec.unkId;
    return {
      bos: this.config?.bosToken ?? piece(this.bosTokenId),
      eos: this.config?.eosToken ?? piece(this.eosTokenId),
      unk: this.config?.unkToken ?? this.model.pieces[unkId]?.piece,
      pad: this.config?.padToken ?? piece(this.padTokenId),
    };
  }
}
