export { getPeftModel, PeftModel } from "./peft-model.js";
export type {
  PeftHostModel,
  GetPeftModelOptions,
  PeftFromPretrainedOptions,
  LoadAdapterOptions,
  PeftSavePretrainedOptions,
} from "./peft-model.js";
export {
  LORA_CONFIG_DEFAULTS,
  createLoraConfig,
  parseAdapterConfig,
  serializeAdapterConfig,
  validateLoraConfig,
} from "./lora-config.js";
export type { LoraConfig, LoraBias, LoraInitialization, PeftLogger, ParseAdapterConfigOptions } from "./lora-config.js";
export {
  ALL_LINEAR,
  DEFAULT_TARGET_MODULES,
  isTargetModule,
  layerIndexOf,
  findMinimalTargetModules,
  resolveTargetModules,
} from "./target-matching.js";
export type { ResolveTargetsOptions, ResolvedTargets } from "./target-matching.js";
export { LoraLinear } from "./lora-linear.js";
export type { LoraAdapterWeights } from "./lora-linear.js";
export { initialLoraWeights, loraScaling } from "./lora-init.js";
export { rankAndAlphaFor, patternKeyFor } from "./rank-pattern.js";
export { PEFT_KEY_PREFIX, loraKey, baseParameterKey, parseLoraKey } from "./peft-keys.js";
export type { LoraMatrix } from "./peft-keys.js";
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  loadAdapterWeights,
  readAdapterConfigJson,
  resolveAdapterFiles,
  writeAdapterFiles,
} from "./adapter-io.js";
export type { AdapterTensor, ResolveAdapterOptions, ResolvedAdapterFiles, WriteAdapterOptions } from "./adapter-io.js";
export { loraParameterReport, loraTrainableParameterCount, formatParameterReport } from "./parameter-count.js";
export type { TrainableParameterReport } from "./parameter-count.js";
export { llamaShapeOf, llamaLinearShapes, llamaParameterSizes } from "./llama-shapes.js";
export type { LlamaShape, LinearShape } from "./llama-shapes.js";
export type { LinearLayer, WeightedLinearLayer, AdaptableModel } from "./model-host.js";
export { PromptTuningModel, PROMPT_EMBEDDINGS_KEY, promptInitTokenIds } from "./prompt-tuning.js";
export type { PromptInitTokenizer, CreatePromptTuningOptions } from "./prompt-tuning.js";
export { PROMPT_TUNING_DEFAULTS, createPromptTuningConfig, parsePromptTuningConfig } from "./prompt-tuning-config.js";
export type { PromptTuningConfig, PromptTuningInit } from "./prompt-tuning-config.js";
export { forwardFromEmbeddings } from "./embeddings-forward.js";
export type { EmbeddingsForwardOptions } from "./embeddings-forward.js";
