// A tokenizer that behaves exactly like the tokenizers library (as transformers drives it) on a tokenizer.json.
import { FormatError } from "@llamats/core";
import { BaseTokenizer, type DecodeOptions, type EncodeOptions, type SpecialTokenStrings } from "../tokenizer.js";
import { cleanUpTokenization, type TokenizerConfig } from "../tokenizer-config.js";
import { AddedVocabulary, type AddedToken } from "./added-vocabulary.js";
import { buildModel, type HfBpeModel } from "./bpe-model.js";
import { buildDecoder, type DecodeChainFn } from "./decoders.js";
import { asObject, boolField, type ComponentContext, type JsonObject } from "./json-fields.js";
import { buildNormalizer, type NormalizeFn } from "./normalizers.js";
import { bosEosProcessor, buildPostProcessor, type PostProcessFn } from "./post-processor.js";
import { buildPreTokenizer, type PreTokenizeFn } from "./pre-tokenizers.js";

export interface HfTokenizerOptions {
  /** tokenizer_config.json contents: special tokens, add_bos_token / add_eos_token, chat_template. */
  config?: TokenizerConfig;
  /** Where the file came from, for error messages (a path or repo id). */
  source?: string;
}

/** Tokenizer classes whose transformers implementation rebuilds the template from add_bos_token / add_eos_token. */
const BOS_EOS_TEMPLATE_CLASSES = /^(Llama|CodeLlama|Gemma)Tokenizer(Fast)?$/;

function parseAddedTokens(json: unknown, ctx: ComponentContext): AddedToken[] {
  if (json === undefined || json === null) return [];
  if (!Array.isArray(json)) throw new FormatError(`${ctx.file}: added_tokens must be an array`, { file: ctx.file });
  return json.map((item, i) => {
    const t = asObject(item, { file: ctx.file, path: `added_tokens[${i}]` });
    if (typeof t.id !== "number" || typeof t.content !== "string") {
      throw new FormatError(
        `${ctx.file}: added_tokens[${i}] needs a numeric id and a string content; found ${JSON.stringify(t)}`,
        { file: ctx.file },
      );
    }
    return {
      id: t.id,
      content: t.content,
      special: boolField(t, "special", false),
      lstrip: boolField(t, "lstrip", false),
      rstrip: boolField(t, "rstrip", false),
      singleWord: boolField(t, "single_word", false),
      normalized: boolField(t, "normalized", !boolField(t, "special", false)),
    };
  });
}

export class HfTokenizer extends BaseTokenizer {
  readonly source: string;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly chatTemplate: string | undefined;
  /** The parsed tokenizer.json it was built from (read by vocabularyOf to export the vocabulary). */
  readonly json: JsonObject;
  private readonly model: HfBpeModel;
  private readonly normalizer: NormalizeFn | undefined;
  private readonly preTokenizer: PreTokenizeFn | undefined;
  private readonly decoder: DecodeChainFn | undefined;
  private readonly postProcessor: PostProcessFn | undefined;
  private readonly added: AddedVocabulary;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly config: TokenizerConfig | undefined;
  private readonly cleanUp: boolean;

  /** Loads a parsed tokenizer.json object. */
  static fromTokenizerJson(json: unknown, options: HfTokenizerOptions = {}): HfTokenizer {
    return new HfTokenizer(json, options);
  }

  constructor(json: unknown, options: HfTokenizerOptions = {}) {
    super();
    const file = options.source ?? "tokenizer.json";
    this.source = file;
    const root: JsonObject = asObject(json, { file, path: "(root)" });
    this.json = root;
    const ctx = (path: string): ComponentContext => ({ file, path });
    this.model = buildModel(root.model, ctx("model"));
    this.normalizer = buildNormalizer(root.normalizer, ctx("normalizer"));
    this.preTokenizer = buildPreTokenizer(root.pre_tokenizer, ctx("pre_tokenizer"));
    this.decoder = buildDecoder(root.decoder, ctx("decoder"));
    const addedTokens = parseAddedTokens(root.added_tokens, ctx("added_tokens"));
    this.added = new AddedVocabulary(addedTokens, this.normalizer);
    for (const t of addedTokens) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t.id);
      if (t.special) this.specialIds.add(t.id);
    }
    const config = options.config;
    this.config = config;
    for (const t of config?.addedTokens ?? [])
      if (t.special && this.tokenToId(t.content) === t.id) this.specialIds.add(t.id);

    let maxId = this.model.idToToken.length - 1;
    for (const t of addedTokens) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;

    const idOf = (token: string | undefined): number | null =>
      token === undefined ? null : (this.tokenToId(token) ?? null);
    this.bosTokenId = idOf(config?.bosToken);
    this.eosTokenId = idOf(config?.eosToken);
    this.padTokenId = idOf(config?.padToken);
    this.chatTemplate = config?.chatTemplate;
    this.cleanUp = config?.cleanUpTokenizationSpaces ?? false;

    const tokenizerClass = config?.tokenizerClass;
    const rebuild =
      config?.addBosToken !== undefined ||
      config?.addEosToken !== undefined ||
      BOS_EOS_TEMPLATE_CLASSES.test(tokenizerClass ?? "");
    this.postProcessor = rebuild
      ? bosEosProcessor(
          (config?.addBosToken ?? true) ? this.bosTokenId : null,
          (config?.addEosToken ?? false) ? this.eosTokenId : null,
        )
      : buildPostProcessor(root.post_processor, ctx("post_processor"));
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    for (const segment of this.added.extractAndNormalize(text, this.normalizer)) {
      if (segment.tokenId !== undefined) {
        ids.push(segment.tokenId);
        continue;
      }
      if (this.preTokenizer)
        this.preTokenizer(segment.text, segment.atStart, (word) => word.length > 0 && this.model.tokenize(word, ids));
      else this.model.tokenize(segment.text, ids);
    }
    const addSpecial = options.addSpecialTokens ?? true;
    return addSpecial && this.postProcessor ? this.postProcessor(ids) : ids;
  }

  /** The token strings of `ids` (added tokens included). */
  private tokensOf(ids: ArrayLike<number>, skipSpecial: boolean): string[] {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (skipSpecial && this.specialIds.has(id)) continue;
      const token = this.idToToken(id);
      // Unknown ids are dropped, as in the tokenizers library.
      if (token !== undefined) tokens.push(token);
    }
    return tokens;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const tokens = this.tokensOf(ids, options.skipSpecialTokens ?? false);
    const text = this.decoder ? this.decoder(tokens).join("") : tokens.join(" ");
    return this.cleanUp ? cleanUpTokenization(text) : text;
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken[id];
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.model.vocab.get(token);
  }

  protected specialTokenStrings(): SpecialTokenStrings {
    return {
      bos: this.config?.bosToken,
      eos: this.config?.eosToken,
      unk: this.config?.unkToken,
      pad: this.config?.padToken,
    };
  }
}
