import * as tf from "@tensorflow/tfjs-core";
import { BackendUnavailableError, ShapeMismatchError } from "../errors.js";
import { packWeight } from "../quantize/packed-weight-writer.js";
import {
  PACKED_FORMAT_CODES,
  type PackWeightOptions,
  type PackedWeightData,
  type PackedWeightShape,
} from "../quantize/packed-weight.js";
import { PACKED_MATMUL, UNPACK_ROWS } from "./packed-matmul.kernels.js";
import { hasLlamatsKernel } from "./registry.js";

/** A packed frozen weight on the active backend: int32 words and float32 scales (one placeholder 0 for bf16). */
export interface PackedWeight extends PackedWeightShape {
  words: tf.Tensor1D;
  scales: tf.Tensor1D;
}

/** Moves a host-packed weight onto the active backend (the host arrays can be dropped after). */
export function packedWeightTensors(data: PackedWeightData): PackedWeight {
  const { words, scales, ...shape } = data;
  return {
    ...shape,
    words: tf.tensor1d(words, "int32"),
    // Every kernel input needs memory on every backend: bf16's unused scales are one zero.
    scales: tf.tensor1d(scales.length ? scales : new Float32Array(1), "float32"),
  };
}

/** Packs float32 [out, in] values straight onto the backend: the float32 copy is the caller's, never a tensor. */
export function packWeightTensors(values: Float32Array, options: PackWeightOptions): PackedWeight {
  return packedWeightTensors(packWeight(values, options));
}

export function disposePackedWeight(weight: PackedWeight): void {
  tf.dispose([weight.words, weight.scales]);
}

/** Bytes the weight's tensors hold on the backend. */
export function packedWeightTensorBytes(weight: PackedWeight): number {
  return weight.words.size * 4 + weight.scales.size * 4;
}

export interface PackedMatMulOptions {
  /**
   * int8 weights only, for decoding: quantize each row of x to int8 per 32-block and take integer dot products, as
   * llama.cpp's q8_0 × q8_0 (cpu: the reference; wasm: i32x4.dot_i16x8_s; webgpu keeps the float product). Adds x's
   * quantization error; the gradient (if any) is the float product's.
   */
  quantizeActivations?: boolean;
  /** Added to the product inside the kernel (a residual): float32 of the result's shape [..., out]. */
  addend?: tf.Tensor;
}

function kernelAttrs(weight: PackedWeight, options: PackedMatMulOptions = {}): tf.NamedAttrMap {
  const attrs = {
    format: PACKED_FORMAT_CODES[weight.format],
    outFeatures: weight.outFeatures,
    inFeatures: weight.inFeatures,
    blockSize: weight.blockSize,
    quantizeActivations: options.quantizeActivations && weight.format === "int8" ? 1 : 0,
  };
  return attrs;
}

function requireKernels(weight: PackedWeight, what: string): void {
  if (!hasLlamatsKernel(PACKED_MATMUL)) {
    throw new BackendUnavailableError(
      `${what}: ${weight.format} weights are unpacked by llamats kernels, which run on cpu, wasm and webgpu; the active backend is ${tf.getBackend()}. Use one of those, or float32 weights.`,
      { backend: tf.getBackend(), hint: "use --backend cpu|wasm|webgpu, or --weights float32" },
    );
  }
}

/**
 * W [out, in] as a float32 tensor, unpacked on the backend (the values core's reference dequantizers give): what
 * merging an adapter into a packed base starts from. The forward never calls it.
 */
export function unpackWeightTensor(weight: PackedWeight): tf.Tensor2D {
  return tf.tidy(() => unpackWeightRows(weight, tf.range(0, weight.outFeatures, 1, "int32")));
}

/** Rows `ids` [n] of a packed weight as float32 [n, in] (a packed embedding's lookup), unpacked in one kernel. */
export function unpackWeightRows(weight: PackedWeight, ids: tf.Tensor1D): tf.Tensor2D {
  requireKernels(weight, "unpackWeightRows");
  if (ids.dtype !== "int32") {
    throw new ShapeMismatchError(`unpackWeightRows: ids must be int32, found ${ids.dtype}`, {
      tensor: "ids",
      expected: [ids.size],
      found: ids.shape,
    });
  }
  return tf
    .engine()
    .runKernel<tf.Tensor2D>(UNPACK_ROWS, { words: weight.words, scales: weight.scales, ids }, kernelAttrs(weight));
}

/**
 * x [..., in] · Wᵀ → [..., out] for a packed frozen weight W [out, in], unpacked inside the matmul kernel (cpu: the
 * plain-TS reference; wasm: llamats' C SIMD kernel; webgpu: a tiled WGSL kernel), never as a float32 copy of W.
 * Differentiable in x (dX = dY · W, unpacked the same way); the weight gets no gradient.
 */
export function packedMatMul(x: tf.Tensor, weight: PackedWeight, options: PackedMatMulOptions = {}): tf.Tensor {
  const inFeatures = x.shape[x.rank - 1];
  if (x.dtype !== "float32" || x.rank < 1 || inFeatures !== weight.inFeatures) {
    throw new ShapeMismatchError(
      `packedMatMul: x must be float32 [..., ${weight.inFeatures}] for a ${weight.format} weight [${weight.outFeatures}, ${weight.inFeatures}], found ${x.dtype} [${x.shape.join(", ")}]`,
      { tensor: "x", expected: [weight.inFeatures], found: x.shape },
    );
  }
  requireKernels(weight, "packedMatMul");
  const outShape = [...x.shape.slice(0, -1), weight.outFeatures];
  const addend = options.addend;
  if (addend && (addend.dtype !== "float32" || !tf.util.arraysEqual(addend.shape, outShape)))
    throw new ShapeMismatchError(
      `packedMatMul: addend must be float32 [${outShape.join(", ")}], found ${addend.dtype} [${addend.shape.join(", ")}]`,
      { tensor: "addend", expected: outShape, found: addend.shape },
    );
  if (x.size === 0) return addend ? tf.clone(addend) : tf.zeros(outShape);
  const inputs: tf.NamedTensorMap = { x, words: weight.words, scales: weight.scales };
  if (addend) inputs.addend = addend;
  return tf.engine().runKernel<tf.Tensor>(PACKED_MATMUL, inputs, kernelAttrs(weight, options));
}
