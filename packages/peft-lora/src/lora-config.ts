import { ConfigError } from "@llamats/core";

/** Which bias vectors train with the adapter (PEFT's `bias`). */
export type LoraBias = "none" | "all" | "lora_only";

/** `true`: kaiming-uniform A and zero B; `'gaussian'`: A ~ N(0, 1/r) and zero B; `false`: both random (for tests). */
export type LoraInitialization = boolean | "gaussian";

/** LoRA settings with PEFT's field names and defaults, as stored in `adapter_config.json`. */
export interface LoraConfig {
  peft_type: "LORA";
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** A list (exact name or `.suffix` match), a regex (full match), `"all-linear"`, or null (the model type's default). */
  target_modules: string[] | string | null;
  exclude_modules: string[] | string | null;
  bias: LoraBias;
  fan_in_fan_out: boolean;
  use_rslora: boolean;
  init_lora_weights: LoraInitialization;
  /** Module name (or regex matched against its end) → rank; wins over `r`. */
  rank_pattern: Record<string, number>;
  /** Module name (or regex matched against its end) → alpha; wins over `lora_alpha`. */
  alpha_pattern: Record<string, number>;
  layers_to_transform: number[] | number | null;
  layers_pattern: string[] | string | null;
  /** Whole modules (e.g. `lm_head`, `embed_tokens`) trained and saved with the adapter. */
  modules_to_save: string[] | null;
  task_type: string | null;
  inference_mode: boolean;
  base_model_name_or_path: string | null;
  revision: string | null;
}

export const LORA_CONFIG_DEFAULTS: Readonly<LoraConfig> = Object.freeze({
  peft_type: "LORA",
  r: 8,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: null,
  exclude_modules: null,
  bias: "none",
  fan_in_fan_out: false,
  use_rslora: false,
  init_lora_weights: true,
  rank_pattern: {},
  alpha_pattern: {},
  layers_to_transform: null,
  layers_pattern: null,
  modules_to_save: null,
  task_type: "CAUSAL_LM",
  inference_mode: false,
  base_model_name_or_path: null,
  revision: null,
});

/** Receives warnings (unknown config keys, ignored settings); library code never prints. */
export interface PeftLogger {
  warn(message: string): void;
}

// PEFT fields that only change the math when set; at their default (null / false / {} / []) they are harmless.
const FEATURE_KEYS_UNSUPPORTED_WHEN_SET = [
  "use_dora",
  "lora_bias",
  "layer_replication",
  "target_parameters",
  "trainable_token_indices",
  "use_qalora",
  "alora_invocation_tokens",
  "use_bdlora",
  "arrow_config",
  "velora_config",
  "monteclora_config",
  "kasa_config",
] as const;

// PEFT fields that carry no meaning for a model running here (bookkeeping, init-time-only or distributed settings).
const KNOWN_INERT_KEYS = new Set([
  "peft_version",
  "auto_mapping",
  "megatron_config",
  "megatron_core",
  "loftq_config",
  "corda_config",
  "eva_config",
  "lora_ga_config",
  "qalora_group_size",
  "ensure_weight_tying",
  "runtime_config",
]);

function isDefaultish(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value).length === 0;
  return false;
}

function fail(key: string, expected: string, found: unknown, where: string): never {
  throw new ConfigError(`${where}: "${key}" must be ${expected}; found ${JSON.stringify(found)}.`, { key });
}

function checkStringOrList(key: string, value: unknown, where: string): void {
  if (value === null || typeof value === "string") return;
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return;
  fail(key, "a string, a list of strings or null", value, where);
}

function checkNumberMap(key: string, value: unknown, where: string): void {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    fail(key, "an object of numbers", value, where);
  for (const [name, n] of Object.entries(value as Record<string, unknown>)) {
    if (typeof n !== "number" || !(n > 0)) fail(`${key}.${name}`, "a positive number", n, where);
  }
}

/** Checks every field's type and range; `where` names the file or call site in the message. */
export function validateLoraConfig(config: LoraConfig, where = "LoraConfig"): LoraConfig {
  if (config.peft_type !== "LORA") fail("peft_type", '"LORA"', config.peft_type, where);
  if (!Number.isInteger(config.r) || config.r <= 0) fail("r", "a positive integer", config.r, where);
  if (typeof config.lora_alpha !== "number" || !Number.isFinite(config.lora_alpha))
    fail("lora_alpha", "a number", config.lora_alpha, where);
  if (typeof config.lora_dropout !== "number" || config.lora_dropout < 0 || config.lora_dropout >= 1) {
    fail("lora_dropout", "a number in [0, 1)", config.lora_dropout, where);
  }
  checkStringOrList("target_modules", config.target_modules, where);
  checkStringOrList("exclude_modules", config.exclude_modules, where);
  checkStringOrList("layers_pattern", config.layers_pattern, where);
  if (!["none", "all", "lora_only"].includes(config.bias))
    fail("bias", '"none", "all" or "lora_only"', config.bias, where);
  if (typeof config.fan_in_fan_out !== "boolean") fail("fan_in_fan_out", "true or false", config.fan_in_fan_out, where);
  if (typeof config.use_rslora !== "boolean") fail("use_rslora", "true or false", config.use_rslora, where);
  if (typeof config.init_lora_weights !== "boolean" && config.init_lora_weights !== "gaussian") {
    fail(
      "init_lora_weights",
      'true, false or "gaussian" (other PEFT initializations are not supported)',
      config.init_lora_weights,
      where,
    );
  }
  checkNumberMap("rank_pattern", config.rank_pattern, where);
  checkNumberMap("alpha_pattern", config.alpha_pattern, where);
  const layers = config.layers_to_transform;
  if (
    layers !== null &&
    !Number.isInteger(layers) &&
    !(Array.isArray(layers) && layers.every((n) => Number.isInteger(n)))
  ) {
    fail("layers_to_transform", "an integer, a list of integers or null", layers, where);
  }
  if (
    config.modules_to_save !== null &&
    !(Array.isArray(config.modules_to_save) && config.modules_to_save.every((m) => typeof m === "string"))
  ) {
    fail("modules_to_save", "a list of module names or null", config.modules_to_save, where);
  }
  return config;
}

/** Fills PEFT's defaults into a partial config (the `LoraConfig(...)` constructor) and validates it. */
export function createLoraConfig(partial: Partial<LoraConfig> = {}): LoraConfig {
  const config: LoraConfig = {
    ...LORA_CONFIG_DEFAULTS,
    rank_pattern: {},
    alpha_pattern: {},
    ...stripUndefined(partial),
  };
  // PEFT stores a list of targets as a set: duplicates are dropped.
  if (Array.isArray(config.target_modules)) config.target_modules = [...new Set(config.target_modules)];
  if (Array.isArray(config.exclude_modules)) config.exclude_modules = [...new Set(config.exclude_modules)];
  return validateLoraConfig(config, "LoraConfig");
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface ParseAdapterConfigOptions {
  /** The file the JSON came from, for messages. */
  file?: string;
  logger?: PeftLogger;
}

/**
 * Reads an `adapter_config.json` object as PEFT writes it. Keys this package does not know are ignored
 * with one warning; PEFT features it cannot reproduce (DoRA, lora_bias, …) are refused when switched on.
 */
export function parseAdapterConfig(json: unknown, options: ParseAdapterConfigOptions = {}): LoraConfig {
  const where = options.file ?? "adapter_config.json";
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError(`${where}: expected a JSON object, found ${Array.isArray(json) ? "an array" : typeof json}.`);
  }
  const raw = json as Record<string, unknown>;
  const peftType = raw.peft_type ?? "LORA";
  if (peftType !== "LORA") {
    throw new ConfigError(
      `${where}: peft_type ${JSON.stringify(peftType)} is not a LoRA adapter (use loadPromptTuningAdapter for PROMPT_TUNING).`,
      {
        key: "peft_type",
      },
    );
  }
  const known = new Set(Object.keys(LORA_CONFIG_DEFAULTS));
  const picked: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (known.has(key)) {
      picked[key] = value;
    } else if ((FEATURE_KEYS_UNSUPPORTED_WHEN_SET as readonly string[]).includes(key)) {
      if (!isDefaultish(value)) {
        throw new ConfigError(
          `${where}: "${key}" = ${JSON.stringify(value)} is a PEFT feature that @llamats/peft-lora does not implement.`,
          { key },
        );
      }
    } else if (!KNOWN_INERT_KEYS.has(key)) {
      unknown.push(key);
    }
  }
  if (unknown.length > 0) {
    options.logger?.warn(`${where}: ignoring keys this version does not know: ${unknown.join(", ")}.`);
  }
  if (
    picked.init_lora_weights !== undefined &&
    typeof picked.init_lora_weights === "string" &&
    picked.init_lora_weights !== "gaussian"
  ) {
    // Other initializations (pissa, olora, loftq, …) only matter when creating an adapter; loaded weights replace them.
    options.logger?.warn(
      `${where}: init_lora_weights "${picked.init_lora_weights}" is only used at creation; loading the saved weights.`,
    );
    picked.init_lora_weights = true;
  }
  for (const key of ["rank_pattern", "alpha_pattern"] as const) if (picked[key] === null) picked[key] = {};
  const config = { ...LORA_CONFIG_DEFAULTS, rank_pattern: {}, alpha_pattern: {}, ...picked } as LoraConfig;
  return validateLoraConfig(config, where);
}

/** The object written to `adapter_config.json`: PEFT's field set, with the keys sorted as PEFT writes them. */
export function serializeAdapterConfig(
  config: LoraConfig,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    ...config,
    // Fields PEFT always writes; fixed here because this package cannot produce anything else.
    use_dora: false,
    lora_bias: false,
    layer_replication: null,
    loftq_config: {},
    megatron_config: null,
    megatron_core: "megatron.core",
    auto_mapping: null,
    ...extra,
  };
  return Object.fromEntries(
    Object.keys(fields)
      .sort()
      .map((key) => [key, fields[key]]),
  );
}
