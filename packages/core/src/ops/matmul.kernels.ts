import * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { withEpilogue } from "./host-kernel.js";
import { webgpuMatMul } from "./matmul.webgpu.js";

/**
 * a [batchA, M, K] (or [batchA, K, M] with transposeA), b [batchB, K, N] (or [batchB, N, K] with transposeB) →
 * alpha · op(a) · op(b) (+ addend, an optional input of the result's shape) [max(batchA, batchB), M, N]; batchA and
 * batchB are equal or one of them is 1 (a shared weight). attrs { transposeA, transposeB, alpha (default 1) }.
 */
export const MATMUL = "LlamatsMatMul";
/**
 * The same product where b is a constant (a frozen weight): the same kernels, but the backward pass keeps only b, not
 * the activation a, alive (a is needed only for dB, which is never asked for).
 */
export const MATMUL_CONSTANT_B = "LlamatsMatMulConstantB";

interface HostBackendLike {
  disposeData(dataId: tf.DataId): boolean;
}

/** The backend's own BatchMatMul, looked up per call (on wasm that is llamats' SIMD gemm once installed). */
function batchMatMul(backendName: string, args: KernelArgs): tf.TensorInfo {
  return tf.getKernel(tf.BatchMatMul, backendName).kernelFunc(args as never) as tf.TensorInfo;
}

function cpuMatMul(args: KernelArgs): tf.TensorInfo {
  return batchMatMul("cpu", args);
}

/**
 * On wasm a transposed A is transposed first: the gemm's tall transposed-A case (dW of a 32k-row head) runs ~1.8×
 * slower than a transpose plus the plain product.
 */
function wasmMatMul(args: KernelArgs): tf.TensorInfo {
  if (!args.attrs?.transposeA) return batchMatMul("wasm", args);
  const { a, b } = args.inputs as Record<"a" | "b", tf.TensorInfo>;
  const transpose = tf.getKernel(tf.Transpose, "wasm").kernelFunc;
  const at = transpose({
    inputs: { x: a },
    backend: args.backend as never,
    attrs: { perm: [0, 2, 1] },
  }) as tf.TensorInfo;
  try {
    return batchMatMul("wasm", { ...args, inputs: { a: at, b }, attrs: { ...args.attrs, transposeA: false } });
  } finally {
    (args.backend as HostBackendLike).disposeData(at.dataId);
  }
}

/** One product of the gradient: runs the kernel, and sums a broadcast operand's gradient over the batch. */
function product(
  a: tf.Tensor,
  b: tf.Tensor,
  transposeA: boolean,
  transposeB: boolean,
  batchOf: number,
  alpha: number,
): tf.Tensor {
  const c = tf.engine().runKernel<tf.Tensor>(MATMUL, { a, b }, { transposeA, transposeB, alpha });
  if (batchOf !== 1 || c.shape[0] === 1) return c;
  return tf.tidy(() => tf.sum(c, 0, true));
}

/**
 * dA and dB as products with transposes (no transpose dispatched): with C = α·op(A)·op(B) + D, dop(A) = α·dC·op(B)ᵀ
 * and dop(B) = α·op(A)ᵀ·dC, each written back in its operand's stored layout; dD = dC.
 */
const gradient: tf.GradConfig = {
  kernelName: MATMUL,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    return {
      a: () => gradientOfA(dy as tf.Tensor, a.shape[0], b, attrs),
      b: () => gradientOfB(dy as tf.Tensor, a, b, attrs),
      addend: () => dy as tf.Tensor,
    };
  },
};

/** b constant: only dA (and the addend's dy), from b alone. */
const constantBGradient: tf.GradConfig = {
  kernelName: MATMUL_CONSTANT_B,
  inputsToSave: ["b"],
  gradFunc: (dy, saved, attrs) => {
    const [b] = saved;
    return { a: () => gradientOfA(dy as tf.Tensor, attrs.batchA as number, b, attrs), addend: () => dy as tf.Tensor };
  },
};

const alphaAttr = (attrs: tf.NamedAttrMap) => (attrs.alpha as number | undefined) ?? 1;

function gradientOfA(dc: tf.Tensor, batchA: number, b: tf.Tensor, attrs: tf.NamedAttrMap): tf.Tensor {
  const tB = attrs.transposeB as boolean;
  const alpha = alphaAttr(attrs);
  return attrs.transposeA ? product(b, dc, tB, true, batchA, alpha) : product(dc, b, false, !tB, batchA, alpha);
}

function gradientOfB(dc: tf.Tensor, a: tf.Tensor, b: tf.Tensor, attrs: tf.NamedAttrMap): tf.Tensor {
  const tA = attrs.transposeA as boolean;
  const alpha = alphaAttr(attrs);
  return attrs.transposeB ? product(dc, a, true, tA, b.shape[0], alpha) : product(a, dc, !tA, false, b.shape[0], alpha);
}

export const matMulOp: LlamatsOp = {
  kernels: [
    {
      name: MATMUL,
      cpu: withEpilogue(cpuMatMul, "cpu"),
      wasm: withEpilogue(wasmMatMul, "wasm"),
      webgpu: webgpuMatMul,
    },
    {
      name: MATMUL_CONSTANT_B,
      cpu: withEpilogue(cpuMatMul, "cpu"),
      wasm: withEpilogue(wasmMatMul, "wasm"),
      webgpu: webgpuMatMul,
    },
  ],
  gradients: [gradient, constantBGradient],
};
