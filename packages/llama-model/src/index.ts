export { LlamaForCausalLM } from "./llama-for-causal-lm.js";
export type { ForwardOptions, ForwardOutput, CachedStepOptions } from "./llama-for-causal-lm.js";
export { parseLlamaConfig, isLlamaConfig, llamaConfigToJson } from "./config.js";
export type { LlamaConfig, RopeScaling } from "./config.js";
export { Linear, linearApply, isPlainLinear, applyPlus } from "./linear.js";
export type { LinearLayer } from "./linear.js";
export { causalLmLoss, countLossTokens, shiftLabels } from "./causal-lm-loss.js";
export type { CausalLmLossOptions, LossReduction, LabelsInput } from "./causal-lm-loss.js";
export { computeInvFreq, ropeTables } from "./rope.js";
// HF LlamaRMSNorm is one op of @llamats/core (a kernel per backend); re-exported where it always was.
export { rmsNorm } from "@llamats/core";
export { silu, swigluMlp } from "./mlp.js";
export { selfAttention } from "./attention.js";
export { decoderLayer } from "./decoder-layer.js";
export { buildAttentionMask, positionsFromMask } from "./attention-mask.js";
export { KvCache } from "./kv-cache.js";
export { checkpointed, collectVariables } from "./gradient-checkpoint.js";
export { expectedParameterShapes, LAYER_LINEARS, linearShape, linearHasBias } from "./parameter-shapes.js";
export type { LayerLinearName, LlamaSizes } from "./parameter-shapes.js";
export { initialParameters } from "./init-weights.js";
export { loadPretrained } from "./load-pretrained.js";
export type { FromPretrainedOptions, LoadProgress } from "./load-pretrained.js";
export type { SavePretrainedOptions } from "./save-pretrained.js";
export { processLogits, applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP } from "./logits-processors.js";
export type { LogitsProcessingOptions } from "./logits-processors.js";
export { seededRandom, argmax, sampleFromLogits } from "./sampling.js";
export type { GenerateOptions, GeneratedToken, StreamedToken } from "./generate.js";
export type { GenerationTokenizer } from "./generation-tokenizer.js";
export { loadGenerationConfig, parseGenerationConfig } from "./generation-config.js";
export type { GenerationDefaults } from "./generation-config.js";
export { resolveModelFile } from "./resolve-model-file.js";
export { gatherRows } from "./gather-rows.js";
export { denseMatMul } from "./dense.js";
export { ChunkedLinear } from "./chunked-linear.js";
export { EmbeddingTable } from "./embedding-table.js";
export type { LlamaModelOptions } from "./vocab-layers.js";
export { chunkName, parseChunkName, rowChunks } from "./weight-chunks.js";
export { resolveWeights, WEIGHT_FILES } from "./resolve-weights.js";
export type { ResolvedWeights, ResolveWeightsOptions, WeightFormat } from "./resolve-weights.js";
export { PackedLinear, isPackedLinear } from "./packed-linear.js";
export { frozenWeightFormat, isPackedParameter, packParameter } from "./frozen-weights.js";
export type { FrozenWeightsOptions } from "./frozen-weights.js";
export { estimateModelBytes, checkModelFits, WASM_HEAP_BYTES } from "./memory-estimate.js";
export type { ModelBytes } from "./memory-estimate.js";
export type { LoadedPretrained } from "./load-pretrained.js";
export {
  exportGguf,
  ggufTensors,
  ggufTensorType,
  GGUF_FILE_TYPES,
  modelMetadata,
  ropeFrequencyFactors,
  tokenizerMetadata,
  preTokenizerName,
  ggufTensorName,
  interleaveRotaryRows,
} from "./gguf/index.js";
export type { ExportGgufOptions, GgufExportableModel, GgufFileType } from "./gguf/index.js";
