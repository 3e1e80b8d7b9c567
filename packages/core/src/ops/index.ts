export { ensureLlamatsKernels, hasLlamatsKernel, KERNEL_BACKENDS } from "./registry.js";
export { softmaxCrossEntropy, IGNORE_INDEX } from "./softmax-cross-entropy.js";
export type { SoftmaxCrossEntropyOptions } from "./softmax-cross-entropy.js";
export { rmsNorm } from "./rms-norm.js";
export { swiglu } from "./swiglu.js";
export { rope } from "./rope.js";
export type { RopeOptions } from "./rope.js";
export type { HeadLayout } from "./head-layout.js";
export { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from "./softmax-cross-entropy.kernels.js";
export { RMS_NORM, RMS_NORM_GRAD_X, RMS_NORM_GRAD_WEIGHT } from "./rms-norm.kernels.js";
export { SWIGLU, SWIGLU_GRAD, SWIGLU_GRAD_GATE, SWIGLU_GRAD_UP } from "./swiglu.kernels.js";
export { ROPE, ROPE_CONSTANT_TABLES, ROPE_GRAD } from "./rope.kernels.js";
export { attention } from "./attention.js";
export type { AttentionOptions } from "./attention.js";
export { ATTENTION, ATTENTION_MASKED, ATTENTION_GRAD } from "./attention.kernels.js";
export {
  packedMatMul,
  packedWeightTensors,
  packWeightTensors,
  disposePackedWeight,
  packedWeightTensorBytes,
  unpackWeightRows,
  unpackWeightTensor,
} from "./packed-matmul.js";
export type { PackedWeight, PackedMatMulOptions } from "./packed-matmul.js";
export { PACKED_MATMUL, PACKED_MATMUL_GRAD_X, UNPACK_ROWS } from "./packed-matmul.kernels.js";
export { matMul } from "./matmul.js";
export type { MatMulOptions } from "./matmul.js";
export { MATMUL, MATMUL_CONSTANT_B } from "./matmul.kernels.js";
export { adamwUpdate } from "./adamw.js";
export type { AdamWUpdate, AdamWUpdateOptions } from "./adamw.js";
export { ADAMW_MOMENTS, ADAMW_PARAM } from "./adamw.kernels.js";
export { dropout } from "./dropout.js";
export type { DropoutOptions } from "./dropout.js";
export { DROPOUT } from "./dropout.kernels.js";
