import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError } from "../errors.js";
import { MATMUL, MATMUL_CONSTANT_B } from "./matmul.kernels.js";
import { hasLlamatsKernel } from "./registry.js";

export interface MatMulOptions {
  /** a is stored [..., K, M] and used transposed. */
  transposeA?: boolean;
  /** b is stored [..., N, K] and used transposed (HF's [out, in] weights in x·Wᵀ). */
  transposeB?: boolean;
  /** Scales the product (LoRA's scaling), inside the kernel. Default 1. */
  alpha?: number;
  /** Added to the scaled product, inside the kernel (LoRA's base output): float32 of the result's shape. */
  addend?: tf.Tensor;
  /**
   * b is a constant (a frozen weight): no gradient flows to it, so the backward pass keeps only b, and a (an
   * activation, often the largest tensor of a layer) can be freed after the forward pass.
   */
  constantB?: boolean;
}

const product = (dims: readonly number[]) => dims.reduce((x, y) => x * y, 1);

function shapeError(message: string, tensor: string, expected: number[], found: readonly number[]): ShapeMismatchError {
  return new ShapeMismatchError(`matMul: ${message}`, { tensor, expected, found: [...found] });
}

/**
 * alpha · op(a) · op(b) + addend for float32 a [..., M, K] and b [..., K, N] (op transposes the last two dimensions
 * when asked), with the same leading dimensions or one side without any (a shared weight): [..., M, N]. One llamats
 * kernel on cpu, wasm and webgpu (a tiled WGSL kernel there, alpha and addend applied as it stores); its gradient two
 * more of the same kernel, the transposes and alpha folded into each, and dy itself for the addend.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, options: MatMulOptions = {}): tf.Tensor {
  const transposeA = options.transposeA ?? false;
  const transposeB = options.transposeB ?? false;
  for (const [name, t] of [
    ["a", a],
    ["b", b],
  ] as const) {
    if (t.rank < 2 || t.dtype !== "float32")
      throw shapeError(
        `${name} must be a float32 matrix or batch of them, found ${t.dtype} [${t.shape}].`,
        name,
        [],
        t.shape,
      );
  }
  const ra = a.rank;
  const rb = b.rank;
  const [m, k] = transposeA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transposeB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (k !== kb)
    throw shapeError(
      `inner dimensions differ: a [${a.shape}]${transposeA ? " (transposed)" : ""} has ${k}, b [${b.shape}]${transposeB ? " (transposed)" : ""} has ${kb}.`,
      "b",
      transposeB ? [n, k] : [k, n],
      b.shape.slice(-2),
    );
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = product(outerA);
  const batchB = product(outerB);
  if (batchA !== 1 && batchB !== 1 && !tf.util.arraysEqual(outerA, outerB))
    throw shapeError(
      `leading (batch) dimensions must match or one side have none, found a [${a.shape}] and b [${b.shape}].`,
      "b",
      [...outerA, ...b.shape.slice(-2)],
      b.shape,
    );
  const outer = batchA > batchB ? outerA : batchB > batchA ? outerB : outerA.length >= outerB.length ? outerA : outerB;
  const alpha = options.alpha ?? 1;
  const addend = options.addend;
  if (addend && (addend.dtype !== "float32" || !tf.util.arraysEqual(addend.shape, [...outer, m, n])))
    throw shapeError(
      `addend must be float32 of the product's shape [${[...outer, m, n]}], found ${addend.dtype} [${addend.shape}].`,
      "addend",
      [...outer, m, n],
      addend.shape,
    );
  if (!hasLlamatsKernel(MATMUL))
    return tf.tidy(() => {
      const product = tf.matMul(a, b, transposeA, transposeB);
      const scaled = alpha === 1 ? product : tf.mul(product, alpha);
      return addend ? tf.add(scaled, addend) : scaled;
    });
  return tf.tidy(() => {
    // Rows of every batch against one weight: a single taller product.
    const fold = batchB === 1 && batchA > 1 && !transposeA;
    const a3 = fold ? tf.reshape(a, [1, batchA * m, k]) : tf.reshape(a, [batchA, ...a.shape.slice(-2)]);
    const b3 = tf.reshape(b, [batchB, ...b.shape.slice(-2)]);
    const batch = fold ? 1 : Math.max(batchA, batchB);
    const inputs: tf.NamedTensorMap = { a: a3, b: b3 };
    if (addend) inputs.addend = tf.reshape(addend, [batch, fold ? batchA * m : m, n]);
    // batchA: what MATMUL_CONSTANT_B's gradient needs of a, which it does not keep.
    const attrs = { transposeA, transposeB, alpha, batchA: a3.shape[0] };
    const c = tf.engine().runKernel<tf.Tensor>(options.constantB ? MATMUL_CONSTANT_B : MATMUL, inputs, attrs);
    return tf.reshape(c, [...outer, m, n]);
  });
}
