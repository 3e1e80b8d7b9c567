import type { GemmArgs } from "../kernels/wasm-kernels.js";

/** A matrix operand: floats of `array` from `offset` (wasm: views of one heap; cpu: each tensor's own array). */
export interface Buf {
  array: Float32Array;
  offset: number;
}

/** c[i] (+)= op(a[i]) · op(b[i]) for `batch` matrices: the wasm gemm's shape arguments, without its heap offsets. */
export type BatchedGemm = Omit<GemmArgs, "a" | "b" | "c" | "ldc">;

/** The matmul and in-place exp a host kernel runs on: llamats' SIMD kernels on the wasm heap, or JS_MATH's loops. */
export interface HostMath {
  gemm: (a: Buf, b: Buf, c: Buf, g: BatchedGemm) => void;
  exp: (x: Buf, count: number) => void;
}

/** `floats` further into the same array. */
export function at(buf: Buf, floats: number): Buf {
  return { array: buf.array, offset: buf.offset + floats };
}

/** Copies `count` floats (a native copy either way: within one heap, or between arrays). */
export function copyFloats(from: Buf, to: Buf, count: number): void {
  if (from.array === to.array) to.array.copyWithin(to.offset, from.offset, from.offset + count);
  else to.array.set(from.array.subarray(from.offset, from.offset + count), to.offset);
}

/** The JS matmul: dot products summed in double precision. */
function jsGemm(a: Buf, b: Buf, c: Buf, g: BatchedGemm): void {
  const { m, n, k } = g;
  // Strides of A(i, kk) and B(kk, j) in each layout.
  const [ai, ak] = g.transposeA ? [1, m] : [k, 1];
  const [bk, bj] = g.transposeB ? [1, k] : [n, 1];
  for (let t = 0; t < g.batch; t++) {
    const a0 = a.offset + t * g.strideA;
    const b0 = b.offset + t * g.strideB;
    const c0 = c.offset + t * g.strideC;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = g.accumulate ? c.array[c0 + i * n + j] : 0;
        for (let kk = 0; kk < k; kk++) sum += a.array[a0 + i * ai + kk * ak] * b.array[b0 + kk * bk + j * bj];
        c.array[c0 + i * n + j] = sum;
      }
    }
  }
}

/** cpu, and wasm without llamats' kernels. */
export const JS_MATH: HostMath = {
  gemm: jsGemm,
  exp: (x, count) => {
    for (let i = x.offset; i < x.offset + count; i++) x.array[i] = Math.exp(x.array[i]);
  },
};
