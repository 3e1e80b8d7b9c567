import * as tf from "@tensorflow/tfjs-core";
import { wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { WasmKernels } from "../kernels/wasm-kernels.js";
import { NF4_CODE } from "../quantize/nf4.js";
import { cpuKernelFunc, wasmKernelFunc, withEpilogue, type HostKernel, type WasmBackendLike } from "./host-kernel.js";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { packedAttrs, type PackedMatMulAttrs } from "./packed-matmul.attrs.js";
import { webgpuPackedMatMul, webgpuUnpackRows } from "./packed-matmul.webgpu.js";

/** x [rows, in], words, scales → x · Wᵀ [rows, out], W [out, in] unpacked inside the kernel. */
export const PACKED_MATMUL = "LlamatsPackedMatMul";
/** dy [rows, out], words, scales → dy · W [rows, in]: the gradient to x (the frozen weight gets none). */
export const PACKED_MATMUL_GRAD_X = "LlamatsPackedMatMulGradX";
/**
 * words, scales, ids [n] → W's rows ids [n, in] as float32: a lookup in a packed embedding table, or (every row) the
 * whole W for merging an adapter into a packed base.
 */
export const UNPACK_ROWS = "LlamatsUnpackRows";

const bitsScratch = new Int32Array(1);
const floatOfBits = new Float32Array(bitsScratch.buffer);

/** Row `o` of W as float32 (the kernels' unpacking, written plainly: the reference the C and WGSL ones match). */
function unpackRow(words: Int32Array, scales: Float32Array, a: PackedMatMulAttrs, o: number, row: Float32Array) {
  const cols = a.inFeatures;
  const base = o * cols;
  for (let k = 0; k < cols; k++) {
    const f = base + k;
    if (a.format === 1) {
      const word = words[f >> 1];
      bitsScratch[0] = f & 1 ? word & 0xffff0000 : word << 16;
      row[k] = floatOfBits[0];
    } else if (a.format === 2) {
      row[k] = ((words[f >> 2] << (24 - 8 * (f & 3))) >> 24) * scales[f >> 5];
    } else {
      const byte = (words[f >> 3] >>> (8 * ((f >> 1) & 3))) & 0xff;
      row[k] = NF4_CODE[f & 1 ? byte & 15 : byte >> 4] * scales[Math.floor(f / a.blockSize)];
    }
  }
}

function rowsOf(info: tf.TensorInfo): number {
  return info.shape.slice(0, -1).reduce((p, d) => p * d, 1);
}

/** Round half to even (wasm's f32x4.nearest), for values already rounded to float32. */
function nearestEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * y = x · Wᵀ for Q8_0 weights with each row of x quantized to int8 per 32-block (d = amax/127, q = nearest-even(x/d)
 * in float32, as the C kernel): the integer dot of each block, scaled by both blocks' d.
 */
export function q8ActivationMatMul(
  x: ArrayLike<number>,
  words: Int32Array,
  scales: Float32Array,
  a: PackedMatMulAttrs,
  rows: number,
  y: Float32Array,
): void {
  const k = a.inFeatures;
  const blocks = k / 32;
  const xq = new Int8Array(k);
  const xd = new Float32Array(blocks);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      let amax = 0;
      for (let t = 0; t < 32; t++) amax = Math.max(amax, Math.abs(x[r * k + b * 32 + t]));
      const d = Math.fround(amax / 127);
      const id = d !== 0 ? Math.fround(1 / d) : 0;
      xd[b] = d;
      for (let t = 0; t < 32; t++) xq[b * 32 + t] = nearestEven(Math.fround(x[r * k + b * 32 + t] * id));
    }
    for (let o = 0; o < a.outFeatures; o++) {
      let total = 0;
      for (let b = 0; b < blocks; b++) {
        let isum = 0;
        for (let t = 0; t < 32; t++) {
          const f = o * k + b * 32 + t;
          isum += xq[b * 32 + t] * ((words[f >> 2] << (24 - 8 * (f & 3))) >> 24);
        }
        total += isum * Math.fround(xd[b] * scales[o * blocks + b]);
      }
      y[r * a.outFeatures + o] = total;
    }
  }
}

/** y[r, o] = Σ_k x[r, k] · W[o, k], summed in double, one unpacked row of W at a time. */
const forwardHost: HostKernel = {
  inputs: ["x", "words", "scales"],
  outputShapes: ({ x }, attrs) => [[...x.shape.slice(0, -1), packedAttrs(attrs).outFeatures]],
  run: ({ x, words, scales }, [y], infos, attrs) => {
    const a = packedAttrs(attrs);
    const rows = rowsOf(infos.x);
    if (a.quantizeActivations && a.format === 2)
      return q8ActivationMatMul(x, words as Int32Array, scales as Float32Array, a, rows, y);
    const row = new Float32Array(a.inFeatures);
    for (let o = 0; o < a.outFeatures; o++) {
      unpackRow(words as Int32Array, scales as Float32Array, a, o, row);
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        const x0 = r * a.inFeatures;
        for (let k = 0; k < a.inFeatures; k++) sum += x[x0 + k] * row[k];
        y[r * a.outFeatures + o] = sum;
      }
    }
  },
};

/** dx[r, k] = Σ_o dy[r, o] · W[o, k], summed in double. */
const gradXHost: HostKernel = {
  inputs: ["dy", "words", "scales"],
  outputShapes: ({ dy }, attrs) => [[...dy.shape.slice(0, -1), packedAttrs(attrs).inFeatures]],
  run: ({ dy, words, scales }, [dx], infos, attrs) => {
    const a = packedAttrs(attrs);
    const rows = rowsOf(infos.dy);
    const sums = new Float64Array(rows * a.inFeatures);
    const row = new Float32Array(a.inFeatures);
    for (let o = 0; o < a.outFeatures; o++) {
      unpackRow(words as Int32Array, scales as Float32Array, a, o, row);
      for (let r = 0; r < rows; r++) {
        const g = dy[r * a.outFeatures + o];
        if (g === 0) continue;
        const d0 = r * a.inFeatures;
        for (let k = 0; k < a.inFeatures; k++) sums[d0 + k] += g * row[k];
      }
    }
    dx.set(sums);
  },
};

/** The rows `ids` of W, each unpacked as unpackRow does. */
const unpackRowsHost: HostKernel = {
  inputs: ["words", "scales", "ids"],
  outputShapes: ({ ids }, attrs) => [[ids.shape[0], packedAttrs(attrs).inFeatures]],
  run: ({ words, scales, ids }, [w], _infos, attrs) => {
    const a = packedAttrs(attrs);
    for (let r = 0; r < ids.length; r++)
      unpackRow(
        words as Int32Array,
        scales as Float32Array,
        a,
        ids[r],
        w.subarray(r * a.inFeatures, (r + 1) * a.inFeatures),
      );
  },
};

/** On wasm: llamats' C kernel (threaded, SIMD micro-kernel on unpacked panels); the JS loops without it. */
function wasmKernel(name: string, host: HostKernel, forward: boolean): tf.KernelFunc {
  const fallback = wasmKernelFunc(name, host);
  return (args: KernelArgs) => {
    const kernels = wasmKernelsInstalled() ? WasmKernels.get() : null;
    if (!kernels) return fallback(args as never);
    const { words, scales } = args.inputs as Record<string, tf.TensorInfo>;
    const input = (forward ? args.inputs.x : args.inputs.dy) as tf.TensorInfo;
    const a = packedAttrs(args.attrs);
    const m = rowsOf(input);
    const [n, k] = forward ? [a.outFeatures, a.inFeatures] : [a.inFeatures, a.outFeatures];
    const out = (args.backend as WasmBackendLike).makeOutput([...input.shape.slice(0, -1), n], "float32");
    if (forward && a.quantizeActivations && a.format === 2 && m > 0 && n > 0) {
      kernels.q8MatMul({
        x: kernels.offsetOf(input),
        words: kernels.offsetOf(words),
        scales: kernels.offsetOf(scales),
        y: kernels.offsetOf(out),
        m,
        n,
        k,
      });
    } else if (m > 0 && n > 0) {
      kernels.packedMatMul({
        a: kernels.offsetOf(input),
        words: kernels.offsetOf(words),
        scales: kernels.offsetOf(scales),
        c: kernels.offsetOf(out),
        m,
        n,
        k,
        format: a.format,
        blockSize: a.blockSize,
        cols: a.inFeatures,
        transposedWeight: forward,
      });
    }
    return out;
  };
}

/** dx only: the words and scales are frozen data (int32 codes cannot be trained). */
const gradient: tf.GradConfig = {
  kernelName: PACKED_MATMUL,
  inputsToSave: ["words", "scales"],
  gradFunc: (dy, saved, attrs) => {
    const [words, scales] = saved;
    return {
      x: () => tf.engine().runKernel<tf.Tensor>(PACKED_MATMUL_GRAD_X, { dy: dy as tf.Tensor, words, scales }, attrs),
      addend: () => dy as tf.Tensor,
    };
  },
};

export const packedMatMulOp: LlamatsOp = {
  kernels: [
    {
      name: PACKED_MATMUL,
      cpu: withEpilogue(cpuKernelFunc(PACKED_MATMUL, forwardHost), "cpu"),
      wasm: withEpilogue(wasmKernel(PACKED_MATMUL, forwardHost, true), "wasm"),
      webgpu: (args: KernelArgs) => webgpuPackedMatMul(args, true),
    },
    {
      name: PACKED_MATMUL_GRAD_X,
      cpu: cpuKernelFunc(PACKED_MATMUL_GRAD_X, gradXHost),
      wasm: wasmKernel(PACKED_MATMUL_GRAD_X, gradXHost, false),
      webgpu: (args: KernelArgs) => webgpuPackedMatMul(args, false),
    },
    {
      name: UNPACK_ROWS,
      cpu: cpuKernelFunc(UNPACK_ROWS, unpackRowsHost),
      wasm: wasmKernelFunc(UNPACK_ROWS, unpackRowsHost),
      webgpu: webgpuUnpackRows,
    },
  ],
  gradients: [gradient],
};
