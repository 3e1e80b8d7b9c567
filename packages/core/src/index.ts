export {
  LlamatsError,
  FormatError,
  SafetensorsError,
  ConfigError,
  ShapeMismatchError,
  HubError,
  BackendUnavailableError,
  ValidationError,
  ResourceLimitError,
} from "./errors.js";
export type { LlamatsErrorOptions } from "./errors.js";
export { writeFileAtomic, tempPathFor } from "./atomic-write.js";
export { openSafetensors } from "./safetensors/reader.js";
export type { SafetensorsReader, TensorInfo, LoadedTensor, ReadRowsOptions } from "./safetensors/reader.js";
export { writeSafetensors, serializeSafetensors } from "./safetensors/writer.js";
export type { TensorToWrite } from "./safetensors/writer.js";
export { DTYPE_BYTES, halfToFloat, floatToHalf, bytesToFloat32 } from "./safetensors/dtypes.js";
export type { SafetensorsDtype, TensorData } from "./safetensors/dtypes.js";
export { MAX_HEADER_BYTES } from "./safetensors/header.js";
export {
  initBackend,
  registerGradients,
  releaseBackend,
  maxBindingBytes,
  BACKEND_CHOICES,
  BACKEND_HINTS,
  hasVulkanLoader,
  probeWebgpuAdapter,
  isSoftwareAdapter,
} from "./backend/index.js";
export type {
  BackendChoice,
  BackendName,
  BackendInfo,
  InitBackendOptions,
  WasmInfo,
  WebgpuInfo,
  WebgpuAdapterProbe,
  WebgpuProbeResult,
} from "./backend/index.js";
export { countGpuDispatches } from "./backend/gpu-dispatches.js";
export { gpuMemory, resetGpuMemoryPeak } from "./backend/gpu-memory.js";
export type { GpuMemory } from "./backend/gpu-memory.js";
export type { GpuDispatchCounter } from "./backend/gpu-dispatches.js";
export {
  resolveRepoFile,
  downloadRepo,
  hubSettingsFromEnv,
  hubCacheDir,
  DEFAULT_HUB_URL,
  isLocalPath,
  isRepoId,
  repoFolderName,
  globToRegExp,
  matchesAnyGlob,
  pushToHub,
  checkPushTarget,
  DEFAULT_PUSH_EXCLUDE,
} from "./hub/index.js";
export type {
  ResolveRepoFileOptions,
  DownloadRepoOptions,
  DownloadedRepo,
  HubSettings,
  HubOptions,
  HubProgress,
  RepoType,
  PushToHubOptions,
  PushProgress,
  PushResult,
} from "./hub/index.js";
export { SeededRng, seededRandom, shuffled } from "./seeded-rng.js";
export type { RngState } from "./seeded-rng.js";
export {
  WasmKernels,
  splitGemm,
  installWasmKernels,
  uninstallWasmKernels,
  wasmKernelsInstalled,
  KERNELS_SOURCE_SHA256,
} from "./kernels/index.js";
export {
  ensureLlamatsKernels,
  hasLlamatsKernel,
  KERNEL_BACKENDS,
  softmaxCrossEntropy,
  IGNORE_INDEX,
  rmsNorm,
  swiglu,
  rope,
} from "./ops/index.js";
export type { SoftmaxCrossEntropyOptions } from "./ops/index.js";
export {
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
  RMS_NORM,
  RMS_NORM_GRAD_X,
  RMS_NORM_GRAD_WEIGHT,
  SWIGLU,
  SWIGLU_GRAD,
  SWIGLU_GRAD_GATE,
  SWIGLU_GRAD_UP,
  ROPE,
  ROPE_CONSTANT_TABLES,
  ROPE_GRAD,
} from "./ops/index.js";
export type { GemmArgs, GemmShare } from "./kernels/index.js";
export { attention, ATTENTION, ATTENTION_MASKED, ATTENTION_GRAD } from "./ops/index.js";
export {
  packedMatMul,
  packedWeightTensors,
  packWeightTensors,
  disposePackedWeight,
  packedWeightTensorBytes,
  unpackWeightRows,
  unpackWeightTensor,
  PACKED_MATMUL,
  PACKED_MATMUL_GRAD_X,
  UNPACK_ROWS,
} from "./ops/index.js";
export type { PackedWeight, PackedMatMulOptions } from "./ops/index.js";
export type { AttentionOptions, HeadLayout, RopeOptions } from "./ops/index.js";
export { matMul, MATMUL, MATMUL_CONSTANT_B } from "./ops/index.js";
export type { MatMulOptions } from "./ops/index.js";
export { adamwUpdate, ADAMW_MOMENTS, ADAMW_PARAM } from "./ops/index.js";
export { dropout, DROPOUT } from "./ops/index.js";
export type { DropoutOptions } from "./ops/index.js";
export { frugalGradients, frugalVariableGrads } from "./autodiff/frugal-gradients.js";
export { seedDropout, nextDropoutSeed, dropoutStreamState, restoreDropoutStream } from "./dropout-stream.js";
export type { DropoutStreamState } from "./dropout-stream.js";
export type { AdamWUpdate, AdamWUpdateOptions } from "./ops/index.js";
export { openTorchCheckpoint, UnsafePickleError, TORCH_ALLOWED_GLOBALS } from "./torch/index.js";
export type { TorchCheckpointReader } from "./torch/index.js";
export {
  quantizeNf4,
  dequantizeNf4,
  NF4_CODE,
  NF4_THRESHOLDS,
  NF4_BLOCK_SIZES,
  quantizeBlockwise8Bit,
  dequantizeBlockwise8Bit,
  DYNAMIC_8BIT_MAP,
  quantizeQ8_0,
  dequantizeQ8_0,
  Q8_0_BLOCK_SIZE,
  Q8_0_BLOCK_BYTES,
  packWeight,
  PackedWeightWriter,
  PackingScratch,
  packingRowChunks,
  unpackWeight,
  packedWeightBytes,
  packedRowMultiple,
  float32ToBfloat16Bits,
  FROZEN_WEIGHT_FORMATS,
  PACKED_FORMAT_CODES,
} from "./quantize/index.js";
export type {
  Nf4Quantized,
  Nf4NestedAbsmax,
  Nf4QuantizeOptions,
  Nf4DequantizeOptions,
  Blockwise8BitOptions,
  Blockwise8BitQuantized,
  FrozenWeightFormat,
  PackedFormat,
  PackedWeightShape,
  PackedWeightData,
  PackWeightOptions,
} from "./quantize/index.js";
export {
  writeGguf,
  tensorByteSize,
  GGML_TYPE,
  GGUF_VALUE_TYPE,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_VERSION,
  GGUF_MAGIC,
} from "./gguf/index.js";
export type { GgufTensorSource, WriteGgufOptions, GgufValue, GgmlTensorType } from "./gguf/index.js";
