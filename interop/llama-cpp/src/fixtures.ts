// The fixtures the interop tests use: the copies other packages already keep in the repo (see README.md).
import { fileURLToPath } from "node:url";

const repo = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** `llama1-tiny` (transformers' random LLaMA, SentencePiece tokenizer.model = tokenizer-sp's). */
export const LLAMA1_TINY = repo("packages/llama-model/test-fixtures/llama1-tiny");
/** PEFT's LoRA adapter for llama1-tiny (r 8, all seven projections). */
export const LLAMA1_TINY_LORA = repo("packages/peft-lora/test-fixtures/llama1-tiny-lora");
/** The demo's pretrained base model (4 layers, SentencePiece BPE vocabulary of 3000). */
export const DEMO_BASE_MODEL = repo("packages/cli/src/demo/assets/base-model");
/** SentencePiece's own ids for texts in English, Korean, digits, spaces and bytes. */
export const SENTENCEPIECE_CASES = repo("packages/tokenizer/test-fixtures/tokenizer-sp/cases.json");
/** A Llama 3-style byte-level BPE tokenizer.json and the tokenizers library's ids for its cases. */
export const BYTE_LEVEL_TOKENIZER = repo("packages/tokenizer/test-fixtures/tokenizer-bytelevel/tokenizer.json");
export const BYTE_LEVEL_CASES = repo("packages/tokenizer/test-fixtures/tokenizer-bytelevel/cases.json");

/** Prompts for the greedy comparisons: plain prose, an Alpaca prompt, Korean, digits and punctuation. */
export const PROMPTS = [
  "The quick brown fox",
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName three colors.\n\n### Response:\n",
  "안녕하세요, 오늘",
  "In 1969, 3 people flew to the moon; 2 of them",
];
