import * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { webgpuMatMul } from "./matmul.webgpu.js";

/**
 * a [batchA, M, K] (or [batchA, K, M] with transposeA), b [batchB, K, N] (or [batchB, N, K] with transposeB) →
 * [max(batchA, batchB), M, N]; batchA and batchB are equal or one of them is 1 (a shared weight). attrs
 * { transposeA, transposeB }.
 */
export const MATMUL = "LlamatsMatMul";

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
function product(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean, batchOf: number): tf.Tensor {
  const c = tf.engine().runKernel<tf.Tensor>(MATMUL, { a, b }, { transposeA, transposeB });
  if (batchOf !== 1 || c.shape[0] === 1) return c;
  return tf.tidy(() => tf.sum(c, 0, true));
}

/**
 * dA and dB as products with transposes (no transpose dispatched): with C = op(A)·op(B), dop(A) = dC·op(B)ᵀ and
 * dop(B) = op(A)ᵀ·dC, each written back in its operand's stored layout.
 */
const gradient: tf.GradConfig = {
  kernelName: MATMUL,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const dc = dy as tf.Tensor;
    const tA = attrs.transposeA as boolean;
    const tB = attrs.transposeB as boolean;
    const batchA = a.shape[0];
    const batchB = b.shape[0];
    return {
      a: () => (tA ? product(b, dc, tB, true, batchA) : product(dc, b, false, !tB, batchA)),
      b: () => (tB ? product(dc, a, true, tA, batchB) : product(a, dc, !tA, false, batchB)),
    };
  },
};

export const matMulOp: LlamatsOp = {
  kernels: [
    {
      name: MATMUL,
      cpu: cpuMatMul,
      wasm: wasmMatMul,
      webgpu: webgpuMatMul,
    },
  ],
  gradients: [gradient],
};
