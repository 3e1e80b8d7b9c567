import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError, FormatError, LlamatsError, ShapeMismatchError } from "@llamats/core";
import {
  loadAdapterWeights,
  readAdapterConfigJson,
  resolveAdapterFiles,
  writeAdapterFiles,
  type AdapterTensor,
  type ResolveAdapterOptions,
} from "./adapter-io.js";
import {
  createLoraConfig,
  parseAdapterConfig,
  serializeAdapterConfig,
  type LoraConfig,
  type PeftLogger,
} from "./lora-config.js";
import { initialLoraWeights, loraScaling } from "./lora-init.js";
import { LoraLinear } from "./lora-linear.js";
import type { LlamaForCausalLM } from "@llamats/llama-model";
import type { AdaptableModel } from "./model-host.js";
import { ModulesToSaveStore } from "./modules-to-save.js";
import { formatParameterReport, makeParameterReport, type TrainableParameterReport } from "./parameter-count.js";
import { baseParameterKey, loraKey } from "./peft-keys.js";
import { rankAndAlphaFor } from "./rank-pattern.js";
import { isModuleToSave, moduleTreeNames, resolveTargetModules } from "./target-matching.js";

/** The model side of the contract: what @llamats/llama-model's LlamaForCausalLM offers. */
export interface PeftHostModel extends AdaptableModel {
  readonly config: object;
  forward(inputIds: never, options?: never): unknown;
  generate(inputIds: never, options: never): unknown;
  generateStream(inputIds: never, options: never): unknown;
}

export interface GetPeftModelOptions {
  adapterName?: string;
  /** Seed for the adapter's initial weights (unseeded when absent). */
  seed?: number;
  logger?: PeftLogger;
}

export interface PeftFromPretrainedOptions extends ResolveAdapterOptions {
  adapterName?: string;
  /** Train the loaded adapter further (default false: inference, as in PEFT). */
  isTrainable?: boolean;
  logger?: PeftLogger;
}

export interface LoadAdapterOptions extends ResolveAdapterOptions {
  isTrainable?: boolean;
}

export interface PeftSavePretrainedOptions {
  /** Recorded as `base_model_name_or_path` (the Hub id Python PEFT loads the base from). */
  baseModelNameOrPath?: string;
  /** Adapters to save (default: all); `default` goes to `dir`, any other to `dir/<name>`, as in PEFT. */
  adapterNames?: string[];
}

interface AdapterState {
  config: LoraConfig;
  modules: string[];
  trainable: boolean;
  /** Base bias parameters this adapter trains and saves (`bias: all | lora_only`). */
  biasNames: string[];
  /** Elements held in this adapter's modules_to_save copies. */
  copiedElements: number;
}

interface PlannedLayer {
  moduleName: string;
  rank: number;
  alpha: number;
  inFeatures: number;
  outFeatures: number;
}

function modelTypeOf(model: PeftHostModel): string | undefined {
  const config = model.config as { raw?: { model_type?: unknown }; model_type?: unknown };
  const type = config.raw?.model_type ?? config.model_type;
  return typeof type === "string" ? type : undefined;
}

/** Where the base model came from, when the model records it (PEFT writes it as base_model_name_or_path). */
function baseNameOrPathOf(model: PeftHostModel): string | null {
  const named = (model as { nameOrPath?: unknown }).nameOrPath;
  if (typeof named === "string") return named;
  const raw = (model.config as { raw?: { _name_or_path?: unknown } }).raw?._name_or_path;
  return typeof raw === "string" && raw !== "" ? raw : null;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * A base model with LoRA adapters injected into its linear layers (PEFT's PeftModel + LoraModel).
 * Several named adapters can live on one base; one is active. Adapter files are PEFT's format.
 */
export class PeftModel<M extends PeftHostModel = LlamaForCausalLM> {
  private readonly adapters = new Map<string, AdapterState>();
  private readonly loraLayers = new Map<string, LoraLinear>();
  private readonly modulesToSave: ModulesToSaveStore;
  private readonly originalTrainable: Map<string, boolean>;
  private readonly baseParameterCount: number;
  private active: string;
  private disabled = false;
  private training = true;
  private unloaded = false;
  /** Modules merged into the float32 dequantization of a packed base (kept after unloading, for the caller to report). */
  private readonly dequantized = new Set<string>();

  private constructor(
    readonly baseModel: M,
    activeAdapter: string,
    private readonly logger: PeftLogger | undefined,
  ) {
    const params = baseModel.namedParameters();
    this.originalTrainable = new Map([...params].map(([name, v]) => [name, v.trainable]));
    this.baseParameterCount = [...new Set(params.values())].reduce((sum, v) => sum + v.size, 0);
    this.modulesToSave = new ModulesToSaveStore(() => baseModel.namedParameters());
    this.active = activeAdapter;
  }

  /** getPeftModel: injects a freshly initialized adapter; only adapter variables are trainable. */
  static create<M extends PeftHostModel>(
    model: M,
    config: Partial<LoraConfig>,
    options: GetPeftModelOptions = {},
  ): PeftModel<M> {
    const name = options.adapterName ?? "default";
    const peft = new PeftModel(model, name, options.logger);
    const created = createLoraConfig(config);
    peft.inject({
      name,
      config: { ...created, base_model_name_or_path: created.base_model_name_or_path ?? baseNameOrPathOf(model) },
      weights: null,
      trainable: true,
      seed: options.seed,
    });
    peft.setAdapter(name);
    return peft;
  }

  /** Loads a PEFT adapter (a folder or a Hub repo id) onto `baseModel`. In eval mode unless `isTrainable`. */
  static async fromPretrained<M extends PeftHostModel>(
    baseModel: M,
    adapterDirOrRepo: string,
    options: PeftFromPretrainedOptions = {},
  ): Promise<PeftModel<M>> {
    const name = options.adapterName ?? "default";
    const { config, weights, source } = await readAdapter(adapterDirOrRepo, options, options.logger);
    const peft = new PeftModel(baseModel, name, options.logger);
    const trainable = options.isTrainable ?? false;
    peft.inject({ name, config: { ...config, inference_mode: !trainable }, weights, trainable, source });
    peft.setAdapter(name);
    if (!trainable) peft.eval();
    return peft;
  }

  /** The active adapter's config. */
  get config(): LoraConfig {
    return this.stateOf(this.active).config;
  }

  /** Every adapter's config by name. */
  get peftConfig(): ReadonlyMap<string, LoraConfig> {
    return new Map([...this.adapters].map(([name, state]) => [name, state.config]));
  }

  get activeAdapter(): string {
    return this.active;
  }

  get adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  /** True while the active adapter's weights are folded into the base weights. */
  get merged(): boolean {
    return [...this.loraLayers.values()].some((layer) => layer.merged);
  }

  /**
   * Modules whose packed (bf16/int8/nf4) base weight merging replaced with its float32 dequantization: the merged
   * model is float32 there (PEFT dequantizes a 4-bit base to merge, too). Callers should say so.
   */
  get dequantizedModules(): string[] {
    return [...this.dequantized];
  }

  /** True after mergeAndUnload()/unload(): the base model is plain again and this object is spent. */
  get isUnloaded(): boolean {
    return this.unloaded;
  }

  get adaptersDisabled(): boolean {
    return this.disabled;
  }

  /** LoRA module names the adapter wraps, in model order. */
  targetModules(adapterName = this.active): string[] {
    return [...this.stateOf(adapterName).modules];
  }

  /** Adds another freshly initialized adapter (not activated; call setAdapter). */
  addAdapter(name: string, config: Partial<LoraConfig>, options: { seed?: number } = {}): void {
    this.inject({ name, config: createLoraConfig(config), weights: null, trainable: true, seed: options.seed });
    this.refreshTrainable();
  }

  /** Loads another PEFT adapter under `name` (not activated; call setAdapter), as PEFT's load_adapter. */
  async loadAdapter(dirOrRepo: string, name: string, options: LoadAdapterOptions = {}): Promise<void> {
    this.checkAlive();
    if (this.adapters.has(name))
      throw new LlamatsError(
        `An adapter named "${name}" is already loaded; pick another name or deleteAdapter("${name}") first.`,
      );
    const { config, weights, source } = await readAdapter(dirOrRepo, options, this.logger);
    const trainable = options.isTrainable ?? false;
    this.inject({ name, config: { ...config, inference_mode: !trainable }, weights, trainable, source });
    this.refreshTrainable();
  }

  /** Makes `name` the adapter every forward uses (unmerging first, as PEFT does). */
  setAdapter(name: string): void {
    this.checkAlive();
    this.stateOf(name);
    if (this.merged) {
      this.logger?.warn(`Unmerging adapter "${this.active}" before switching to "${name}".`);
      this.unmerge();
    }
    this.active = name;
    for (const layer of this.loraLayers.values()) layer.activeAdapter = name;
    this.modulesToSave.activate(this.disabled ? null : name);
    this.refreshTrainable();
  }

  /** Removes an adapter and frees its variables; the active one cannot be deleted while others remain unselected. */
  deleteAdapter(name: string): void {
    this.checkAlive();
    this.stateOf(name);
    if (name === this.active && this.adapters.size > 1) {
      throw new LlamatsError(`"${name}" is the active adapter; setAdapter() to another one before deleting it.`);
    }
    for (const [moduleName, layer] of this.loraLayers) {
      layer.removeAdapter(name);
      if (layer.adapters.size === 0) {
        this.baseModel.setLinear(moduleName, layer.base);
        this.loraLayers.delete(moduleName);
      }
    }
    this.modulesToSave.remove(name);
    this.adapters.delete(name);
    this.refreshTrainable();
  }

  /** Runs the base model alone until enableAdapters() (unmerges a merged adapter first). */
  disableAdapters(): void {
    this.checkAlive();
    if (this.merged) this.unmerge();
    this.disabled = true;
    for (const layer of this.loraLayers.values()) layer.disabled = true;
    this.modulesToSave.activate(null);
  }

  enableAdapters(): void {
    this.checkAlive();
    this.disabled = false;
    for (const layer of this.loraLayers.values()) layer.disabled = false;
    this.modulesToSave.activate(this.active);
  }

  /** Dropout off. */
  eval(): this {
    this.training = false;
    for (const layer of this.loraLayers.values()) layer.training = false;
    return this;
  }

  /** Dropout on (the state after getPeftModel). */
  train(): this {
    this.training = true;
    for (const layer of this.loraLayers.values()) layer.training = true;
    return this;
  }

  get isTraining(): boolean {
    return this.training;
  }

  /** The base model's forward, with the active adapter applied inside its linear layers. */
  forward(...args: Parameters<M["forward"]>): ReturnType<M["forward"]> {
    this.checkAlive();
    return (this.baseModel.forward as (...a: unknown[]) => ReturnType<M["forward"]>).apply(this.baseModel, args);
  }

  generate(...args: Parameters<M["generate"]>): ReturnType<M["generate"]> {
    this.checkAlive();
    return (this.baseModel.generate as (...a: unknown[]) => ReturnType<M["generate"]>).apply(this.baseModel, args);
  }

  generateStream(...args: Parameters<M["generateStream"]>): ReturnType<M["generateStream"]> {
    this.checkAlive();
    return (this.baseModel.generateStream as (...a: unknown[]) => ReturnType<M["generateStream"]>).apply(
      this.baseModel,
      args,
    );
  }

  /**
   * An adapter's variables by PEFT key (`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`),
   * plus trained biases and modules_to_save parameters: exactly what savePretrained writes.
   */
  adapterVariables(adapterName = this.active): Map<string, tf.Variable> {
    this.checkAlive();
    const state = this.stateOf(adapterName);
    const params = this.baseModel.namedParameters();
    const variables = new Map<string, tf.Variable>();
    for (const moduleName of state.modules) {
      const weights = this.loraLayers.get(moduleName)!.adapters.get(adapterName)!;
      variables.set(loraKey(moduleName, "lora_A"), weights.loraA);
      variables.set(loraKey(moduleName, "lora_B"), weights.loraB);
    }
    for (const name of state.biasNames) variables.set(baseParameterKey(name), params.get(name)!);
    for (const [name, variable] of this.modulesToSave.variablesOf(adapterName))
      variables.set(baseParameterKey(name), variable);
    return variables;
  }

  /** Variables an optimizer should update: the active adapter's (when trainable) and any trained base parameters. */
  trainableVariables(): tf.Variable[] {
    return [...new Set(this.adapterVariables().values())].filter((v) => v.trainable);
  }

  /** PEFT's print_trainable_parameters numbers: trainable, all (base + every adapter), percent. */
  trainableParameters(): TrainableParameterReport {
    this.checkAlive();
    const trainable = this.trainableVariables().reduce((sum, v) => sum + v.size, 0);
    let adapterElements = 0;
    for (const [name, state] of this.adapters) {
      for (const moduleName of state.modules) {
        const weights = this.loraLayers.get(moduleName)!.adapters.get(name)!;
        adapterElements += weights.loraA.size + weights.loraB.size;
      }
      adapterElements += state.copiedElements;
    }
    return makeParameterReport(trainable, this.baseParameterCount + adapterElements);
  }

  /** trainableParameters(), also handed to `log` as PEFT's one-line summary. */
  printTrainableParameters(log?: (line: string) => void): TrainableParameterReport {
    const report = this.trainableParameters();
    log?.(formatParameterReport(report));
    return report;
  }

  /** Folds the active adapter into the base weights (forward then costs nothing extra). */
  merge(): void {
    this.checkAlive();
    if (this.disabled) throw new LlamatsError("Adapters are disabled; enableAdapters() before merging.");
    if (this.stateOf(this.active).config.fan_in_fan_out)
      throw new ConfigError("fan_in_fan_out adapters cannot be merged here.", { key: "fan_in_fan_out" });
    for (const [name, layer] of this.loraLayers) {
      layer.merge();
      if (layer.dequantizedBase) this.dequantized.add(name);
    }
  }

  /** Takes a merged adapter back out of the base weights. */
  unmerge(): void {
    this.checkAlive();
    for (const layer of this.loraLayers.values()) layer.unmerge();
  }

  /** Merges the active adapter and returns the plain base model (its savePretrained writes an HF repo); this PeftModel is then spent. */
  mergeAndUnload(): M {
    this.checkAlive();
    if (!this.disabled) this.merge();
    return this.unloadLayers();
  }

  /** Removes every adapter without merging and returns the base model as it was. */
  unload(): M {
    this.checkAlive();
    this.unmerge();
    this.modulesToSave.activate(null);
    return this.unloadLayers();
  }

  /** Writes each adapter as PEFT does: `adapter_config.json` + `adapter_model.safetensors`. */
  async savePretrained(dir: string, options: PeftSavePretrainedOptions = {}): Promise<void> {
    this.checkAlive();
    const names = options.adapterNames ?? this.adapterNames;
    for (const name of names) {
      const state = this.stateOf(name);
      const tensors = new Map<string, AdapterTensor>();
      for (const [key, variable] of this.adapterVariables(name)) {
        tensors.set(key, { shape: [...variable.shape], data: (await variable.data()) as Float32Array });
      }
      const config = serializeAdapterConfig({
        ...state.config,
        // PEFT writes configs in inference mode.
        inference_mode: true,
        base_model_name_or_path: options.baseModelNameOrPath ?? state.config.base_model_name_or_path,
      });
      await writeAdapterFiles({ dir: name === "default" ? dir : join(dir, name), config, tensors });
    }
  }

  private unloadLayers(): M {
    for (const [moduleName, layer] of this.loraLayers) {
      this.baseModel.setLinear(moduleName, layer.base);
      for (const name of [...layer.adapters.keys()]) {
        const weights = layer.adapters.get(name)!;
        weights.loraA.dispose();
        weights.loraB.dispose();
      }
      layer.adapters.clear();
    }
    this.loraLayers.clear();
    this.modulesToSave.dispose();
    this.baseModel.setTrainable((name) => this.originalTrainable.get(name) ?? true);
    this.adapters.clear();
    this.unloaded = true;
    return this.baseModel;
  }

  private checkAlive(): void {
    if (this.unloaded)
      throw new LlamatsError("This PeftModel was unloaded (mergeAndUnload/unload); use the returned base model.");
  }

  private stateOf(name: string): AdapterState {
    const state = this.adapters.get(name);
    if (!state)
      throw new LlamatsError(`No adapter named "${name}"; loaded adapters: ${this.adapterNames.join(", ") || "none"}.`);
    return state;
  }

  private refreshTrainable(): void {
    for (const [name, state] of this.adapters) {
      const on = state.trainable && name === this.active;
      for (const moduleName of state.modules) {
        const weights = this.loraLayers.get(moduleName)!.adapters.get(name)!;
        weights.loraA.trainable = on;
        weights.loraB.trainable = on;
      }
    }
    const active = this.adapters.get(this.active);
    const trainedBase = new Set(
      active?.trainable ? [...active.biasNames, ...this.modulesToSave.parameterNames(this.active)] : [],
    );
    this.baseModel.setTrainable((name) => trainedBase.has(name));
  }

  /** Validates everything against the model first, then wraps layers and creates variables. */
  private inject(options: {
    name: string;
    config: LoraConfig;
    weights: Map<string, AdapterTensor> | null;
    trainable: boolean;
    seed?: number;
    source?: string;
  }): void {
    this.checkAlive();
    const { name, weights, trainable, seed } = options;
    const source = options.source ?? "adapter";
    if (this.adapters.has(name)) throw new LlamatsError(`An adapter named "${name}" already exists.`);
    let config = options.config;
    if (config.fan_in_fan_out) {
      // PEFT does the same for torch.nn.Linear targets: their weights are [out, in] already.
      this.logger?.warn(
        "fan_in_fan_out is set to True but the target modules are Linear layers; setting fan_in_fan_out to False.",
      );
      config = { ...config, fan_in_fan_out: false };
    }
    const params = this.baseModel.namedParameters();
    const linearNames = this.baseModel.linearNames();
    const moduleNames = [...new Set([...moduleTreeNames(params.keys()), ...linearNames])];
    const resolved = resolveTargetModules({ config, linearNames, moduleNames, modelType: modelTypeOf(this.baseModel) });
    config = resolved.config;
    if (resolved.nonLinearMatches.length > 0) {
      throw new ConfigError(
        `${source}: target_modules matches ${resolved.nonLinearMatches.join(", ")}, which are not linear layers; LoRA here wraps linear layers only.`,
        {
          key: "target_modules",
        },
      );
    }
    if (resolved.modules.length === 0) {
      const kinds = [...new Set(linearNames.map((n) => n.slice(n.lastIndexOf(".") + 1)))].join(", ");
      throw new ConfigError(
        `${source}: target modules ${JSON.stringify(config.target_modules)} not found in the base model; its linear layers are ${kinds}.`,
        {
          key: "target_modules",
        },
      );
    }
    const plan: PlannedLayer[] = resolved.modules.map((moduleName) => {
      const layer = this.loraLayers.get(moduleName) ?? this.baseModel.getLinear(moduleName);
      if (layer instanceof LoraLinear && !this.loraLayers.has(moduleName)) {
        throw new LlamatsError(
          `${moduleName} already carries LoRA from another PeftModel; add adapters to that one (addAdapter / loadAdapter) or unload() it first.`,
        );
      }
      const { rank, alpha } = rankAndAlphaFor(config, moduleName);
      return { moduleName, rank, alpha, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures };
    });
    const biasNames = this.biasNamesFor(config, resolved.modules, params);
    const savedNames = [...params.keys()].filter((p) =>
      isModuleToSave(config.modules_to_save, p.slice(0, p.lastIndexOf("."))),
    );
    const packedName = [...(this.baseModel.packedWeights?.().keys() ?? [])].find((p) =>
      isModuleToSave(config.modules_to_save, p.slice(0, p.lastIndexOf("."))),
    );
    if (packedName) {
      throw new ConfigError(
        `${source}: modules_to_save cannot train "${packedName}", which the base holds packed (frozen bf16/int8/nf4 weights); load the base with float32 weights to train it.`,
        { key: "modules_to_save" },
      );
    }
    const chunked = savedNames.find((p) => p.endsWith("]"));
    if (chunked) {
      // A row chunk (llama-model's maxTensorBytes split) has no PEFT key of its own.
      throw new ConfigError(
        `${source}: modules_to_save cannot hold "${chunked}", a row chunk of a split tensor; load the base without maxTensorBytes splitting.`,
        {
          key: "modules_to_save",
        },
      );
    }
    if (config.modules_to_save && config.modules_to_save.length > 0 && savedNames.length === 0) {
      this.logger?.warn(
        `${source}: modules_to_save ${JSON.stringify(config.modules_to_save)} matches no parameter of the base model.`,
      );
    }
    if (weights) checkAdapterWeights({ source, weights, plan, extraNames: [...biasNames, ...savedNames], params });

    for (const [i, layerPlan] of plan.entries()) {
      const { moduleName, rank, alpha, inFeatures, outFeatures } = layerPlan;
      let layer = this.loraLayers.get(moduleName);
      if (!layer) {
        layer = new LoraLinear(moduleName, this.baseModel.getLinear(moduleName));
        layer.training = this.training;
        layer.disabled = this.disabled;
        layer.activeAdapter = this.active;
        this.baseModel.setLinear(moduleName, layer);
        this.loraLayers.set(moduleName, layer);
      }
      const [a, b] = weights
        ? [
            tf.tensor2d(weights.get(loraKey(moduleName, "lora_A"))!.data, [rank, inFeatures]),
            tf.tensor2d(weights.get(loraKey(moduleName, "lora_B"))!.data, [outFeatures, rank]),
          ]
        : (() => {
            const init = initialLoraWeights({
              rank,
              inFeatures,
              outFeatures,
              init: config.init_lora_weights,
              seed: seed === undefined ? undefined : seed + 2 * i,
            });
            return [init.loraA, init.loraB];
          })();
      layer.addAdapter(name, {
        rank,
        alpha,
        scaling: loraScaling({ rank, alpha, useRslora: config.use_rslora }),
        dropout: config.lora_dropout,
        loraA: tf.variable(a, trainable),
        loraB: tf.variable(b, trainable),
      });
      a.dispose();
      b.dispose();
    }
    if (weights) {
      // PEFT loads saved biases straight into the base model.
      for (const biasName of biasNames) {
        const tensor = weights.get(baseParameterKey(biasName))!;
        const values = tf.tensor(tensor.data, tensor.shape);
        params.get(biasName)!.assign(values);
        values.dispose();
      }
    }
    const savedValues = new Map<string, tf.Tensor>();
    if (weights)
      for (const p of savedNames)
        savedValues.set(p, tf.tensor(weights.get(baseParameterKey(p))!.data, weights.get(baseParameterKey(p))!.shape));
    this.modulesToSave.add(name, savedNames, savedValues);
    for (const t of savedValues.values()) t.dispose();
    const copiedElements = savedNames.reduce((sum, p) => sum + params.get(p)!.size, 0);
    this.adapters.set(name, { config, modules: resolved.modules, trainable, biasNames, copiedElements });
  }

  private biasNamesFor(config: LoraConfig, modules: readonly string[], params: Map<string, tf.Variable>): string[] {
    if (config.bias === "all") return [...params.keys()].filter((p) => p.endsWith(".bias"));
    if (config.bias === "lora_only") return modules.map((m) => `${m}.bias`).filter((p) => params.has(p));
    return [];
  }
}

/** Every tensor the plan needs is in the file with the right shape, and the file holds nothing the model lacks. */
function checkAdapterWeights(options: {
  source: string;
  weights: Map<string, AdapterTensor>;
  plan: readonly PlannedLayer[];
  extraNames: readonly string[];
  params: Map<string, tf.Variable>;
}): void {
  const { source, weights, plan, extraNames, params } = options;
  const expected = new Map<string, { shape: number[]; what: string }>();
  for (const { moduleName, rank, inFeatures, outFeatures } of plan) {
    const layerText = `${moduleName} (${inFeatures} → ${outFeatures} features, r=${rank})`;
    expected.set(loraKey(moduleName, "lora_A"), { shape: [rank, inFeatures], what: layerText });
    expected.set(loraKey(moduleName, "lora_B"), { shape: [outFeatures, rank], what: layerText });
  }
  for (const name of extraNames)
    expected.set(baseParameterKey(name), { shape: [...params.get(name)!.shape], what: name });
  for (const [key, { shape, what }] of expected) {
    const tensor = weights.get(key);
    if (!tensor) {
      throw new FormatError(
        `${source}: ${key} is missing; the adapter config targets ${what} of the base model but the weights file has no tensor for it.`,
        { file: source },
      );
    }
    if (!sameShape(tensor.shape, shape) || tensor.data.length !== sizeOf(shape)) {
      throw new ShapeMismatchError(
        `${source}: ${key} has shape ${shapeText(tensor.shape)}, but ${what} of the base model needs ${shapeText(shape)}; is this adapter for a different base model?`,
        { tensor: key, expected: shape, found: tensor.shape },
      );
    }
  }
  const extra = [...weights.keys()].filter((key) => !expected.has(key));
  if (extra.length > 0) {
    throw new FormatError(
      `${source}: ${extra.length} tensor(s) match no module of the base model under this adapter config, e.g. ${extra.slice(0, 3).join(", ")}; is this adapter for a different base model?`,
      { file: source },
    );
  }
}

async function readAdapter(
  dirOrRepo: string,
  options: ResolveAdapterOptions,
  logger: PeftLogger | undefined,
): Promise<{ config: LoraConfig; weights: Map<string, AdapterTensor>; source: string }> {
  const files = await resolveAdapterFiles(dirOrRepo, options);
  const json = await readAdapterConfigJson(files.configPath);
  const config = parseAdapterConfig(json, { file: files.configPath, logger });
  const weights = await loadAdapterWeights(files.weightsPath);
  return { config, weights, source: files.weightsPath };
}

/** Wraps `model`'s target layers with a new LoRA adapter (PEFT's get_peft_model). Only adapter variables train. */
export function getPeftModel<M extends PeftHostModel>(
  model: M,
  config: Partial<LoraConfig>,
  options: GetPeftModelOptions = {},
): PeftModel<M> {
  return PeftModel.create(model, config, options);
}
