import type { LoraConfig } from "./lora-config.js";

/** PEFT's shorthand for "every linear layer but the output head". */
export const ALL_LINEAR = "all-linear";

/** PEFT's default LoRA targets per `model_type` (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export const DEFAULT_TARGET_MODULES: Readonly<Record<string, readonly string[]>> = {
  llama: ["q_proj", "v_proj"],
  mistral: ["q_proj", "v_proj"],
  qwen2: ["q_proj", "v_proj"],
  gemma: ["q_proj", "v_proj"],
};

// PEFT condenses long target lists to suffixes only from this many entries on (MIN_TARGET_MODULES_FOR_OPTIMIZATION).
const MIN_TARGETS_TO_CONDENSE = 20;

/** Python's `re.fullmatch`: the whole name must match. */
function fullMatch(pattern: string, name: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(name);
}

function matchesNameOrSuffix(names: readonly string[], key: string): boolean {
  return names.includes(key) || names.some((name) => key.endsWith(`.${name}`));
}

/** True when `key` lies in (or is) one of `modules_to_save`: such modules never get LoRA. */
export function isModuleToSave(modulesToSave: readonly string[] | null, key: string): boolean {
  if (!modulesToSave || modulesToSave.length === 0) return false;
  return modulesToSave.some((module) => new RegExp(`^(?:.*\\.)?(?:${escapeRegExp(module)})(?:$|\\..*)`).test(key));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The decoder-layer index in a module name (`model.layers.3.mlp.up_proj` → 3), as PEFT finds it. */
export function layerIndexOf(key: string, layersPattern: string[] | string | null): number | null {
  const patterns =
    layersPattern === null || layersPattern.length === 0
      ? null
      : Array.isArray(layersPattern)
        ? layersPattern
        : [layersPattern];
  if (patterns === null) {
    const match = /^.*?\.[^.]*\.(\d+)\./.exec(key);
    return match ? Number(match[1]) : null;
  }
  for (const pattern of patterns) {
    const match = new RegExp(`^.*?\\.${pattern}\\.(\\d+)\\.`).exec(key);
    if (match) return Number(match[1]);
  }
  return null;
}

type MatchingConfig = Pick<
  LoraConfig,
  "target_modules" | "exclude_modules" | "modules_to_save" | "layers_to_transform" | "layers_pattern"
>;

/**
 * PEFT's `check_target_module_exists`: exclusions first, then a regex (full match) or a list (exact name or
 * `.suffix`), then `layers_to_transform`. `target_modules` must already be resolved (not null / all-linear).
 */
export function isTargetModule(config: MatchingConfig, key: string): boolean {
  const exclude = config.exclude_modules;
  if (exclude !== null && exclude.length > 0) {
    if (typeof exclude === "string" ? fullMatch(exclude, key) : matchesNameOrSuffix(exclude, key)) return false;
  }
  if (isModuleToSave(config.modules_to_save, key)) return false;
  const targets = config.target_modules;
  if (targets === null) return false;
  if (typeof targets === "string") return fullMatch(targets, key);
  if (targets.includes(key)) return true;
  if (!targets.some((target) => key.endsWith(`.${target}`))) return false;
  const layers = config.layers_to_transform;
  const usesLayers = layers !== null && (Array.isArray(layers) ? layers.length > 0 : true);
  if (!usesLayers) return true;
  const index = layerIndexOf(key, config.layers_pattern);
  if (index === null) return false;
  return Array.isArray(layers) ? layers.includes(index) : index === layers;
}

/** Every name and its ancestors (`a.b.c` → `a`, `a.b`, `a.b.c`): the module tree seen from parameter names. */
export function moduleTreeNames(parameterNames: Iterable<string>): string[] {
  const modules = new Set<string>();
  for (const name of parameterNames) {
    const parts = name.split(".");
    for (let i = 1; i < parts.length; i++) modules.add(parts.slice(0, i).join("."));
  }
  return [...modules];
}

function suffixesOf(name: string): string[] {
  const parts = name.split(".");
  const suffixes: string[] = [];
  for (let i = parts.length - 1; i >= 0; i--) suffixes.push(parts.slice(i).join("."));
  return suffixes;
}

function compareStringLists(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/** PEFT's `_find_minimal_target_modules`: the fewest suffixes that pick the targets and nothing else. */
export function findMinimalTargetModules(targets: readonly string[], otherModuleNames: readonly string[]): string[] {
  const otherSuffixes = new Set(otherModuleNames.flatMap(suffixesOf));
  const required: string[] = [];
  const entries = [...new Set(targets)].map((item) => ({ item, suffixes: suffixesOf(item) }));
  entries.sort((a, b) => compareStringLists(a.suffixes, b.suffixes));
  for (const { item, suffixes } of entries) {
    for (const suffix of suffixes) {
      if (required.includes(suffix) || otherSuffixes.has(suffix)) continue;
      if (!required.some((r) => item.endsWith(`.${r}`))) {
        required.push(suffix);
        break;
      }
    }
  }
  return required.length > 0 ? required : [...new Set(targets)];
}

export interface ResolveTargetsOptions {
  config: LoraConfig;
  /** Every linear layer of the model, output head included (`lm_head`). */
  linearNames: readonly string[];
  /** Every module name of the model (used to condense long target lists as PEFT does). */
  moduleNames: readonly string[];
  /** `config.json`'s model_type, for PEFT's default targets. */
  modelType?: string;
  /** The output head, never targeted by all-linear. */
  outputHeadName?: string;
}

export interface ResolvedTargets {
  /** The config with `target_modules` as PEFT records it after injection. */
  config: LoraConfig;
  /** The linear layers that get LoRA, in model order. */
  modules: string[];
  /** Matched modules that are not linear layers (embeddings, norms): LoRA cannot wrap them here. */
  nonLinearMatches: string[];
}

/**
 * Turns `target_modules` into the list of layers to wrap and the value PEFT writes back to the config:
 * null → the model type's default; `all-linear` → every linear but the head; long lists condensed to suffixes.
 */
export function resolveTargetModules(options: ResolveTargetsOptions): ResolvedTargets {
  const { linearNames, moduleNames } = options;
  const outputHead = options.outputHeadName ?? "lm_head";
  let targets = options.config.target_modules;
  if (targets === null) {
    const defaults = DEFAULT_TARGET_MODULES[options.modelType ?? "llama"];
    targets = defaults ? [...defaults] : null;
  } else if (typeof targets === "string" && targets.toLowerCase() === ALL_LINEAR) {
    targets = linearNames.filter((name) => name !== outputHead);
  }
  if (Array.isArray(targets) && targets.length >= MIN_TARGETS_TO_CONDENSE) {
    const suffixes = targets.map((t) => `.${t}`);
    const others = moduleNames.filter((name) => !targets!.includes(name) && !suffixes.some((s) => name.endsWith(s)));
    const condensed = findMinimalTargetModules(targets, others);
    if (condensed.length < targets.length) targets = condensed;
  }
  const config: LoraConfig = { ...options.config, target_modules: targets };
  const modules = linearNames.filter((name) => isTargetModule(config, name));
  const linear = new Set(linearNames);
  const nonLinearMatches = moduleNames.filter((name) => !linear.has(name) && isTargetModule(config, name));
  return { config, modules, nonLinearMatches };
}
