import type { PromptTemplate } from "./prompt-template.js";

// alpaca-lora's templates (tloen/alpaca-lora, templates/*.json, Apache-2.0), verbatim.
const ALPACA_PREAMBLE_INPUT =
  "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n";
const ALPACA_PREAMBLE_NO_INPUT =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n";

const alpaca: PromptTemplate = {
  name: "alpaca",
  kind: "text",
  description: "Template used by Alpaca-LoRA.",
  promptInput: `${ALPACA_PREAMBLE_INPUT}### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n`,
  promptNoInput: `${ALPACA_PREAMBLE_NO_INPUT}### Instruction:\n{instruction}\n\n### Response:\n`,
  responseSplit: "### Response:",
};

const alpacaLegacy: PromptTemplate = {
  name: "alpaca_legacy",
  kind: "text",
  description: "Legacy template, used by Original Alpaca repository.",
  promptInput: `${ALPACA_PREAMBLE_INPUT}### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:`,
  promptNoInput: `${ALPACA_PREAMBLE_NO_INPUT}### Instruction:\n{instruction}\n\n### Response:`,
  responseSplit: "### Response:",
};

const alpacaShort: PromptTemplate = {
  name: "alpaca_short",
  kind: "text",
  description: "A shorter template to experiment with.",
  promptInput: "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
  promptNoInput: "### Instruction:\n{instruction}\n\n### Response:\n",
  responseSplit: "### Response:",
};

const vigogne: PromptTemplate = {
  name: "vigogne",
  kind: "text",
  description: "French template, used by Vigogne for finetuning.",
  promptInput:
    "Ci-dessous se trouve une instruction qui décrit une tâche, associée à une entrée qui fournit un contexte supplémentaire. Écrivez une réponse qui complète correctement la demande.\n\n### Instruction:\n{instruction}\n\n### Entrée:\n{input}\n\n### Réponse:\n",
  promptNoInput:
    "Ci-dessous se trouve une instruction qui décrit une tâche. Écrivez une réponse qui complète correctement la demande.\n\n### Instruction:\n{instruction}\n\n### Réponse:\n",
  responseSplit: "### Réponse:",
};

// KoAlpaca's training text: "### 질문: {instruction}\n\n### 답변: {output}"; the input, when there is one, as "### 맥락:".
const koalpaca: PromptTemplate = {
  name: "koalpaca",
  kind: "text",
  description: "KoAlpaca (Korean Alpaca) question / answer form.",
  promptInput: "### 질문: {instruction}\n\n### 맥락: {input}\n\n### 답변:",
  promptNoInput: "### 질문: {instruction}\n\n### 답변:",
  responseSplit: "### 답변:",
};

const chat: PromptTemplate = {
  name: "chat",
  kind: "chat",
  description: "The tokenizer's own chat_template (tokenizer_config.json).",
  promptInput: "",
  promptNoInput: "",
  responseSplit: "",
};

/** Templates known by name; `stanford_alpaca` is the original repository's prompt, the same text as `alpaca_legacy`. */
export const BUILTIN_TEMPLATES: Readonly<Record<string, PromptTemplate>> = {
  alpaca,
  alpaca_legacy: alpacaLegacy,
  stanford_alpaca: { ...alpacaLegacy, name: "stanford_alpaca", description: "Stanford Alpaca (train.py PROMPT_DICT)." },
  alpaca_short: alpacaShort,
  vigogne,
  koalpaca,
  chat,
};
