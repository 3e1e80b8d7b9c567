import { ConfigError } from "@llamats/core";
import type { PeftLogger } from "./lora-config.js";

/** How the virtual tokens start: random vectors, the embeddings of a text, or of random vocabulary entries. */
export type PromptTuningInit = "RANDOM" | "TEXT" | "SAMPLE_VOCAB";

/** PEFT's PromptTuningConfig, field for field as in `adapter_config.json`. */
export interface PromptTuningConfig {
  peft_type: "PROMPT_TUNING";
  task_type: string | null;
  num_virtual_tokens: number;
  /** Filled from the model (hidden size) when the adapter is created. */
  token_dim: number | null;
  /** 1 for decoder-only models. */
  num_transformer_submodules: number | null;
  num_attention_heads: number | null;
  num_layers: number | null;
  prompt_tuning_init: PromptTuningInit;
  prompt_tuning_init_text: string | null;
  tokenizer_name_or_path: string | null;
  tokenizer_kwargs: Record<string, unknown> | null;
  inference_mode: boolean;
  base_model_name_or_path: string | null;
  revision: string | null;
}

export const PROMPT_TUNING_DEFAULTS: Readonly<PromptTuningConfig> = Object.freeze({
  peft_type: "PROMPT_TUNING",
  task_type: "CAUSAL_LM",
  num_virtual_tokens: 8,
  token_dim: null,
  num_transformer_submodules: null,
  num_attention_heads: null,
  num_layers: null,
  prompt_tuning_init: "RANDOM",
  prompt_tuning_init_text: null,
  tokenizer_name_or_path: null,
  tokenizer_kwargs: null,
  inference_mode: false,
  base_model_name_or_path: null,
  revision: null,
});

const INITS: readonly PromptTuningInit[] = ["RANDOM", "TEXT", "SAMPLE_VOCAB"];

/** Fills PEFT's defaults and checks the fields. */
export function createPromptTuningConfig(
  partial: Partial<PromptTuningConfig>,
  where = "PromptTuningConfig",
): PromptTuningConfig {
  const config = { ...PROMPT_TUNING_DEFAULTS, ...partial } as PromptTuningConfig;
  if (config.peft_type !== "PROMPT_TUNING")
    throw new ConfigError(`${where}: peft_type must be "PROMPT_TUNING"; found ${JSON.stringify(config.peft_type)}.`, {
      key: "peft_type",
    });
  if (!Number.isInteger(config.num_virtual_tokens) || config.num_virtual_tokens <= 0) {
    throw new ConfigError(
      `${where}: "num_virtual_tokens" must be a positive integer; found ${JSON.stringify(config.num_virtual_tokens)}.`,
      { key: "num_virtual_tokens" },
    );
  }
  if (!INITS.includes(config.prompt_tuning_init)) {
    throw new ConfigError(
      `${where}: "prompt_tuning_init" must be one of ${INITS.join(", ")}; found ${JSON.stringify(config.prompt_tuning_init)}.`,
      { key: "prompt_tuning_init" },
    );
  }
  if (
    config.prompt_tuning_init === "TEXT" &&
    !config.inference_mode &&
    typeof config.prompt_tuning_init_text !== "string"
  ) {
    throw new ConfigError(`${where}: prompt_tuning_init "TEXT" needs prompt_tuning_init_text.`, {
      key: "prompt_tuning_init_text",
    });
  }
  return config;
}

/** Reads a PROMPT_TUNING `adapter_config.json`; unknown keys are ignored with one warning. */
export function parsePromptTuningConfig(
  json: Record<string, unknown>,
  options: { file?: string; logger?: PeftLogger } = {},
): PromptTuningConfig {
  const where = options.file ?? "adapter_config.json";
  const known = new Set(Object.keys(PROMPT_TUNING_DEFAULTS));
  const picked: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (known.has(key)) picked[key] = value;
    else if (key !== "peft_version" && key !== "auto_mapping" && key !== "modules_to_save") unknown.push(key);
  }
  if (unknown.length > 0)
    options.logger?.warn(`${where}: ignoring keys this version does not know: ${unknown.join(", ")}.`);
  return createPromptTuningConfig(picked, where);
}
