// tokenizer.ggml.* metadata as llama.cpp's converter writes it: a SentencePiece `llama` vocabulary with scores and
// token types, or a byte-level `gpt2` one with merges and the name of its pre-tokenizer; special ids; chat template.
import { ConfigError, type GgufValue } from "@llamats/core";
import { PIECE_TYPE_NUMBER, type TokenizerVocabulary } from "@llamats/tokenizer";

/** llama.cpp's token types (llama_token_type) are SentencePiece's piece type numbers. */
const TOKEN_TYPE = PIECE_TYPE_NUMBER;

/** Score llama.cpp's converter gives the padding tokens it adds up to the model's vocabulary size. */
const PAD_SCORE = -1000;

/** Pre-tokenizer regexes llama.cpp knows, by the name it reads from `tokenizer.ggml.pre`. */
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** llama.cpp's name for a byte-level pre-tokenizer: its regexes decide how text is split before BPE. */
export function preTokenizerName(vocab: Extract<TokenizerVocabulary, { kind: "byte-level-bpe" }>): string {
  if (vocab.splitRegexes.length === 1 && vocab.splitRegexes[0] === LLAMA3_SPLIT && !vocab.byteLevelRegex)
    return "llama-bpe";
  if (vocab.splitRegexes.length === 0 && vocab.byteLevelRegex) return "gpt-2";
  throw new ConfigError(
    `GGUF export: llama.cpp has no pre-tokenizer for the split ${JSON.stringify(vocab.splitRegexes)} ` +
      `(ByteLevel use_regex ${vocab.byteLevelRegex}); known: Llama 3's regex ("llama-bpe"), GPT-2's ByteLevel ("gpt-2")`,
    { key: "pre_tokenizer" },
  );
}

/** Every tokenizer.ggml.* entry for a model whose embedding has `vocabSize` rows. */
export function tokenizerMetadata(vocab: TokenizerVocabulary, vocabSize: number): [string, GgufValue][] {
  const count = vocab.tokens.length;
  if (count > vocabSize) {
    throw new ConfigError(
      `GGUF export: the tokenizer has ${count} tokens but the model's embedding only ${vocabSize} rows`,
      { key: "vocab_size" },
    );
  }
  // Ids past the tokenizer (an embedding padded to a round size) become unused [PAD<id>] tokens, as in the converter.
  const tokens = [...vocab.tokens];
  const types = vocab.types.map((t) => TOKEN_TYPE[t]);
  for (let id = count; id < vocabSize; id++) {
    tokens.push(`[PAD${id}]`);
    types.push(TOKEN_TYPE.unused);
  }
  const entries: [string, GgufValue][] = [];
  if (vocab.kind === "sentencepiece") {
    const scores = new Float32Array(vocabSize).fill(PAD_SCORE);
    scores.set(vocab.scores);
    entries.push(
      ["tokenizer.ggml.model", { type: "string", value: "llama" }],
      ["tokenizer.ggml.pre", { type: "string", value: "default" }],
      ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokens }],
      ["tokenizer.ggml.scores", { type: "array", itemType: "float32", value: scores }],
      ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: types }],
    );
  } else {
    entries.push(
      ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
      ["tokenizer.ggml.pre", { type: "string", value: preTokenizerName(vocab) }],
      ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokens }],
      ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: types }],
      ["tokenizer.ggml.merges", { type: "array", itemType: "string", value: vocab.merges }],
    );
  }
  const id = (key: string, value: number | null): void => {
    if (value !== null) entries.push([`tokenizer.ggml.${key}`, { type: "uint32", value }]);
  };
  id("bos_token_id", vocab.bosTokenId);
  id("eos_token_id", vocab.eosTokenId);
  id("unknown_token_id", vocab.unknownTokenId);
  id("padding_token_id", vocab.paddingTokenId);
  entries.push(
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: vocab.addBosToken }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: vocab.addEosToken }],
  );
  if (vocab.chatTemplate !== undefined)
    entries.push(["tokenizer.chat_template", { type: "string", value: vocab.chatTemplate }]);
  return entries;
}
