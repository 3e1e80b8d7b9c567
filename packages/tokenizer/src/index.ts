export type {
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  SpecialTokenStrings,
  Tokenizer,
  TokenStreamDecoder,
} from "./tokenizer.js";
export { BaseTokenizer } from "./tokenizer.js";
export { loadTokenizer, tokenizerFromFiles } from "./load-tokenizer.js";
export type { LoadTokenizerOptions, TokenizerFileName } from "./load-tokenizer.js";
export { parseTokenizerConfig, cleanUpTokenization } from "./tokenizer-config.js";
export type { TokenizerConfig } from "./tokenizer-config.js";
export { SentencePieceTokenizer } from "./sentencepiece/sentencepiece-tokenizer.js";
export type { SentencePieceTokenizerOptions } from "./sentencepiece/sentencepiece-tokenizer.js";
export {
  parseModelProto,
  serializeModelProto,
  defaultTrainerSpec,
  defaultNormalizerSpec,
  PIECE_TYPE_NUMBER,
} from "./sentencepiece/model-proto.js";
export type {
  NormalizerSpec,
  PieceType,
  SentencePiece,
  SentencePieceModelProto,
  SentencePieceModelType,
  TrainerSpec,
} from "./sentencepiece/model-proto.js";
export {
  sentencePieceToTokenizerJson,
  tokenizerConfigJsonFor,
  mergesFromPieces,
} from "./sentencepiece/to-tokenizer-json.js";
export type { TokenizerJsonOptions, TokenizerConfigJsonOptions } from "./sentencepiece/to-tokenizer-json.js";
export { HfTokenizer } from "./hf/hf-tokenizer.js";
export type { HfTokenizerOptions } from "./hf/hf-tokenizer.js";
export { StreamDecoder } from "./stream-decoder.js";
export { renderChatTemplate } from "./chat-template.js";
export type { RenderChatTemplateOptions } from "./chat-template.js";
export { trainBpe } from "./train/train-bpe.js";
export type { TrainBpeOptions } from "./train/train-bpe.js";
export { writeTokenizerFiles } from "./write-tokenizer-files.js";
export type { WriteTokenizerFilesOptions, WrittenTokenizerFiles } from "./write-tokenizer-files.js";
export { prettyJson, OrderedEntries } from "./pretty-json.js";
export { tokenizerJsonToString } from "./tokenizer-json-string.js";
export { vocabularyOf } from "./vocabulary.js";
export type { TokenizerVocabulary, SentencePieceVocabulary, ByteLevelBpeVocabulary } from "./vocabulary.js";
